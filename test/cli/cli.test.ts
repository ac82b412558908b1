// The atomik-node command line, run as a user would (the built dist/cli.cjs).
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  it('prints the full usage, and refuses unknown commands and missing arguments with a code, once, and a non-zero exit', async () => {
    const usage = await run(['help']);
    expect(usage.stdout).toMatch(/^usage:\n {2}atomik-node devices/);
    // every line of every command's help, not the first only
    expect(usage.stdout).toContain('      directory that exists; an existing file there is never replaced). Ctrl-C stops it.\n');
    expect((await run([])).stdout).toBe(usage.stdout);
    const err = async (args: string[]) => {
      const r = await run(args);
      return [r.code, r.stdout, r.stderr];
    };
    const commands = 'the commands are devices, probe, emulate, flash, inspect';
    expect(await err(['frobnicate'])).toEqual([1, '', `atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: unknown command 'frobnicate'; ${commands}\n`]);
    // names inherited from Object.prototype are not commands
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty'])
      expect(await err([name])).toEqual([1, '', `atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: unknown command '${name}'; ${commands}\n`]);
    expect(await err(['help', 'toString'])).toEqual([1, '', `atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: unknown command 'toString'; ${commands}\n`]);
    expect(await err(['help', 'emulat'])).toEqual([
      1,
      '',
      `atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: unknown command 'emulat' (did you mean emulate?); ${commands}\n`,
    ]);
    expect(await err(['probe'])).toEqual([
      1,
      '',
      'atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: probe needs the port to probe (it never writes to a port you did not name)\n',
    ]);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V', 'version']) expect(await run([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('checks every flag as the library checks its option, naming the flag', async () => {
    const err = async (...args: string[]) => {
      const r = await run(args);
      return [r.code, r.stdout, r.stderr.trim()];
    };
    const refused = (message: string, code = 'ERR_ATOMIK_INVALID_ARG_VALUE') => [1, '', `atomik-node: ${code}: ${message}`];
    expect(await err('emulate', '--board', 'fpga')).toEqual(refused('--board must be host, cortex-m3, rtl, got fpga'));
    expect(await err('emulate', '--baud', 'fast')).toEqual(refused('--baud must be an integer in [300, 100000000], got fast'));
    expect(await err('emulate', '--contexts', '999999999')).toEqual(refused('--contexts must be in [1, 65535], got 999999999', 'ERR_ATOMIK_OUT_OF_RANGE'));
    expect(await err('emulate', '--contexts=0')).toEqual(refused('--contexts must be in [1, 65535], got 0', 'ERR_ATOMIK_OUT_OF_RANGE'));
    expect(await err('emulate', '--lnk', '/tmp/x')).toEqual(refused('emulate has no flag --lnk (did you mean --link?)'));
    expect(await err('emulate', '--legacy=yes')).toEqual(refused('--legacy takes no value'));
    expect(await err('emulate', '--link')).toEqual(refused('--link needs a value'));
    expect(await err('emulate', 'extra')).toEqual(refused('unexpected argument(s): extra'));
    expect(await err('probe', '--baud', '10', '/dev/null')).toEqual(refused('--baud must be in [50, 20000000], got 10', 'ERR_ATOMIK_OUT_OF_RANGE'));
    expect(await err('probe', '--baud', '9600', '--baud', '19200', '/dev/null')).toEqual(refused('--baud is given twice'));
    expect(await err('devices', '--ids', 'zz')).toEqual(refused('--ids takes USB ids as VID:PID in hex (0403:6010), got zz'));
    expect(await err('devices', '--id', '0403:6010')).toEqual(refused('devices has no flag --id (did you mean --ids?)'));
    expect(await err('flash', '--board', '__proto__', 'x.fs')).toEqual(refused('--board must be tangnano9k or ice40, got __proto__'));
  });

  it('emulate --link refuses a path that socat would read as a command, and never replaces a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomik-link-'));
    try {
      const pwned = join(dir, 'pwned');
      const r = await run(['emulate', '--board', 'cortex-m3', '--link', `${dir}/p!!SYSTEM:touch ${pwned}`]);
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toBe(
        `atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: options.link may hold only letters, digits and _ . / + @ = -, got ${JSON.stringify(`${dir}/p!!SYSTEM:touch ${pwned}`)}\n`,
      );
      expect(existsSync(pwned)).toBe(false);
      const notes = join(dir, 'notes.txt');
      writeFileSync(notes, 'mine');
      expect((await run(['emulate', '--link', notes])).stderr).toBe(
        `atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: options.link ${notes} exists and is not a board's link to a pseudo-terminal; it is left untouched\n`,
      );
      expect(readFileSync(notes, 'utf8')).toBe('mine');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

  it('requireTools names the Debian package of every tool a board needs, all missing ones in one message', () => {
    const saved = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'atomik-empty-'));
    const message = (...tools: string[]) => {
      try {
        requireTools('the board', ...tools);
        return 'no error';
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`;
      }
    };
    try {
      for (const [tool, pkg] of Object.entries(TOOL_PACKAGES))
        expect(message(tool)).toBe(`ERR_ATOMIK_MISSING_TOOL: the board needs ${tool}, which is not installed (Debian: apt-get install ${pkg})`);
      expect(message('qemu-system-arm', 'socat', 'make', 'arm-none-eabi-gcc', 'socat')).toBe(
        'ERR_ATOMIK_MISSING_TOOL: the board needs qemu-system-arm, socat, make, arm-none-eabi-gcc, which are not installed ' +
          '(Debian: apt-get install qemu-system-arm socat make gcc-arm-none-eabi)',
      );
      // own keys only: a tool called like an Object.prototype member is its own package
      expect(message('constructor')).toBe('ERR_ATOMIK_MISSING_TOOL: the board needs constructor, which is not installed (Debian: apt-get install constructor)');
    } finally {
      rmSync(process.env.PATH, { recursive: true, force: true });
      process.env.PATH = saved;
    }
    expect(() => requireTools('the board', 'sh')).not.toThrow();
  });

  it('a missing tool is one line naming every missing Debian package at once', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'atomik-path-'));
    const cacheDir = mkdtempSync(join(tmpdir(), 'atomik-cache-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await run(['emulate', '--board', 'cortex-m3'], { ...process.env, PATH: bin, ATOMIK_CACHE_DIR: cacheDir });
    rmSync(bin, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
    expect([r.code, r.stderr]).toEqual([
      1,
      'atomik-node: ERR_ATOMIK_MISSING_TOOL: the cortex-m3 board needs qemu-system-arm, socat, make, arm-none-eabi-gcc, which are not installed ' +
        '(Debian: apt-get install qemu-system-arm socat make gcc-arm-none-eabi)\n',
    ]);
  });

  it('devices without udevadm reads /sys/class/tty and says so', async () => {
    // A PATH holding only node: udevadm cannot be found, as on a machine without udev.
    const bin = mkdtempSync(join(tmpdir(), 'atomik-path-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await run(['devices'], { ...process.env, PATH: bin });
    rmSync(bin, { recursive: true, force: true });
    expect([r.code, r.stderr]).toEqual([0, '(ports read from /sys/class/tty and /dev/serial/by-id: udevadm is not installed)\n']);
    // The ttys the kernel backs with a device, in name order (consoles and PTYs have none).
    const ttys = readdirSync('/sys/class/tty')
      .sort()
      .filter((name) => {
        try {
          return readlinkSync(`/sys/class/tty/${name}/device`) !== '';
        } catch {
          return false;
        }
      });
    expect(r.stdout.split('\n').map((line) => line.split(' ')[0])).toEqual(ttys.length ? [...ttys.map((t) => `/dev/${t}`), ''] : ['no', '']);
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
