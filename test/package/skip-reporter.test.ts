// The skip reporter (test/helpers/skip-reporter.ts), run as `npm test` runs
// it, on a fixture that skips in every way the suites do, with a PATH that
// hides every tool but `sh`: each skipped test is listed with its reason.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = 'test/fixtures/skip-reasons/skips.fixture.ts';
const bin = mkdtempSync(join(tmpdir(), 'atomik-path-'));
symlinkSync('/bin/sh', join(bin, 'sh'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('skip reporter', () => {
  it('lists every skipped test, file › suites › test — reason, and nothing that ran', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, NO_COLOR: '1' };
    delete env.ATOMIK_REQUIRE_BOARDS; // the fixture's skips are the point here
    const vitest = join(root, 'node_modules/vitest/vitest.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [vitest, 'run', '--config', 'test/fixtures/skip-reasons/vitest.config.ts'], {
      cwd: root,
      env,
    });
    const section = stdout.slice(stdout.indexOf(' Skipped ('));
    expect(section.split('\n').slice(0, 8)).toEqual([
      ' Skipped (6):',
      `   ${fixture} › a suite that needs socat › first test — socat not installed (apt-get install socat)`,
      `   ${fixture} › a suite that needs socat › an inner suite › second test — socat not installed (apt-get install socat)`,
      `   ${fixture} › a test that needs redis-server — redis-server not installed (apt-get install redis-server)`,
      `   ${fixture} › a test that decides at run time — the board reported no add group`,
      `   ${fixture} › a test whose reason has line breaks — an error message with a second line`,
      `   ${fixture} › a test skipped without a reason — no reason given`,
      '',
    ]);
    expect(stdout).toMatch(/Tests {2}1 passed \| 6 skipped \(7\)/);
  });
});
