// The atomik-node command line, run as a user would (the built dist/cli.cjs).
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBoard } from '../../lib/board/index.js';
import { TOOL_PACKAGES, requireTools } from '../../lib/board/emulate.js';
import { missing } from '../helpers/tools.js';
import { emulate, run } from '../helpers/cli.js';
import { itUnless } from '../helpers/skip.js';

const noBoard = missing('make', 'cc');

describe('atomik-node CLI', () => {
  it('prints usage, and rejects unknown commands and missing arguments', async () => {
    expect((await run(['help'])).stdout).toMatch(/^usage:\n {2}atomik-node devices/);
    const bad = await run(['frobnicate']);
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([1, "atomik-node: unknown command 'frobnicate'"]);
    const noPort = await run(['probe']);
    expect([noPort.code, noPort.stderr.trim()]).toEqual([1, 'atomik-node: probe needs the port to probe (it never writes to a port you did not name)']);
    expect((await run(['emulate', '--board', 'fpga'])).stderr.trim()).toBe('atomik-node: --board must be host, cortex-m3 or rtl, got fpga');
    expect((await run(['emulate', '--baud', 'fast'])).stderr.trim()).toBe('atomik-node: --baud must be a positive integer, got fast');
  });

  it('every subcommand answers --help and -h with its own usage, and does nothing else', async () => {
    for (const command of ['devices', 'probe', 'emulate', 'flash']) {
      for (const asked of [
        [command, '--help'],
        [command, '-h'],
        ['help', command],
      ]) {
        const r = await run(asked);
        expect([r.code, r.stderr]).toEqual([0, '']);
        expect(r.stdout).toMatch(new RegExp(`^usage: atomik-node ${command}( |\n)`));
      }
    }
    expect((await run(['probe', '/dev/nonexistent', '--help'])).code).toBe(0); // never opens the port
  });

  it('requireTools names the Debian package of every tool a board needs', () => {
    const saved = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'atomik-empty-'));
    try {
      for (const [tool, pkg] of Object.entries(TOOL_PACKAGES)) {
        let message = '';
        try {
          requireTools('the board', tool);
        } catch (err) {
          message = `${(err as { code: string }).code}: ${(err as Error).message}`;
        }
        expect(message).toBe(`ERR_ATOMIK_MISSING_TOOL: the board needs ${tool}, which is not installed (Debian: apt-get install ${pkg})`);
      }
    } finally {
      rmSync(process.env.PATH, { recursive: true, force: true });
      process.env.PATH = saved;
    }
    expect(() => requireTools('the board', 'sh')).not.toThrow();
  });

  it('a missing tool is one line naming the Debian package', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'atomik-path-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await run(['emulate', '--board', 'cortex-m3'], { ...process.env, PATH: bin });
    rmSync(bin, { recursive: true, force: true });
    expect(r.code).toBe(1);
    // make is checked only when the firmware image must be built first
    expect([
      'atomik-node: the cortex-m3 board needs qemu-system-arm, which is not installed (Debian: apt-get install qemu-system-arm)\n',
      'atomik-node: building the cortex-m3 firmware needs make, which is not installed (Debian: apt-get install make)\n',
    ]).toContain(r.stderr);
  });

  it('devices explains a missing udevadm instead of crashing', async () => {
    // A PATH holding only node: udevadm cannot be found, as on a machine without udev.
    const bin = mkdtempSync(join(tmpdir(), 'atomik-path-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await run(['devices'], { ...process.env, PATH: bin });
    rmSync(bin, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'atomik-node: cannot list serial ports: udevadm is missing (install the udev package), or pass the port path explicitly (spawn udevadm ENOENT)',
    );
  });

  itUnless(noBoard, 'probe names the dialect and what the board reports', async () => {
    const framed = await startBoard({ contexts: 77 });
    const legacy = await startBoard({ legacy: true });
    try {
      expect((await run(['probe', framed.port])).stdout).toBe(
        `${framed.port}: atomik framed protocol v2, firmware 0.1.0 on 'host-board'\n` +
          '  77 contexts, groups xor and add, up to 256 ops and 2304 bytes a frame, replay cache 255\n',
      );
      expect((await run(['probe', legacy.port])).stdout).toBe(
        `${legacy.port}: official ATOMiK FPGA protocol (L/A/R/S/D, one context, xor); accumulator clean\n`,
      );
    } finally {
      await framed.stop();
      await legacy.stop();
    }
  });

  itUnless(noBoard, 'emulate prints the port, serves it, and stops cleanly on SIGTERM', async () => {
    const { child, port } = await emulate('--contexts', '8');
    expect((await run(['probe', port])).stdout).toContain('8 contexts');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });
});
