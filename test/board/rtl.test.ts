// Our Verilog under Verilator: the RTL unit tests (UART, both dialects,
// the golden vectors, the differential runs against the C device core), and
// the rtl board from the command line. The
// conformance suite and the fault-line tests run it too (test/serial/backends.test.ts,
// test/serial/serial-faults.test.ts).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { startBoard } from '../../lib/board/index.js';
import { RTL_TEST_BAUD, noRtl } from '../helpers/boards.js';
import { describeUnless } from '../helpers/skip.js';
import { emulate, run } from '../helpers/cli.js';

const firmware = fileURLToPath(new URL('../../firmware', import.meta.url));

/** Runs `atomik emulate --board rtl ...` as a user would, until it prints the port. */
/** `atomik-node emulate --board rtl` at the test line rate. */
const emulateRtl = (...args: string[]) => emulate('--board', 'rtl', '--baud', String(RTL_TEST_BAUD), ...args);

describeUnless(noRtl, `RTL under Verilator`, () => {
  it('unit tests: UART, both dialects, golden vectors, differential runs against the C core', async () => {
    const { stdout } = await promisify(execFile)('make', ['-s', '-C', firmware, 'rtl-test'], { maxBuffer: 1 << 24 });
    const lines = stdout.trim().split('\n');
    const legacy = lines.slice(lines.indexOf('RTL official dialect, 16 clocks per bit') + 1, lines.indexOf('RTL framed protocol, 16 clocks per bit'));
    const framed = lines.slice(lines.indexOf('RTL framed protocol, 16 clocks per bit') + 1);
    for (const [results, golden] of [
      [legacy, 'official dialect'],
      [framed, 'framed protocol'],
    ] as const) {
      expect(results.filter((l) => !l.startsWith('ok   ') && !l.endsWith('checks passed'))).toEqual([]);
      expect(results.at(-1)).toBe(`${results.length - 1} checks passed`);
      expect(results.filter((l) => l.startsWith(`ok   golden vector, ${golden}`))).toHaveLength(golden === 'framed protocol' ? 16 : 8);
      expect(results.filter((l) => /^ok {3}differential vs the C core, seed \d: .*, identical$/.test(l))).toHaveLength(3);
    }
  }, 300_000);

  it('emulate --board rtl --legacy prints the port, answers as the official board, and stops on SIGTERM', async () => {
    const { child, port } = await emulateRtl('--legacy');
    const { stdout } = await run(['probe', port]);
    expect(stdout).toBe(`${port}: official ATOMiK FPGA protocol (L/A/R/S/D, one context, xor); accumulator clean\n`);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  }, 120_000);

  it("emulate --board rtl (framed) --contexts: HELLO advertises the design's limits", async () => {
    const { child, port } = await emulateRtl('--contexts', '100');
    const { stdout } = await run(['probe', port]);
    expect(stdout).toBe(
      `${port}: atomik framed protocol v1, firmware 0.1.0 on 'atomik-rtl'\n` +
        '  100 contexts, groups xor and add, up to 32 ops and 1024 bytes a frame, replay cache 16\n',
    );
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  }, 120_000);

  it('rejects options the rtl board does not have, before building anything', async () => {
    await expect(startBoard({ board: 'rtl', legacy: true, contexts: 4 })).rejects.toThrow(
      'the rtl board in the official protocol has one context: contexts is for the framed rtl board',
    );
    await expect(startBoard({ board: 'rtl', contexts: 0 })).rejects.toThrow('options.contexts must be in [1, 65535], got 0');
    await expect(startBoard({ board: 'rtl', legacy: true, baud: 4_000_000 })).rejects.toThrow('baud 4000000 is too fast for a 27 MHz design (at most 3375000)');
    await expect(startBoard({ board: 'rtl', contexts: 1.5 })).rejects.toMatchObject({ name: 'AtomikTypeError', code: 'ERR_ATOMIK_INVALID_ARG_TYPE' });
    await expect(startBoard({ board: 'rtl', legacy: true, baud: 4_000_000 })).rejects.toMatchObject({ code: 'ERR_ATOMIK_OUT_OF_RANGE' });
  });
});
