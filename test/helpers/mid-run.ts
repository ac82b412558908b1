// Two reconnect scenarios through real PTYs, run on the host board and on
// the rtl board alike: a cable pulled and plugged back mid-run (the client
// continues the same session: every delta lands exactly once), and a board
// restarted mid-run (reported REBOOTED, never continued).
import { expect } from 'vitest';
import { DeviceError, open } from '../../lib/index.js';
import { startFaultLine, type VirtualBoard } from '../../lib/board/index.js';

export const deltas = (n: number, from = 1) => BigUint64Array.from({ length: n }, (_, i) => (BigInt(i + from) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn);
const RECONNECT = { initialDelayMs: 20, maxDelayMs: 100 };

/** Sends `n` accumulates over 8 contexts, the cable pulled after the first half and plugged back 150 ms later. */
export async function cablePulledMidRun(board: VirtualBoard, baudRate: number, n: number, seed: number): Promise<void> {
  const line = await startFaultLine(board.port, { seed });
  const acc = await open({ backend: 'serial', port: line.port, lock: false, baudRate, reconnect: RECONNECT });
  try {
    await acc.batch(Array.from({ length: 8 }, (_, index) => ({ op: 'load' as const, index, value: 0n })));
    const d = deltas(n);
    const first = Promise.all(Array.from(d.subarray(0, n / 2), (v, k) => acc.accum(k % 8, v)));
    await line.unplug(); // with frames of the first half in flight
    const second = Promise.all(Array.from(d.subarray(n / 2), (v, k) => acc.accum(k % 8, v))); // queued while the port is away
    await new Promise((r) => setTimeout(r, 150));
    await line.replug();
    await Promise.all([first, second]);
    const expected = Array.from({ length: 8 }, (_, i) => d.filter((_, k) => k % 8 === i).reduce((a, b) => a ^ b, 0n));
    expect(await acc.gather(Uint32Array.from({ length: 8 }, (_, i) => i))).toEqual(BigUint64Array.from(expected));
    expect(acc.link!.reconnects).toBe(1);
  } finally {
    await acc.close();
    await line.stop();
  }
}

/**
 * A run of `n` deltas on context 0, the board restarted under it: REBOOTED,
 * and a fresh open sees state 0. `baudRate`: the line rate the client
 * assumes (undefined: its default).
 */
export async function restartedMidRun(board: VirtualBoard, baudRate: number | undefined, n: number): Promise<void> {
  const acc = await open({ backend: 'serial', port: board.port, lock: false, baudRate, reconnect: RECONNECT });
  try {
    await acc.load(0, 5n);
    const pending = acc.accumMany(0, deltas(n)).then(
      () => null,
      (e: unknown) => e as DeviceError,
    );
    await board.restart(); // same port path, state and session gone, a new boot id
    const error = await pending;
    expect(error).toBeInstanceOf(DeviceError);
    expect(error!.deviceCode).toBe('REBOOTED');
    expect(error!.message).toMatch(
      /^the board at \S+ rebooted or was opened by another host while the port was away \(its session is 0, boot id [1-9]\d*\): its contexts are gone/,
    );
    expect(error!.unconfirmed.every((u) => u.op === 'accumRun' && u.index === 0 && u.deltas !== undefined)).toBe(true);
    await expect(acc.read(0)).rejects.toMatchObject({ deviceCode: 'REBOOTED' });
    const again = await open({ backend: 'serial', port: board.port, lock: false, baudRate });
    expect(await again.read(0)).toBe(0n);
    await again.close();
  } finally {
    await acc.close();
  }
}
