// Delivery records (lib/stream/delivery.ts) on their own: what a receiver
// remembers per origin to apply each message exactly once, one message at
// a time (admit) and a batch at a time (classify), across gaps, copies,
// old and early messages, skips and the wrap of the 24-bit wire counter.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COUNTER_BITS, DeliveryRecords, RECEIPT, WIRE_MAX, wireCounter } from '../../lib/stream/delivery.js';

const { applied, duplicate, stale, ahead } = RECEIPT;

/** Records of `window` with origin 1 (and `more`) added. */
function records(window = 32, ...more: number[]): DeliveryRecords {
  const r = new DeliveryRecords(window);
  for (const o of [1, ...more]) r.add(o);
  return r;
}

/** The state of an origin's record a user can see: through, highest, the missing counters. */
const state = (r: DeliveryRecords, origin = 1) => ({ through: r.through[origin], highest: r.highest[origin], missing: r.missing(origin, 100) });

/** 16-byte messages whose seq is origin and wire counter (addr and delta do not matter here). */
function messages(list: [origin: number, wire: number][]): DataView {
  const view = new DataView(new ArrayBuffer(16 * list.length));
  list.forEach(([origin, wire], k) => view.setUint32(16 * k + 12, ((origin << COUNTER_BITS) | wire) >>> 0, false));
  return view;
}

function classify(r: DeliveryRecords, list: [number, number][]) {
  const accepted = new Int32Array(list.length);
  const receipts = new Uint8Array(list.length);
  const counts = new Float64Array(4);
  const n = r.classify(messages(list), list.length, accepted, receipts, counts);
  return { accepted: [...accepted.subarray(0, n)], receipts: [...receipts], counts: [...counts] };
}

describe('wire counters', () => {
  it('message number c carries ((c - 1) mod (2^24 - 1)) + 1: never 0, the same as c below 2^24', () => {
    expect(WIRE_MAX).toBe(2 ** 24 - 1);
    expect([1, 2, WIRE_MAX, WIRE_MAX + 1, WIRE_MAX + 2, 2 * WIRE_MAX, 2 * WIRE_MAX + 5].map(wireCounter)).toEqual([1, 2, WIRE_MAX, 1, 2, WIRE_MAX, 5]);
  });
});

describe('admit, one message at a time', () => {
  it('in order: each applied once, a copy is a duplicate, the record moves on', () => {
    const r = records();
    expect([1, 2, 2, 3, 1].map((w) => r.admit(1, w))).toEqual([applied, applied, duplicate, applied, duplicate]);
    expect(state(r)).toEqual({ through: 3, highest: 3, missing: [] });
  });

  it('out of order: a gap is listed as missing until it is filled', () => {
    const r = records();
    expect([1, 4, 6].map((w) => r.admit(1, w))).toEqual([applied, applied, applied]);
    expect(state(r)).toEqual({ through: 1, highest: 6, missing: [2, 3, 5] });
    expect([3, 2, 4, 5].map((w) => r.admit(1, w))).toEqual([applied, applied, duplicate, applied]);
    expect(state(r)).toEqual({ through: 6, highest: 6, missing: [] });
  });

  it('a message a window or more past the first missing one is ahead: not recorded, but counted as seen', () => {
    const r = records(32);
    expect(r.admit(1, 33)).toBe(ahead); // through 0: counters 1..32 fit the window
    expect(r.admit(1, 32)).toBe(applied);
    expect(state(r)).toEqual({ through: 0, highest: 33, missing: [...Array.from({ length: 31 }, (_, i) => i + 1), 33] });
    expect(r.admit(1, 33)).toBe(ahead); // still: nothing was recorded for it
  });

  it('behind by at most a window: a duplicate; further behind: stale, as the receiver cannot tell an old copy from a restarted sender', () => {
    const r = records(32);
    for (let w = 1; w <= 100; w++) expect(r.admit(1, w)).toBe(applied);
    expect(r.admit(1, 100 - 31)).toBe(duplicate);
    expect(r.admit(1, 100 - 32)).toBe(stale);
    expect(r.admit(1, 1)).toBe(stale);
    expect(state(r)).toEqual({ through: 100, highest: 100, missing: [] });
  });

  it('origins are independent', () => {
    const r = records(32, 7);
    expect([r.admit(1, 1), r.admit(7, 1), r.admit(7, 1), r.admit(1, 2)]).toEqual([applied, applied, duplicate, applied]);
    expect([r.through[1], r.through[7], r.has(2)]).toEqual([2, 1, false]);
    expect(r.origins()).toEqual([1, 7]);
  });

  it('counts past 2^24: the wire counter wraps from 2^24 - 1 to 1 and the record keeps the full count', () => {
    const r = records(32);
    r.skip(1, WIRE_MAX - 2);
    expect([WIRE_MAX - 1, WIRE_MAX, 1, 2, 1].map((w) => r.admit(1, w))).toEqual([applied, applied, applied, applied, duplicate]);
    expect(state(r)).toEqual({ through: WIRE_MAX + 2, highest: WIRE_MAX + 2, missing: [] });
    expect(r.admit(1, WIRE_MAX)).toBe(duplicate);
  });
});

describe('skip', () => {
  it('declares counters delivered: the rest flows, what was recorded past them stays', () => {
    const r = records(32);
    r.admit(1, 5);
    r.skip(1, 3);
    expect(state(r)).toEqual({ through: 3, highest: 5, missing: [4] });
    expect(r.admit(1, 4)).toBe(applied);
    expect(state(r)).toEqual({ through: 5, highest: 5, missing: [] });
  });

  it('past the whole window: the ring starts afresh', () => {
    const r = records(32);
    for (const w of [2, 3, 9]) r.admit(1, w);
    r.skip(1, 1000);
    expect(state(r)).toEqual({ through: 1000, highest: 1000, missing: [] });
    expect([1001, 1003, 1001].map((w) => r.admit(1, w))).toEqual([applied, applied, duplicate]);
    expect(state(r)).toEqual({ through: 1001, highest: 1003, missing: [1002] });
  });
});

describe('classify, a batch at a time', () => {
  it('receipts, counts and the offsets of the new messages; a copy inside the batch is a duplicate', () => {
    const r = records(32, 2);
    r.admit(1, 1);
    const got = classify(r, [
      [1, 2],
      [1, 1],
      [2, 1],
      [1, 2],
      [1, 40],
      [2, 3],
    ]);
    expect(got.receipts).toEqual([applied, duplicate, applied, duplicate, ahead, applied]);
    expect(got.counts).toEqual([3, 2, 0, 1]);
    expect(got.accepted).toEqual([0, 32, 80]);
    expect(state(r, 1)).toEqual({ through: 2, highest: 40, missing: Array.from({ length: 38 }, (_, i) => i + 3) });
    expect(state(r, 2)).toEqual({ through: 1, highest: 3, missing: [2] });
  });

  it('within the window of the record before the batch, it answers as admit does one by one, and leaves the same records', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 30 }),
        fc.array(fc.tuple(fc.constantFrom(1, 2), fc.integer({ min: 0, max: 31 })), { maxLength: 60 }),
        (before, batch) => {
          const one = records(32, 2);
          const many = records(32, 2);
          for (const w of before) {
            one.admit(1, w);
            many.admit(1, w);
          }
          // Counters from the first missing one to a window past it, as the records stood before the batch.
          const list = batch.map(([o, k]): [number, number] => [o, wireCounter(one.through[o]! + 1 + k)]);
          const expected = list.map(([o, w]) => one.admit(o, w));
          expect(classify(many, list).receipts).toEqual(expected);
          for (const o of [1, 2]) expect(state(many, o)).toEqual(state(one, o));
        },
      ),
    );
  });
});
