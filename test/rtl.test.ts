// Our Verilog under Verilator: the RTL unit tests (UART, the official
// dialect and its quirks, the golden vectors, the differential run against
// the C device core), and the rtl board from the command line. The
// conformance suite and the fault-line tests run it too (backends.test.ts,
// serial-faults.test.ts).
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startBoard } from '../lib/board/index.js';
import { RTL_TEST_BAUD, noRtl } from './helpers/boards.js';

const firmware = fileURLToPath(new URL('../firmware', import.meta.url));
const cli = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));

describe.skipIf(noRtl !== null)(`RTL under Verilator${noRtl ? ` (skipped: ${noRtl})` : ''}`, () => {
  it('unit tests: UART, official dialect and quirks, golden vectors, differential against the C core', async () => {
    const { stdout } = await promisify(execFile)('make', ['-s', '-C', firmware, 'rtl-test'], { maxBuffer: 1 << 24 });
    const lines = stdout.trim().split('\n');
    const results = lines.slice(lines.indexOf('RTL official dialect, 16 clocks per bit') + 1);
    expect(results.filter((l) => !l.startsWith('ok   ') && !l.endsWith('checks passed'))).toEqual([]);
    expect(results.filter((l) => l.startsWith('ok   golden vector, official dialect'))).toHaveLength(8);
    for (const seed of [1, 2, 3]) expect(results.some((l) => l.startsWith(`ok   differential vs the C core, seed ${seed}: 6000 bytes in,`))).toBe(true);
    expect(results.at(-1)).toBe(`${results.length - 1} checks passed`);
  }, 120_000);

  it('emulate --board rtl --legacy prints the port, answers as the official board, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli, 'emulate', '--board', 'rtl', '--legacy', '--baud', String(RTL_TEST_BAUD)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/^PORT (\S+)\n/);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error('emulate exited early')));
    });
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'probe', port]);
    expect(stdout).toBe(`${port}: official ATOMiK FPGA protocol (L/A/R/S/D, one context, xor); accumulator clean\n`);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  }, 120_000);

  it('rejects options the rtl board does not have, before building anything', async () => {
    await expect(startBoard({ board: 'rtl' })).rejects.toThrow('the rtl board speaks the official FPGA protocol so far: pass legacy (--legacy)');
    await expect(startBoard({ board: 'rtl', legacy: true, contexts: 4 })).rejects.toThrow('--contexts is a host-board option');
    await expect(startBoard({ board: 'rtl', legacy: true, baud: 4_000_000 })).rejects.toThrow('baud 4000000 is too fast for a 27 MHz design (at most 3375000)');
  });
});
