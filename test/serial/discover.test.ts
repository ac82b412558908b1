// Finding boards on a machine without udev (most containers): listPorts()
// says why it cannot list with a code, and findBoards() reads the ports
// from /sys instead of reporting none for the wrong reason.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KNOWN_BOARDS, listSysPorts } from '../../lib/serial/discover.js';

const entry = fileURLToPath(new URL('../../dist/serial.js', import.meta.url));

describe('board discovery without udev', () => {
  it.skipIf(!existsSync('/sys/class/tty'))('listPorts() rejects with ERR_ATOMIK_MISSING_TOOL; findBoards() lists from /sys', async () => {
    // A PATH holding only node: udevadm cannot be found.
    const script = `
      const { listPorts, findBoards } = await import(${JSON.stringify(entry)});
      const listed = await listPorts().then((p) => ({ ports: p.length }), (e) => ({ code: e.code, message: e.message.slice(0, 60) }));
      console.log(JSON.stringify({ listed, boards: await findBoards(['1d6b:0002', ...Object.keys(${JSON.stringify(KNOWN_BOARDS)})]) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: dirname(process.execPath) } });
    const out = JSON.parse(stdout) as { listed: unknown; boards: unknown };
    expect(out.listed).toEqual({ code: 'ERR_ATOMIK_MISSING_TOOL', message: 'cannot list serial ports: udevadm is missing (install the ud' });
    const ids = ['1d6b:0002', ...Object.keys(KNOWN_BOARDS)];
    expect(out.boards).toEqual(listSysPorts(KNOWN_BOARDS, ids).filter((p) => p.board));
  });
});
