// atomik flash: the exact command for each board (dry run), the checks made
// before anything runs, and what a user sees when the tool fails or is missing.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flashCommand, shellLine } from '../../lib/board/flash.js';
import { missing } from '../helpers/tools.js';
import { run } from '../helpers/cli.js';
import { itUnless } from '../helpers/skip.js';

const dir = mkdtempSync(join(tmpdir(), 'atomik flash '));
const fs = join(dir, 'tangnano9k.fs');
const bin = join(dir, 'icebreaker.bin');
writeFileSync(fs, 'not a real bitstream');
writeFileSync(bin, 'not a real bitstream');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atomik flash', () => {
  it('--dry-run prints the exact command, quoted for a shell, and runs nothing', async () => {
    const q = (p: string) => `'${p}'`; // the temporary folder has a space in its name
    expect(await run(['flash', '--board', 'tangnano9k', fs, '--dry-run'])).toEqual({
      code: 0,
      stdout: `openFPGALoader -b tangnano9k -f ${q(fs)}\n`,
      stderr: '',
    });
    expect((await run(['flash', '--board', 'tangnano9k', '--sram', fs, '--dry-run'])).stdout).toBe(`openFPGALoader -b tangnano9k ${q(fs)}\n`);
    expect((await run(['flash', '--dry-run', '--board', 'ice40', bin])).stdout).toBe(`iceprog ${q(bin)}\n`);
    expect((await run(['flash', '--board', 'ice40', bin, '--sram', '--dry-run'])).stdout).toBe(`iceprog -S ${q(bin)}\n`);
  });

  it('a relative path becomes absolute, so a file name is never taken for an option', () => {
    expect(flashCommand({ board: 'ice40', bitstream: relative(process.cwd(), bin) })).toEqual({ command: 'iceprog', args: [bin] });
    expect(shellLine('a', ['b c', "it's", '-x', '/p/q.fs'])).toBe(`a 'b c' 'it'\\''s' -x /p/q.fs`);
  });

  it('checks the board, the file and its kind before anything runs', async () => {
    const err = async (args: string[]) => {
      const r = await run(args);
      return [r.code, r.stdout, r.stderr.trim()];
    };
    expect(await err(['flash', fs])).toEqual([1, '', 'atomik-node: flash needs --board tangnano9k or --board ice40']);
    expect(await err(['flash', '--board', 'ecp5', fs])).toEqual([1, '', 'atomik-node: board must be tangnano9k or ice40, got ecp5']);
    expect(await err(['flash', '--board', 'ice40'])).toEqual([1, '', 'atomik-node: flash needs the bitstream file']);
    expect(await err(['flash', '--board', 'ice40', fs])).toEqual([1, '', `atomik-node: ice40 bitstreams are .bin files, got ${fs}`]);
    expect(await err(['flash', '--board', 'tangnano9k', join(dir, 'missing.fs')])).toEqual([
      1,
      '',
      `atomik-node: cannot read the bitstream ${join(dir, 'missing.fs')}`,
    ]);
    expect(await err(['flash', '--board', 'ice40', bin, 'extra'])).toEqual([1, '', 'atomik-node: unexpected argument(s): extra']);
  });

  it('says which package to install when the tool is missing', async () => {
    const path = mkdtempSync(join(tmpdir(), 'atomik-path-'));
    symlinkSync(process.execPath, join(path, 'node'));
    const r = await run(['flash', '--board', 'tangnano9k', fs], { ...process.env, PATH: path });
    rmSync(path, { recursive: true, force: true });
    expect([r.code, r.stderr.trim()]).toEqual([
      1,
      'atomik-node: flashing needs openFPGALoader, which is not installed (Debian: apt-get install openfpgaloader)',
    ]);
  });

  const noIceprog = missing('iceprog');
  itUnless(noIceprog, "reports the tool's failure: iceprog with no board attached", async () => {
    const r = await run(['flash', '--board', 'ice40', bin]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`iceprog '${bin}'\n`);
    expect(r.stderr).toContain("Can't find iCE FTDI USB device");
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`atomik-node: iceprog failed (exit code 2): iceprog '${bin}'`);
  });
});
