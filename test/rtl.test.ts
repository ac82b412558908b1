// Our Verilog under Verilator: the RTL unit tests (UART, both dialects,
// the golden vectors, the differential runs against the C device core), the
// rtl board from the command line, and reconnecting to it (protocol v2: a
// board that did not reboot is continued, one that did is reported). The
// conformance suite and the fault-line tests run it too (backends.test.ts,
// serial-faults.test.ts).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { DeviceError, open } from '../lib/index.js';
import { startBoard, startFaultLine } from '../lib/board/index.js';
import { RTL_TEST_BAUD, noRtl } from './helpers/boards.js';
import { describeUnless } from './helpers/skip.js';
import { emulate, run } from './helpers/cli.js';

const firmware = fileURLToPath(new URL('../firmware', import.meta.url));

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
      expect(results.filter((l) => l.startsWith(`ok   golden vector, ${golden}`))).toHaveLength(golden === 'framed protocol' ? 20 : 8);
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
      `${port}: atomik framed protocol v2, firmware 0.1.0 on 'atomik-rtl'\n` +
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

  const deltas = (n: number) => BigUint64Array.from({ length: n }, (_, i) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn);

  it('a cable pulled and plugged back mid-run: the client continues the same session, nothing lost or applied twice', async () => {
    const board = await startBoard({ board: 'rtl', contexts: 16, baud: RTL_TEST_BAUD });
    const line = await startFaultLine(board.port, { seed: 11 });
    const acc = await open({ backend: 'serial', port: line.port, lock: false, baudRate: RTL_TEST_BAUD, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    try {
      await acc.batch(Array.from({ length: 8 }, (_, index) => ({ op: 'load' as const, index, value: 0n })));
      const d = deltas(1200);
      const first = Promise.all(Array.from(d.subarray(0, 600), (v, k) => acc.accum(k % 8, v)));
      await line.unplug(); // with frames of the first half in flight
      const second = Promise.all(Array.from(d.subarray(600), (v, k) => acc.accum(k % 8, v))); // queued while the port is away
      await new Promise((r) => setTimeout(r, 150));
      await line.replug();
      await Promise.all([first, second]);
      const expected = Array.from({ length: 8 }, (_, i) => d.filter((_, k) => k % 8 === i).reduce((a, b) => a ^ b, 0n));
      expect(await acc.gather(Uint32Array.from({ length: 8 }, (_, i) => i))).toEqual(BigUint64Array.from(expected));
      expect(acc.link!.reconnects).toBe(1);
    } finally {
      await acc.close();
      await line.stop();
      await board.stop();
    }
  }, 180_000);

  it('an rtl board restarted mid-run (a new boot id, session 0) is reported as rebooted, never continued', async () => {
    const board = await startBoard({ board: 'rtl', contexts: 4, baud: RTL_TEST_BAUD });
    const acc = await open({ backend: 'serial', port: board.port, lock: false, baudRate: RTL_TEST_BAUD, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    try {
      await acc.load(0, 5n);
      const pending = acc.accumMany(0, deltas(20_000)).then(
        () => null,
        (e: unknown) => e,
      );
      await board.restart();
      const error = (await pending) as DeviceError;
      expect(error).toBeInstanceOf(DeviceError);
      expect(error.deviceCode).toBe('REBOOTED');
      expect(error.message).toMatch(
        /^the board at \S+ rebooted or was opened by another host while the port was away \(its session is 0, boot id [1-9]\d*\): its contexts are gone/,
      );
      const again = await open({ backend: 'serial', port: board.port, lock: false, baudRate: RTL_TEST_BAUD });
      expect(await again.read(0)).toBe(0n);
      await again.close();
    } finally {
      await acc.close();
      await board.stop();
    }
  }, 180_000);
});
