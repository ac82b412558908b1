// The parts of the framed client, each on its own: the call ledger (what a
// call sent, what came back, what is unconfirmed), the packer (frames cut
// to the device's limits and the line's budget) and the window (room,
// resends and queries), the last over the in-memory transport.
import { describe, expect, it } from 'vitest';
import { DeviceError } from '../../lib/index.js';
import type { Op, OpResult } from '../../lib/core/operations.js';
import { FrameDecoder, decodeReplyResults } from '../../lib/serial/frame.js';
import { Call } from '../../lib/serial/framed/ledger.js';
import { Packer } from '../../lib/serial/framed/packer.js';
import { Window, type Wire } from '../../lib/serial/framed/window.js';
import { createTransportPair } from '../../lib/serial/memory-transport.js';

const run = (index: number, n: number): Op => ({ op: 'accumRun', index, deltas: BigUint64Array.from({ length: n }, (_, k) => BigInt(k + 1)) });
const accum = (index: number, value: bigint): Op => ({ op: 'accum', index, value });
const callOf = (ops: Op[]) => {
  const outcome: { results?: OpResult[]; error?: DeviceError } = {};
  const total = ops.reduce((n, o) => n + (o.op === 'accumRun' ? o.deltas.length : 1), 0);
  const call = new Call(
    ops,
    total,
    (results) => (outcome.results = results),
    (error) => (outcome.error = error),
  );
  return { call, outcome };
};

describe('the packer', () => {
  it('cuts a run where the budget ends and keeps to the device limits', () => {
    const packer = new Packer();
    packer.maxOps = 2;
    const { call } = callOf([run(1, 10), accum(2, 5n), accum(3, 6n), { op: 'read', index: 4 }]);
    packer.add(call);
    const first = packer.pack(false, Infinity, 5 + 4 * 8)!; // room for 4 deltas
    expect(first.ops).toEqual([run(1, 4)]);
    expect(first.parts.map((p) => [p.from, p.to, p.units])).toEqual([[{ op: 0, delta: 0 }, { op: 0, delta: 4 }, 4]]);
    const second = packer.pack(false, Infinity, 4608)!;
    expect(second.ops.map((o) => o.op)).toEqual(['accumRun', 'accum']); // maxOps 2
    expect((second.ops[0] as Extract<Op, { op: 'accumRun' }>).deltas).toEqual(BigUint64Array.of(5n, 6n, 7n, 8n, 9n, 10n));
    expect(packer.pack(true, Infinity, 4608)!.ops).toEqual([accum(3, 6n)]); // beside frames in flight: accumulates only
    expect(packer.pack(true, Infinity, 4608)).toBeNull();
    const last = packer.pack(false, Infinity, 4608)!;
    expect([last.ops, last.barrier, last.resultBytes, packer.empty]).toEqual([[{ op: 'read', index: 4 }], true, 8, true]);
  });
});

describe('the call ledger', () => {
  it('lists what is refused, in flight and queued, in call order, and settles once every part is answered', () => {
    const packer = new Packer();
    const { call, outcome } = callOf([run(7, 6), accum(1, 1n), accum(2, 2n)]);
    packer.add(call);
    const a = packer.pack(false, Infinity, 5 + 2 * 8)!; // deltas 0..1
    const b = packer.pack(false, Infinity, 5 + 2 * 8)!; // deltas 2..3
    call.inFlight.set(a.parts[0]!, 11);
    call.inFlight.set(b.parts[0]!, 12);
    expect(call.unconfirmed()).toEqual([
      { op: 'accumRun', index: 7, state: 'sent', seq: 11, deltas: { start: 0, count: 2 } },
      { op: 'accumRun', index: 7, state: 'sent', seq: 12, deltas: { start: 2, count: 2 } },
      { op: 'accumRun', index: 7, state: 'queued', deltas: { start: 4, count: 2 } },
      { op: 'accum', index: 1, state: 'queued' },
      { op: 'accum', index: 2, state: 'queued' },
    ]);
    call.answered(b.parts[0]!, [null]);
    const dropped = call.refuse(a.parts[0]!, 11, new DeviceError('refused', [], 'INDEX_RANGE'));
    expect(dropped).toHaveLength(1); // its queued rest leaves the queue
    expect([call.settled, call.confirmed]).toEqual([true, 2]);
    expect(call.unconfirmed()).toEqual([
      { op: 'accumRun', index: 7, state: 'refused', seq: 11, deltas: { start: 0, count: 2 } },
      { op: 'accumRun', index: 7, state: 'queued', deltas: { start: 4, count: 2 } },
      { op: 'accum', index: 1, state: 'queued' },
      { op: 'accum', index: 2, state: 'queued' },
    ]);
    expect(outcome).toEqual({});
  });

  it('a share the device never applied goes back to the head of the queue', () => {
    const packer = new Packer();
    const { call } = callOf([run(3, 4)]);
    packer.add(call);
    const a = packer.pack(false, Infinity, 5 + 3 * 8)!;
    call.inFlight.set(a.parts[0]!, 5);
    packer.putBack([call.returned(a.parts[0]!)!]);
    expect(call.unconfirmed()).toEqual([
      { op: 'accumRun', index: 3, state: 'queued', deltas: { start: 0, count: 3 } },
      { op: 'accumRun', index: 3, state: 'queued', deltas: { start: 3, count: 1 } },
    ]);
    expect(packer.pack(false, Infinity, 4608)!.ops).toEqual([run(3, 3), { op: 'accumRun', index: 3, deltas: BigUint64Array.of(4n) }]);
  });
});

describe('the window, over the in-memory transport', () => {
  const start = (options: Partial<{ window: number; retries: number; timeoutMs: number }> = {}) => {
    const { ends } = createTransportPair({ baudRate: 4_000_000 });
    const seen: number[] = [];
    const decoder = new FrameDecoder();
    ends[1].onData((data) => seen.push(...decoder.push(data).map((f) => f.seq)));
    const failures: string[] = [];
    const wire: Wire = { up: true, write: (bytes) => void ends[0].write(bytes), fail: (message, code) => failures.push(`${code}: ${message}`) };
    const window = new Window(wire, { timeoutMs: 20, retries: 2, window: 255, maxBytesInFlight: 6144, ...options }, 4_000_000);
    return { window, seen, failures, device: ends[1] };
  };
  const packed = (ops: Op[]) => {
    const packer = new Packer();
    packer.add(callOf(ops).call);
    return packer.pack(false, Infinity, 4608)!;
  };
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('keeps to half the replay cache and to barriers', () => {
    const { window } = start();
    window.adopt(4, 2304);
    expect(window.room()).toEqual({ commutingOnly: false, bytes: Infinity });
    window.open(1, packed([accum(0, 1n)]));
    expect(window.room()).toEqual({ commutingOnly: true, bytes: 6144 - 22 });
    window.open(2, packed([accum(0, 2n)]));
    expect(window.room()).toBeNull(); // a span of two frames
    window.complete(window.frames.get(1)!, true);
    window.complete(window.frames.get(2)!, true);
    window.open(3, packed([{ op: 'read', index: 0 }]));
    expect(window.room()).toBeNull(); // nothing beside a barrier
    window.clear();
  });

  it('a frame answered before an older one sends the older again at once; silence fails the link after the retries', async () => {
    const { window, seen, failures } = start();
    const one = window.open(1, packed([accum(0, 1n)]));
    const two = window.open(2, packed([accum(0, 2n)]));
    await settle(1);
    window.replied(two);
    window.complete(two, true);
    await settle(1);
    expect(seen).toEqual([1, 2, 1]);
    expect(window.stats.fastRetransmissions).toBe(1);
    expect(one.attempts).toBe(2);
    await settle(400);
    // the device answers other frames: four times the retries
    expect(failures).toEqual(['NO_REPLY: no valid reply to frame 1 after 9 attempts (timeout)']);
    expect(window.stats.timeouts).toBe(7);
    window.clear();
  });

  it('a frame too large for the line is sent again as a query of another result size', () => {
    const { window } = start();
    const big = packed([run(0, 200)]);
    const f = window.open(9, big);
    for (let k = 0; k < 40; k++) window.link.outcome(1000, false); // the line turned bad
    window.damagedCopy(f, 'a damaged reply');
    expect(f.query).toBe(8);
    expect(decodeReplyResults([{ op: 'read', index: 0 }], new Uint8Array(8))).toEqual([0n]);
    expect([window.queryRan(f, 8), window.queryRan(f, 0)]).toEqual([true, false]);
    window.clear();
  });

  it('a reply after a timeout, before any round trip was measured, is not taken for a spurious timeout', async () => {
    const { window, seen } = start({ timeoutMs: 30 });
    const f = window.open(1, packed([accum(0, 1n)]));
    await settle(60);
    expect([seen, f.attempts, window.stats.timeouts]).toEqual([[1, 1], 2, 1]);
    window.replied(f);
    window.complete(f, true);
    expect(window.stats.spuriousTimeouts).toBe(0);
    expect(window.link.slackMs(1)).toBe(30); // still the unmeasured default, not the wait just seen
    window.clear();
  });
});
