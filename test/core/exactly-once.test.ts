// Exactly-once delivery of DeltaMessages: origin + counter in the reference
// 16-byte form, duplicates recognised, gaps reported, under any schedule,
// across restarts, past the 24-bit wire counter, on both engines.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AtomikError, AtomikTable, DeltaMessage, DeltaStream, RECEIPT, packSeq, unpackSeq, type Group, type Receipt } from '../../lib/index.js';
import { jsEngine as jsEngineObject } from '../../lib/engine/js.js';
import { ENGINES, nativeBinding } from '../helpers/engines.js';
import { crc32 } from '../../lib/core/crc.js';
import { describeUnless } from '../helpers/skip.js';
import { expectCoded as throwsCoded } from '../helpers/errors.js';
import { hex, lcg, shuffle } from '../helpers/values.js';

const jsEngine = () => jsEngineObject;

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const concat = (parts: Uint8Array[]) => Buffer.concat(parts);

describe('the wire form', () => {
  it('packs origin and counter into the reference seq field; the counter wraps past 2^24 - 1, skipping 0', () => {
    expect(packSeq(3, 1)).toBe(0x03000001);
    expect(packSeq(3, 2 ** 24 - 1)).toBe(0x03ffffff);
    expect(packSeq(3, 2 ** 24)).toBe(0x03000001);
    expect(packSeq(3, 2 ** 24 + 1)).toBe(0x03000002);
    expect(packSeq(3, 2 ** 40)).toBe(0x03000000 + ((2 ** 40 - 1) % (2 ** 24 - 1)) + 1);
    expect(unpackSeq(0xff_ffffff)).toEqual({ origin: 255, counter: 0xffffff });
    const m = new DeltaStream({ origin: 7 }).accum(2, 5n);
    expect(hex(m.encode())).toBe('00000002' + '0000000000000005' + '07000001');
    expect(() => packSeq(256, 1)).toThrow(RangeError);
    expect(() => packSeq(0, 0)).toThrow(RangeError);
    throwsCoded(() => new DeltaStream({ origin: 0 }), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.origin');
    throwsCoded(() => new DeltaStream({ origin: 256 }), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.origin');
    throwsCoded(() => new DeltaStream().receive(new DeltaMessage(0, 1n, 0, 0x05000000)), RangeError, 'ERR_ATOMIK_NO_COUNTER', 'carries no counter');
  });

  it('a sender numbers past 2^24 and past 2^32 messages; a receiver follows the wrap', () => {
    const start = 2 ** 24 - 3;
    const sender = new DeltaStream({ origin: 9, counter: start, group: 'add' });
    const messages = Array.from({ length: 8 }, (_, k) => sender.accum(k % 2, BigInt(k + 1)));
    expect(messages.map((m) => unpackSeq(m.seq).counter)).toEqual([0xfffffe, 0xffffff, 1, 2, 3, 4, 5, 6]);
    expect(sender.counter).toBe(start + 8);
    const receiver = new DeltaStream({ group: 'add' });
    receiver.skip(9, start); // joins a sender whose earlier messages it does not need
    const receipts = shuffle([...messages, ...messages], 5).map((m) => receiver.receive(DeltaMessage.decode(m.encode())));
    expect(receipts.filter((r) => r === 'applied').length).toBe(8);
    expect(receipts.filter((r) => r === 'duplicate').length).toBe(8);
    expect([receiver.read(0), receiver.read(1)]).toEqual([1n + 3n + 5n + 7n, 2n + 4n + 6n + 8n]);
    expect(receiver.deliveredFrom(9)).toEqual({ through: start + 8, highest: start + 8 });
    // Far beyond 2^32: no cliff anywhere.
    const far = new DeltaStream({ origin: 1, counter: 2 ** 40 });
    const r2 = new DeltaStream();
    r2.skip(1, 2 ** 40);
    expect(r2.receive(far.accum(3, 9n))).toBe('applied');
    expect([r2.read(3), far.counter, r2.deliveredFrom(1).through]).toEqual([9n, 2 ** 40 + 1, 2 ** 40 + 1]);
    // The reference numbering (no origin) wraps the same way and stays in origin 0.
    const plain = new DeltaStream({ counter: 2 ** 24 - 2 });
    expect([plain.accum(0, 1n).seq, plain.accum(0, 1n).seq]).toEqual([0xffffff, 1]);
  });
});

describe('exactly-once DeltaStream', () => {
  it("any reordering and duplication gives exactly the senders' states, through receive() and receiveMany()", () => {
    const origins = fc.array(fc.array(fc.tuple(fc.nat({ max: 7 }), u64), { maxLength: 30 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(
        fc.constantFrom<Group>('xor', 'add'),
        origins,
        fc.array(fc.nat({ max: 2 }), { minLength: 1 }),
        fc.integer(),
        fc.integer({ min: 1, max: 40 }),
        (group, perOrigin, copies, seed, chunk) => {
          const senders = perOrigin.map((_, k) => new DeltaStream({ group, origin: k + 1 }));
          const expected = new DeltaStream({ group });
          const wire: Uint8Array[] = [];
          let duplicates = 0;
          perOrigin.forEach((updates, k) =>
            updates.forEach(([addr, delta], i) => {
              wire.push(senders[k]!.accum(addr, delta).encode());
              expected.accum(addr, delta);
              for (let c = 0; c < copies[i % copies.length]!; c++, duplicates++) wire.push(wire[wire.length - 1]!);
            }),
          );
          shuffle(wire, seed);
          const naive = new DeltaStream({ group });
          const once = new DeltaStream({ group, window: 32 });
          const batched = new DeltaStream({ group, window: 32, engine: 'js' });
          const counts: Record<Receipt, number> = { applied: 0, duplicate: 0, stale: 0, ahead: 0 };
          const receipts: number[] = [];
          for (const bytes of wire) {
            const msg = DeltaMessage.decode(bytes);
            naive.apply(msg);
            const r = once.receive(msg);
            counts[r]++;
            receipts.push(RECEIPT[r]);
          }
          const batchReceipts: number[] = [];
          const total = { applied: 0, duplicate: 0, stale: 0, ahead: 0 };
          for (let at = 0; at < wire.length; at += chunk) {
            const part = wire.slice(at, at + chunk);
            const out = new Uint8Array(part.length);
            const s = batched.receiveMany(concat(part), out);
            for (const key of Object.keys(total) as Receipt[]) total[key] += s[key];
            batchReceipts.push(...out);
          }
          const unique = perOrigin.reduce((n, u) => n + u.length, 0);
          expect(counts).toEqual({ applied: unique, duplicate: duplicates, stale: 0, ahead: 0 });
          expect(total).toEqual(counts);
          expect(batchReceipts).toEqual(receipts);
          for (let addr = 0; addr < 8; addr++) {
            expect(once.read(addr)).toBe(expected.read(addr));
            expect(batched.read(addr)).toBe(expected.read(addr));
          }
          expect(once.gaps()).toEqual(new Map());
          expect(batched.gaps()).toEqual(new Map());
        },
      ),
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
    expect(receiver.gaps()).toEqual(
      new Map([
        [1, [2, 4, 5]],
        [2, [2]],
      ]),
    );
    expect(receiver.gaps(2)).toEqual(
      new Map([
        [1, [2, 4]],
        [2, [2]],
      ]),
    );
    receiver.receive(messages[1]!);
    receiver.receive(messages[7]!);
    expect(receiver.gaps()).toEqual(new Map([[1, [4, 5]]]));
    expect(receiver.deliveredFrom(1)).toEqual({ through: 3, highest: 6 });
  });

  it('gaps() validates its limit', () => {
    const s = new DeltaStream();
    throwsCoded(() => s.gaps(NaN), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'limit');
    throwsCoded(() => s.gaps(1.5), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'limit');
    throwsCoded(() => s.gaps(-1), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'limit');
    throwsCoded(() => s.gaps(0), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'limit');
    throwsCoded(() => s.gaps('5' as never), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'limit');
  });
});

describe('edges', () => {
  it('refuses the messages of a stream without an origin instead of taking them for origin 0', () => {
    const plain = new DeltaStream();
    const m = plain.accum(4, 1n);
    expect(m.seq).toBe(1); // the reference numbering
    const receiver = new DeltaStream();
    throwsCoded(() => receiver.receive(m), RangeError, 'ERR_ATOMIK_NO_ORIGIN', 'has origin 0');
    // In a batch: the whole batch is refused, naming the message, and nothing is applied.
    const good = new DeltaStream({ origin: 1 }).accum(4, 2n);
    throwsCoded(() => receiver.receiveMany(concat([good.encode(), m.encode()])), RangeError, 'ERR_ATOMIK_NO_ORIGIN', 'message 1');
    throwsCoded(
      () => receiver.receiveMany(concat([good.encode(), new DeltaMessage(0, 1n, 0, 0x02000000).encode()])),
      RangeError,
      'ERR_ATOMIK_NO_COUNTER',
      'message 1',
    );
    expect([receiver.read(4), receiver.gaps(), receiver.deliveredFrom(1)]).toEqual([0n, new Map(), { through: 0, highest: 0 }]);
    expect(receiver.receiveMany(good.encode())).toEqual({ applied: 1, duplicate: 0, stale: 0, ahead: 0 });
    expect(receiver.read(4)).toBe(2n);
  });

  it('one lost message: memory stays at the window, later messages past it are refused as ahead until the gap is filled or skipped', () => {
    const window = 64;
    const sender = new DeltaStream({ origin: 3, group: 'add' });
    const messages = Array.from({ length: 200 }, (_, k) => sender.accum(k % 4, BigInt(k + 1)));
    const receiver = new DeltaStream({ group: 'add', window });
    // save() holds the contexts (24 bytes each) and the delivery records; count the records only.
    const recordBytes = () => receiver.save().length - 24 * receiver.addresses().length;
    const sizeBefore = recordBytes();
    receiver.receive(messages[0]!);
    const saved1 = recordBytes();
    // Message 2 (index 1) is lost; 3..65 fit in the window, 66.. do not.
    const receipts = messages.slice(2).map((m) => receiver.receive(m));
    expect(receipts.slice(0, window - 1).every((r) => r === 'applied')).toBe(true);
    expect(receipts.slice(window - 1).every((r) => r === 'ahead')).toBe(true);
    expect(recordBytes()).toBe(saved1); // bounded: the record does not grow
    expect(saved1 - sizeBefore).toBe(24 + window / 8);
    const gaps = receiver.gaps(5).get(3)!;
    expect(gaps).toEqual([2, 2 + window, 3 + window, 4 + window, 5 + window]);
    expect(receiver.deliveredFrom(3)).toEqual({ through: 1, highest: 200 });
    // The retransmission of message 2 fills the gap; the refused ones are then accepted.
    expect(receiver.receive(messages[1]!)).toBe('applied');
    expect(receiver.deliveredFrom(3)).toEqual({ through: window + 1, highest: 200 });
    expect(
      messages
        .slice(window + 1)
        .map((m) => receiver.receive(m))
        .every((r) => r === 'applied'),
    ).toBe(true);
    expect(receiver.gaps()).toEqual(new Map());
    for (let a = 0; a < 4; a++) expect(receiver.read(a)).toBe(sender.read(a));

    // Or the caller declares message 2 lost for good: its delta is missing, by decision, and the rest flows.
    const other = new DeltaStream({ group: 'add', window });
    other.receive(messages[0]!);
    for (const m of messages.slice(2, 100)) other.receive(m);
    other.skip(3, 2);
    expect(other.deliveredFrom(3)).toEqual({ through: window + 1, highest: 100 });
    expect(other.receive(messages[1]!)).toBe('duplicate');
    expect(
      messages
        .slice(window + 1)
        .map((m) => other.receive(m))
        .every((r) => r === 'applied'),
    ).toBe(true);
    expect(other.read(1)).toBe(sender.read(1) - 2n);
    throwsCoded(() => other.skip(3, 5), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'below the delivered prefix');
  });

  it('a copy from further back than the window is reported as stale, not as a duplicate', () => {
    const sender = new DeltaStream({ origin: 2 });
    const messages = Array.from({ length: 100 }, (_, k) => sender.accum(0, BigInt(k) << 8n));
    const receiver = new DeltaStream({ window: 32 });
    for (const m of messages) receiver.receive(m);
    expect(messages.map((m) => receiver.receive(m))).toEqual([...Array(68).fill('stale'), ...Array(32).fill('duplicate')]);
    expect(receiver.read(0)).toBe(sender.read(0));
  });

  it('the outbox is off by default and bounded when on', () => {
    const s = new DeltaStream({ origin: 1 });
    for (let k = 0; k < 1000; k++) s.accum(k & 7, 1n);
    const blank = new DeltaStream({ origin: 1 });
    expect(s.save().length).toBe(blank.save().length + 8 * 24); // eight contexts, no queued message
    throwsCoded(() => s.pending(), AtomikError, 'ERR_ATOMIK_NO_OUTBOX', 'options.outbox');
    const q = new DeltaStream({ origin: 1, outbox: 2 });
    const m1 = q.accum(0, 1n);
    const m2 = q.accum(0, 2n);
    throwsCoded(() => q.accum(0, 4n), AtomikError, 'ERR_ATOMIK_OUTBOX_FULL', 'pending()');
    expect([q.read(0), q.counter]).toEqual([3n, 2]);
    expect(q.pending()).toEqual([m1, m2]);
    expect(unpackSeq(q.accum(0, 4n).seq).counter).toBe(3);
    expect(q.pending().length).toBe(1);
    throwsCoded(() => new DeltaStream({ outbox: -1 }), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.outbox');
    throwsCoded(() => new DeltaStream({ window: 100 }), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'power of two');
    throwsCoded(() => new DeltaStream({ window: 16 }), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.window');
    throwsCoded(() => new DeltaStream({ counter: -1 }), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.counter');
  });
});

describe('restarts', () => {
  it('a sender restarted from scratch reuses counters its peer has: the peer cannot apply them (the defect); resumed from its saved state it can', () => {
    const first = new DeltaStream({ origin: 4, group: 'add' });
    const peer = new DeltaStream({ group: 'add', window: 32 });
    for (let k = 0; k < 10; k++) peer.receive(first.accum(0, 1n));
    const saved = first.save();
    // Restarted without its counter: counters 1..4 again. Within the window the peer takes them for copies...
    const fresh = new DeltaStream({ origin: 4, group: 'add' });
    expect(Array.from({ length: 4 }, () => peer.receive(fresh.accum(0, 1n)))).toEqual(Array(4).fill('duplicate'));
    expect(peer.read(0)).toBe(10n);
    // ...and once the peer is further along than its window, it says it cannot tell (stale).
    for (let k = 0; k < 40; k++) peer.receive(first.accum(0, 1n));
    expect(peer.receive(new DeltaStream({ origin: 4, group: 'add' }).accum(0, 1n))).toBe('stale');
    // Resumed from its saved state (or from options.counter) the sender goes on where it was.
    const resumed = DeltaStream.restore(saved);
    expect([resumed.counter, resumed.origin, resumed.group, resumed.read(0)]).toEqual([10, 4, 'add', 10n]);
    const peer2 = new DeltaStream({ group: 'add' });
    const before = new DeltaStream({ origin: 4, group: 'add' });
    for (let k = 0; k < 10; k++) peer2.receive(before.accum(0, 1n));
    expect(Array.from({ length: 4 }, () => peer2.receive(resumed.accum(0, 1n)))).toEqual(Array(4).fill('applied'));
    expect(peer2.receive(new DeltaStream({ origin: 4, counter: 14, group: 'add' }).accum(0, 1n))).toBe('applied');
    expect(peer2.read(0)).toBe(15n);
  });

  it('save() and restore() round-trip every part exactly, and refuse damaged bytes', () => {
    const s = new DeltaStream({ origin: 5, group: 'add', window: 64, outbox: 8 });
    s.load(7, 100n);
    s.accum(7, 5n);
    s.accum(2 ** 32 - 1, 9n);
    const peers = [1, 2].map((o) => new DeltaStream({ origin: o, group: 'add' }));
    for (let k = 0; k < 10; k++) {
      const m = peers[0]!.accum(k, BigInt(k));
      if (k !== 3) s.receive(m);
    }
    for (let k = 0; k < 70; k++) {
      const m = peers[1]!.accum(1, 1n);
      if (k !== 0) s.receive(m);
    }
    const bytes = s.save();
    const back = DeltaStream.restore(bytes, { engine: 'js' });
    expect(hex(back.save())).toBe(hex(bytes));
    expect([back.read(7), back.read(2 ** 32 - 1), back.read(1), back.epoch, back.counter, back.window, back.outboxCapacity]).toEqual([
      112n,
      9n,
      64n,
      1,
      2,
      64,
      8,
    ]);
    expect(back.addresses()).toEqual(s.addresses());
    expect(back.gaps()).toEqual(s.gaps());
    expect(back.gaps()).toEqual(
      new Map([
        [1, [4]],
        [2, [1, 65, 66, 67, 68, 69, 70]],
      ]),
    );
    expect(back.pending().map((m) => [m.addr, m.delta, m.epoch, m.seq])).toEqual([
      [7, 5n, 1, 0x05000001],
      [2 ** 32 - 1, 9n, 1, 0x05000002],
    ]);
    expect(back.receive(peers[0]!.accum(0, 0n))).toBe('applied');
    for (const [at, why] of [
      [0, 'wrong magic'],
      [4, 'unknown version'],
      [60, 'checksum'],
    ] as const) {
      const bad = Uint8Array.from(bytes);
      bad[at]! ^= 1;
      throwsCoded(() => DeltaStream.restore(bad), RangeError, 'ERR_ATOMIK_BAD_STREAM_STATE', why);
    }
    throwsCoded(() => DeltaStream.restore(bytes.subarray(0, 20)), RangeError, 'ERR_ATOMIK_BAD_STREAM_STATE', 'too short');
    // Damage behind a valid checksum: each field is checked on its own.
    const resealed = (edit: (v: DataView, b: Uint8Array) => void) => {
      const b = Uint8Array.from(bytes);
      const v = new DataView(b.buffer);
      edit(v, b);
      v.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
      return b;
    };
    const cases: [(v: DataView, b: Uint8Array) => void, string][] = [
      [(v) => v.setUint8(5, 2), 'unknown group code 2'],
      [(v) => v.setUint8(7, 3), 'unknown flags 3'],
      [(v) => v.setBigUint64(8, 2n ** 60n, true), 'counter or epoch'],
      [(v) => v.setUint32(24, 48, true), 'window 48'],
      [(v) => v.setUint32(32, 9, true), 'does not match its counts'],
      [(v) => v.setUint32(40, 2 ** 25, true), 'outbox capacity'],
      [(v) => v.setUint32(40, 1, true), 'exceed the outbox capacity 1'],
      [(v) => v.setUint8(48, 0), 'record 0 has origin 0'],
      [(v) => v.setUint8(48 + 24 + 8, 1), 'record 1 has origin 1'],
      [(v) => v.setBigUint64(48 + 8, 99n, true), 'above highest'],
      [(v, b) => (b[48 + 24] = 1), 'marked delivered'],
    ];
    for (const [edit, why] of cases) throwsCoded(() => DeltaStream.restore(resealed(edit)), RangeError, 'ERR_ATOMIK_BAD_STREAM_STATE', why);
    const tableSaved = new DeltaStream({ table: new AtomikTable(4, { group: 'add' }) }).save();
    throwsCoded(
      () => DeltaStream.restore(tableSaved, { table: new AtomikTable(4) }),
      TypeError,
      'ERR_ATOMIK_INVALID_ARG_VALUE',
      "differs from the saved stream's 'add'",
    );
    throwsCoded(() => DeltaStream.restore(tableSaved, 5 as never), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options');
    expect(DeltaStream.restore(tableSaved, { table: new AtomikTable(4, { group: 'add' }) }).group).toBe('add');
    throwsCoded(() => DeltaStream.restore(bytes, { table: new AtomikTable(4) }), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE', 'without options.table');
    throwsCoded(() => DeltaStream.restore('x' as never), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'data');
  });

  it('property: senders that crash and restore from their last save, over a channel that reorders, duplicates and loses, deliver exactly once', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Group>('xor', 'add'),
        fc.array(fc.tuple(fc.nat({ max: 2 }), fc.array(fc.tuple(fc.nat({ max: 5 }), u64), { maxLength: 6 }), fc.boolean()), { maxLength: 25 }),
        fc.integer(),
        (group, rounds, seed) => {
          // Each round: a sender accumulates a batch, saves, then sends pending(); it may crash right after sending.
          const saved = [1, 2, 3].map((origin) => new DeltaStream({ origin, group, outbox: 64 }).save());
          const live = saved.map((b) => DeltaStream.restore(b));
          const expected = new DeltaStream({ group });
          const channel: Uint8Array[] = [];
          const lost: Uint8Array[] = [];
          const rand = lcg(seed).unit;
          for (const [who, updates, crash] of rounds) {
            for (const [addr, delta] of updates) {
              live[who]!.accum(addr, delta);
              expected.accum(addr, delta);
            }
            saved[who] = live[who]!.save();
            for (const m of live[who]!.pending()) {
              const copies = rand() < 0.2 ? 2 : 1;
              for (let c = 0; c < copies; c++) (rand() < 0.15 ? lost : channel).push(m.encode());
            }
            // A crash loses the live object; the restored one still holds the batch it was sending and sends it again.
            if (crash) {
              live[who] = DeltaStream.restore(saved[who]);
              for (const m of live[who].pending()) channel.push(m.encode());
            }
          }
          shuffle(channel, seed);
          const receiver = new DeltaStream({ group, window: 256 });
          receiver.receiveMany(concat(channel));
          // The transport retransmits what was lost; afterwards nothing is missing.
          for (const m of lost) receiver.receive(DeltaMessage.decode(m));
          expect(receiver.gaps()).toEqual(new Map());
          for (let addr = 0; addr < 6; addr++) expect(receiver.read(addr)).toBe(expected.read(addr));
          const sent = rounds.reduce((n, [, u]) => n + u.length, 0);
          expect([1, 2, 3].reduce((n, o) => n + receiver.deliveredFrom(o).through, 0)).toBe(sent);
        },
      ),
    );
  });
});

for (const { name, engine, skipReason } of ENGINES) {
  describeUnless(skipReason, `a DeltaStream feeding an AtomikTable, ${name} engine`, () => {
    it('receive() and receiveMany() apply into the table, exactly once, with one scatter', () => {
      for (const group of ['xor', 'add'] as const) {
        const table = new AtomikTable(64, { group, engine: engine! });
        table.load(5, 1000n);
        const stream = new DeltaStream({ table });
        expect(stream.group).toBe(group);
        const sender = new DeltaStream({ origin: 8, group });
        const reference = new DeltaStream({ group });
        reference.load(5, 1000n);
        const wire: Uint8Array[] = [];
        for (let k = 0; k < 300; k++) {
          const addr = (k * 7) % 64;
          const delta = BigInt.asUintN(64, BigInt(k) * 0x1_0000_0001n + (k % 3 === 0 ? 0xffff_ffff_ffff_fff0n : 0n));
          wire.push(sender.accum(addr, delta).encode());
          reference.accum(addr, delta);
        }
        const copies = shuffle([...wire, ...wire.slice(0, 100)], 11);
        expect(stream.receive(DeltaMessage.decode(copies[0]!))).toBe('applied');
        const receipts = new Uint8Array(copies.length - 1);
        expect(stream.receiveMany(concat(copies.slice(1)), receipts)).toEqual({ applied: 299, duplicate: 100, stale: 0, ahead: 0 });
        expect(receipts.filter((c) => c === RECEIPT.applied).length).toBe(299);
        for (let i = 0; i < 64; i++) expect(table.read(i)).toBe(reference.read(i));
        expect(stream.read(5)).toBe(table.read(5));
      }
    });

    it('checks addresses against the table and refuses a whole batch with one bad address', () => {
      const table = new AtomikTable(16, { engine: engine! });
      const stream = new DeltaStream({ table });
      const sender = new DeltaStream({ origin: 1 });
      const ok = Array.from({ length: 20 }, (_, k) => sender.accum(k % 16, 1n << BigInt(k)));
      const outside = sender.accum(16, 1n);
      throwsCoded(() => stream.receive(outside), RangeError, 'ERR_ATOMIK_INDEX_OUT_OF_RANGE', 'msg.addr 16');
      throwsCoded(
        () => stream.receiveMany(concat([...ok.map((m) => m.encode()), outside.encode()])),
        RangeError,
        'ERR_ATOMIK_INDEX_OUT_OF_RANGE',
        'message 20: addr 16',
      );
      expect([table.nonZeroStates(), stream.deliveredFrom(1)]).toEqual([new Map(), { through: 0, highest: 0 }]);
      throwsCoded(() => stream.accum(16, 1n), RangeError, 'ERR_ATOMIK_INDEX_OUT_OF_RANGE', 'addr 16');
      throwsCoded(() => stream.receiveMany(new Uint8Array(17)), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', '17 bytes');
      throwsCoded(() => stream.receiveMany(new Uint8Array(32), new Uint8Array(1)), RangeError, 'ERR_ATOMIK_LENGTH_MISMATCH', 'receipts');
      throwsCoded(() => new DeltaStream({ table, group: 'add' }), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE', 'options.group');
      throwsCoded(() => new DeltaStream({ table, engine: 'js' }), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE', 'options.engine');
      throwsCoded(() => new DeltaStream({ table: {} as never }), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options.table');
      throwsCoded(() => stream.addresses(), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE', 'table');
      // Bytes in shared memory are copied before they are checked, so another thread cannot change them in between.
      const shared = new Uint8Array(new SharedArrayBuffer(16 * 20));
      shared.set(concat(ok.map((m) => m.encode())));
      const sharedTable = new AtomikTable(16, { engine: engine! });
      expect(new DeltaStream({ table: sharedTable }).receiveMany(shared)).toEqual({ applied: 20, duplicate: 0, stale: 0, ahead: 0 });
      expect(sharedTable.read(3)).toBe((1n << 3n) ^ (1n << 19n));
      // Saved with its delivery record, restored next to the table saved at the same point.
      stream.receiveMany(concat(ok.slice(0, 5).map((m) => m.encode())));
      const back = DeltaStream.restore(stream.save(), { table });
      expect(back.receiveMany(concat(ok.slice(0, 6).map((m) => m.encode())))).toEqual({ applied: 1, duplicate: 5, stale: 0, ahead: 0 });
      expect(table.read(5)).toBe(1n << 5n);
      throwsCoded(() => DeltaStream.restore(stream.save()), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE', 'options.table');
    });
  });
}

const nativeEngine = ENGINES.find((e) => e.name === 'native')!;
describeUnless(nativeEngine.skipReason, 'receiveMany: native/stream.c and the js classifier agree', () => {
  it('property: same receipts, counts, states and records for any batches, window edges, wraps and stale copies', () => {
    const kinds: number[] = [];
    const message = fc.record({
      origin: fc.integer({ min: 1, max: 3 }),
      // Counters around a 32-counter window (behind, within, past it), and now and then one far away.
      rel: fc.integer({ min: -60, max: 90 }),
      far: fc.option(fc.integer({ min: 1, max: 2 ** 26 }), { freq: 10 }),
      addr: fc.nat({ max: 15 }),
      delta: u64,
    });
    const startAt = fc.oneof(fc.nat({ max: 50 }), fc.integer({ min: 2 ** 24 - 60, max: 2 ** 24 + 10 }));
    fc.assert(
      fc.property(
        fc.constantFrom<Group>('xor', 'add'),
        fc.array(fc.array(message, { minLength: 16, maxLength: 60 }), { minLength: 1, maxLength: 6 }),
        fc.array(startAt, { minLength: 3, maxLength: 3 }),
        (group, batches, start) => {
          const streams = [jsEngine(), nativeEngine.engine!].map((engine) => {
            const table = new AtomikTable(16, { group, engine });
            const stream = new DeltaStream({ table, window: 32 });
            start.forEach((through, k) => stream.skip(k + 1, through));
            return { table, stream };
          });
          const seen = new Set<number>();
          for (const batch of batches) {
            const counter = (m: (typeof batch)[number]) => m.far ?? Math.max(1, start[m.origin - 1]! + m.rel);
            const bytes = concat(batch.map((m) => new DeltaMessage(m.addr, m.delta, 0, packSeq(m.origin, counter(m))).encode()));
            const results = streams.map(({ stream }) => {
              const receipts = new Uint8Array(batch.length);
              return { summary: stream.receiveMany(bytes, receipts), receipts: [...receipts] };
            });
            expect(results[1]).toEqual(results[0]);
            results[0]!.receipts.forEach((r) => seen.add(r));
          }
          expect(streams[1]!.table.states()).toEqual(streams[0]!.table.states());
          expect(hex(streams[1]!.stream.save())).toBe(hex(streams[0]!.stream.save()));
          expect(streams[1]!.stream.gaps(50)).toEqual(streams[0]!.stream.gaps(50));
          kinds.push(seen.size);
        },
      ),
      { numRuns: 200 },
    );
    // The schedules reach every kind of receipt, most runs more than two.
    expect(kinds.filter((k) => k >= 3).length).toBeGreaterThan(100);
  });

  it('the raw addon function refuses bad arguments with an error or a status, never a crash, and changes nothing then', () => {
    const b = nativeBinding as unknown as { streamReceive: (...args: unknown[]) => number };
    const acc = new BigUint64Array(4);
    const rec = () => ({
      through: new Float64Array(256),
      highest: new Float64Array(256),
      next: new Uint32Array(256).fill(1),
      head: new Uint32Array(256),
      offset: new Int32Array(256).fill(-1),
      bits: new Uint32Array(1),
    });
    const r = rec();
    r.offset[1] = 0;
    const msg = (addr: number, seq: number) => new DeltaMessage(addr, 5n, 0, seq).encode();
    const call = (
      msgs: Uint8Array,
      over: Partial<ReturnType<typeof rec>> = {},
      window = 32,
      receipts: Uint8Array | null = null,
      counts = new Float64Array(4),
    ) => {
      const x = { ...r, ...over };
      return b.streamReceive(0, acc, msgs, x.through, x.highest, x.next, x.head, x.offset, x.bits, window, receipts, counts);
    };
    expect(call(msg(1, 0x01000001))).toBe(0);
    expect([acc[1], r.through[1]]).toEqual([5n, 1]);
    expect(call(msg(4, 0x01000002))).toBe(-1); // addr outside the table
    expect(call(msg(0, 0x00000002))).toBe(-10); // origin 0
    expect(call(msg(0, 0x01000000))).toBe(-10); // no counter
    expect(call(msg(0, 0x02000001))).toBe(-11); // no record
    expect(call(msg(0, 0x01000002), { offset: Int32Array.from({ length: 256 }, (_, o) => (o === 1 ? 1 : -1)) })).toBe(-11); // ring past the end
    expect(call(msg(0, 0x01000002), {}, 48)).toBe(-12);
    expect(call(msg(0, 0x01000002), {}, 64)).toBe(-11); // a 64-counter ring needs two words
    expect([acc[0], acc[1], r.through[1], r.bits[0]]).toEqual([0n, 5n, 1, 0]);
    expect(() => b.streamReceive(0, acc)).toThrow(TypeError);
    expect(() => call(new Uint8Array(17))).toThrow(RangeError);
    expect(() => call(msg(0, 0x01000002), { through: new Float64Array(3) })).toThrow(RangeError);
    expect(() => call(msg(0, 0x01000002), { next: new Float64Array(256) as never })).toThrow(TypeError);
    expect(() => call(msg(0, 0x01000002), {}, 32, new Uint8Array(2))).toThrow(RangeError);
    expect(() => call(msg(0, 0x01000002), {}, 32, null, new Float64Array(3))).toThrow(RangeError);
    expect(() => call(msg(0, 0x01000002), {}, -1)).toThrow(RangeError);
    // Garbage in the records (another thread's writes, say) changes answers, never memory safety.
    const wild = {
      through: new Float64Array(256).fill(NaN),
      highest: new Float64Array(256).fill(Infinity),
      next: new Uint32Array(256).fill(0xffffffff),
      head: new Uint32Array(256).fill(0xffffffff),
    };
    expect(call(concat([msg(2, 0x01000005), msg(3, 0x01ffffff)]), wild)).toBe(0);
  });
});
