// Exactly-once delivery of DeltaMessages: origin + counter in the reference
// 16-byte form, duplicates recognised, gaps reported, under any schedule.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltaMessage, DeltaStream, packSeq, unpackSeq, type Group } from '../lib/index.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('exactly-once DeltaStream', () => {
  it('packs origin and counter into the reference seq field', () => {
    expect(packSeq(3, 1)).toBe(0x03000001);
    expect(unpackSeq(0xff_ffffff)).toEqual({ origin: 255, counter: 0xffffff });
    const m = new DeltaStream({ origin: 7 }).accum(2, 5n);
    expect(Buffer.from(m.encode()).toString('hex')).toBe('00000002' + '0000000000000005' + '07000001');
    expect(() => packSeq(256, 1)).toThrow(RangeError);
    expect(() => packSeq(0, 0)).toThrow(RangeError);
    expect(() => new DeltaStream({ origin: -1 })).toThrow('options.origin');
    expect(() => new DeltaStream().receive(new DeltaMessage(0, 1n, 0, 0x05000000))).toThrow('carries no counter');
  });

  it('any reordering and duplication of the messages gives exactly the senders\' states', () => {
    const origins = fc.array(fc.array(fc.tuple(fc.nat({ max: 7 }), u64), { maxLength: 30 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(fc.constantFrom<Group>('xor', 'add'), origins, fc.array(fc.nat({ max: 2 }), { minLength: 1 }), fc.integer(), (group, perOrigin, copies, seed) => {
        const senders = perOrigin.map((_, origin) => new DeltaStream({ group, origin }));
        const expected = new DeltaStream({ group });
        const wire: Uint8Array[] = [];
        perOrigin.forEach((updates, origin) =>
          updates.forEach(([addr, delta], k) => {
            wire.push(senders[origin]!.accum(addr, delta).encode());
            expected.accum(addr, delta);
            for (let c = 0; c < copies[k % copies.length]!; c++) wire.push(wire[wire.length - 1]!); // duplicates
          }),
        );
        // Shuffle the channel (seeded Fisher-Yates).
        let s = seed >>> 0;
        for (let i = wire.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [wire[i], wire[j]] = [wire[j]!, wire[i]!];
        }
        const naive = new DeltaStream({ group });
        const once = new DeltaStream({ group });
        let applied = 0;
        for (const bytes of wire) {
          const msg = DeltaMessage.decode(bytes);
          naive.apply(msg);
          if (once.receive(msg) === 'applied') applied++;
        }
        const unique = perOrigin.reduce((n, u) => n + u.length, 0);
        expect(applied).toBe(unique);
        for (let addr = 0; addr < 8; addr++) expect(once.read(addr)).toBe(expected.read(addr));
        expect(once.gaps()).toEqual(new Map());
      }),
    );
  });

  it('a duplicate undoes a xor delta without protection, and is recognised with it', () => {
    const sender = new DeltaStream({ origin: 1 });
    const m = DeltaMessage.decode(sender.accum(0, 0x10n).encode());
    const naive = new DeltaStream();
    const once = new DeltaStream();
    for (const r of [naive, once]) r.load(0, 0x100n);
    naive.apply(m);
    naive.apply(m);
    expect([once.receive(m), once.receive(m)]).toEqual(['applied', 'duplicate']);
    expect([naive.read(0), once.read(0)]).toEqual([0x100n, 0x110n]);
  });

  it('reports the gaps left by lost messages, per origin', () => {
    const a = new DeltaStream({ origin: 1 });
    const b = new DeltaStream({ origin: 2 });
    const messages = [...Array.from({ length: 6 }, (_, i) => a.accum(0, BigInt(i))), ...Array.from({ length: 3 }, () => b.accum(1, 1n))];
    const receiver = new DeltaStream();
    for (const k of [0, 2, 5, 6, 8]) receiver.receive(messages[k]!); // a: 1,3,6 arrive; b: 1,3 arrive
    expect(receiver.gaps()).toEqual(new Map([[1, [2, 4, 5]], [2, [2]]]));
    receiver.receive(messages[1]!);
    receiver.receive(messages[7]!);
    expect(receiver.gaps()).toEqual(new Map([[1, [4, 5]]]));
  });
});
