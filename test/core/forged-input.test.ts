// Forged input, tried as an attacker would: messages made from the
// prototype, receipts that alias the message bytes, typed arrays whose
// length lies, saved stream states and table files that are damaged behind
// a valid checksum, log entries with fields out of range. Each is refused
// with an exact code and changes nothing, on the js and the native engine.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomikTable, DeltaMessage, DeltaStream, loadTable, packSeq, saveTable } from '../../lib/index.js';
import { ENTRY_STATUS, encodeLogEntry, readLogEntryHeader } from '../../lib/replicate/index.js';
import { crc32 } from '../../lib/core/crc.js';
import { encodeSnapshot } from '../../lib/table/snapshot.js';
import { ENGINES } from '../helpers/engines.js';
import { describeUnless } from '../helpers/skip.js';
import { codeOf as helperCode } from '../helpers/errors.js';
import { hex } from '../helpers/values.js';

/** The class name and code of the error fn throws ('AtomikRangeError ERR_ATOMIK_...'), or 'no error'. */
function codeOf(fn: () => unknown): string {
  let name = '';
  const code = helperCode(() => {
    try {
      fn();
    } catch (err) {
      name = (err as Error).name;
      throw err;
    }
  });
  return code === undefined ? 'no error' : code.startsWith('uncoded') ? code : `${name} ${code}`;
}

/** An object that passes `instanceof DeltaMessage` with the given own fields. */
function forged(fields: Record<string, unknown>): DeltaMessage {
  const m = Object.create(DeltaMessage.prototype) as DeltaMessage;
  for (const [k, v] of Object.entries(fields)) Object.defineProperty(m, k, { value: v, enumerable: true });
  return m;
}

const valid = { addr: 3, delta: 5n, epoch: 0, seq: packSeq(1, 1) };

for (const { name, engine, skipReason } of ENGINES) {
  describeUnless(skipReason, `forged input, ${name} engine`, () => {
    const setup = () => {
      const table = new AtomikTable(8, { group: 'add', engine: engine! });
      const stream = new DeltaStream({ table });
      const sender = new DeltaStream({ origin: 1, group: 'add' });
      stream.receive(sender.accum(2, 7n)); // origin 1 has a record through counter 1
      return { table, stream, sender };
    };

    it('receive() and apply() refuse a DeltaMessage forged from the prototype, field by field, before any record moves', () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ addr: -1 }, 'AtomikRangeError ERR_ATOMIK_INDEX_OUT_OF_RANGE'],
        [{ addr: 'x' }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [{ addr: 1.5 }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [{ addr: NaN }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [{ addr: 2 ** 40 }, 'AtomikRangeError ERR_ATOMIK_INDEX_OUT_OF_RANGE'],
        [{ addr: 8 }, 'AtomikRangeError ERR_ATOMIK_INDEX_OUT_OF_RANGE'], // past the table
        [{ seq: 2 ** 32 + packSeq(1, 2) }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
        [{ seq: -1 }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
        [{ seq: undefined }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [{ delta: -1n }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
        [{ delta: 2n ** 64n + 1n }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
        [{ delta: 5 }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [{ epoch: -2 }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
      ];
      for (const [fields, code] of cases) {
        const { table, stream } = setup();
        const saved = hex(stream.save());
        const msg = forged({ ...valid, seq: packSeq(1, 2), ...fields });
        expect(
          codeOf(() => stream.receive(msg)),
          JSON.stringify(fields, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        ).toBe(code);
        expect(codeOf(() => stream.apply(msg))).toBe(code);
        expect(hex(stream.save())).toBe(saved);
        expect([...table.states()]).toEqual([0n, 0n, 7n, 0n, 0n, 0n, 0n, 0n]);
      }
      // A valid forgery is read once and applied like the real message.
      const { table, stream } = setup();
      let reads = 0;
      const shifty = Object.create(DeltaMessage.prototype) as DeltaMessage;
      Object.defineProperty(shifty, 'addr', { get: () => (reads++ === 0 ? 4 : -1) });
      for (const [k, v] of Object.entries({ delta: 9n, epoch: 0, seq: packSeq(1, 2) })) Object.defineProperty(shifty, k, { value: v });
      expect(stream.receive(shifty)).toBe('applied');
      expect(reads).toBe(1);
      expect([...table.states()]).toEqual([0n, 0n, 7n, 0n, 9n, 0n, 0n, 0n]);
      expect(codeOf(() => stream.receive({ ...valid } as never))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
      expect(codeOf(() => stream.receive(new Proxy(new DeltaMessage(1, 1n, 0, packSeq(1, 3)), {})))).toBe('no error');
      expect(table.read(1)).toBe(1n);
    });

    it('receiveMany() with receipts aliasing the message bytes reads every message as given', () => {
      const sender = new DeltaStream({ origin: 1, group: 'add' });
      const msgs = Buffer.concat(Array.from({ length: 40 }, (_, k) => sender.accum(k % 8, BigInt(k + 1)).encode()));
      const copy = Buffer.concat([msgs.subarray(0, 16 * 40), msgs.subarray(0, 16 * 2)]); // two duplicates at the end
      const want = (() => {
        const table = new AtomikTable(8, { group: 'add', engine: engine! });
        const receipts = new Uint8Array(42);
        const summary = new DeltaStream({ table }).receiveMany(copy, receipts);
        return { summary, receipts: [...receipts], states: [...table.states()] };
      })();
      expect(want.summary).toEqual({ applied: 40, duplicate: 2, stale: 0, ahead: 0, restarted: 0, session: 0 });
      for (const at of [0, 5, 16 * 20, 16 * 42 - 42]) {
        const table = new AtomikTable(8, { group: 'add', engine: engine! });
        const data = Uint8Array.from(copy);
        const receipts = data.subarray(at, at + 42);
        const summary = new DeltaStream({ table }).receiveMany(data, receipts);
        expect({ summary, receipts: [...receipts], states: [...table.states()] }, `receipts at byte ${at}`).toEqual(want);
      }
    });

    it('receiveMany() refuses receipts whose length lies or that are not a Uint8Array, and changes nothing', () => {
      const { table, stream, sender } = setup();
      const data = Buffer.concat([sender.accum(1, 1n).encode(), sender.accum(1, 1n).encode()]);
      const saved = hex(stream.save());
      class Liar extends Uint8Array {
        override get length(): number {
          return 1;
        }
      }
      const cases: [unknown, string][] = [
        [new Liar(2), 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [new Uint8Array(1), 'AtomikRangeError ERR_ATOMIK_LENGTH_MISMATCH'],
        [new Uint16Array(2), 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [[0, 0], 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
        [new Proxy(new Uint8Array(2), {}), 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
      ];
      for (const [receipts, code] of cases) {
        expect(codeOf(() => stream.receiveMany(data, receipts as Uint8Array))).toBe(code);
        expect(hex(stream.save())).toBe(saved);
        expect(table.read(1)).toBe(0n);
      }
      // A subclass that tells the truth is written through its intrinsic length.
      const honest = new (class extends Uint8Array {})(2);
      expect(stream.receiveMany(data, honest)).toEqual({ applied: 2, duplicate: 0, stale: 0, ahead: 0, restarted: 0, session: 0 });
      expect([...honest]).toEqual([0, 0]);
    });

    it('a sender started again without its saved state takes a new session: the receiver answers restarted, not duplicate', () => {
      for (const batched of [false, true]) {
        const table = new AtomikTable(4, { group: 'add', engine: engine! });
        const receiver = new DeltaStream({ table, window: 32 });
        const take = (msgs: DeltaMessage[]) => {
          if (!batched) return msgs.map((m) => receiver.receive(m));
          const receipts = new Uint8Array(msgs.length);
          receiver.receiveMany(Buffer.concat(msgs.map((m) => m.encode())), receipts);
          return [...receipts].map((r) => ['applied', 'duplicate', 'stale', 'ahead', 'restarted', 'session'][r]);
        };
        const first = new DeltaStream({ origin: 4, group: 'add', outbox: 64, session: 10n });
        for (let k = 0; k < 20; k++) first.accum(1, 1n);
        expect(take(first.pending())).toEqual(['session', ...Array(20).fill('applied')]); // its session message, then 20 deltas
        // Started again from scratch: counters 1.. again, in a later session.
        const again = new DeltaStream({ origin: 4, group: 'add', outbox: 64, session: 11n });
        for (let k = 0; k < 3; k++) again.accum(1, 100n);
        expect(take(again.pending())).toEqual(['restarted', 'applied', 'applied', 'applied']);
        expect(table.read(1)).toBe(320n);
        expect(receiver.deliveredFrom(4)).toEqual({ through: 3, highest: 3 });
        // Late copies: the old session's announcement is stale, the new one's a duplicate.
        expect(take([first.sessionMessage()!, again.sessionMessage()!])).toEqual(['stale', 'duplicate']);
        expect(table.read(1)).toBe(320n);
      }
      // A session message is not a delta: apply() (the reference semantics) refuses it.
      const own = new DeltaStream({ group: 'add' });
      const hello = new DeltaStream({ origin: 9, group: 'add' }).sessionMessage()!;
      expect([hello.addr, hello.seq, hello.delta > 0n]).toEqual([0xffffffff, 9 * 2 ** 24, true]);
      expect(codeOf(() => own.apply(hello))).toBe('AtomikRangeError ERR_ATOMIK_NO_COUNTER');
      expect(own.addresses()).toEqual([]);
      expect(own.receive(hello)).toBe('session');
      // A stream with an origin and no saved state draws a session from the clock; a resumed one keeps its own.
      const a = new DeltaStream({ origin: 1 });
      const b = new DeltaStream({ origin: 1 });
      expect(a.session).toBeGreaterThan(0n);
      expect(b.session).not.toBe(a.session);
      expect(DeltaStream.restore(a.save()).session).toBe(a.session);
      expect(new DeltaStream({ origin: 1, counter: 5 }).session).toBe(0n);
      expect(new DeltaStream({ origin: 1, counter: 5 }).sessionMessage()).toBe(null);
      expect(codeOf(() => new DeltaStream({ session: 5n }))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_VALUE');
      expect(codeOf(() => new DeltaStream({ origin: 1, session: 0n }))).toBe('AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE');
      expect(codeOf(() => new DeltaStream({ origin: 1, session: 5 as never }))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
    });

    it('a table is known by its private core: look-alikes are refused, redefined properties are not consulted', () => {
      const fake = Object.create(AtomikTable.prototype) as AtomikTable;
      expect(codeOf(() => new DeltaStream({ table: fake }))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
      expect(codeOf(() => saveTable(fake, join(tmpdir(), 'never-written.bin')))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
      const real = new AtomikTable(4, { group: 'add', engine: engine! });
      const saved = new DeltaStream({ table: real }).save();
      expect(codeOf(() => DeltaStream.restore(saved, { table: fake }))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
      Object.defineProperty(real, 'size', { value: 2 ** 30 });
      Object.defineProperty(real, 'group', { value: 'xor' });
      const stream = new DeltaStream({ table: real });
      expect(stream.group).toBe('add');
      const sender = new DeltaStream({ origin: 2, group: 'add' });
      sender.accum(3, 1n);
      expect(codeOf(() => stream.receive(sender.accum(4, 1n)))).toBe('AtomikRangeError ERR_ATOMIK_INDEX_OUT_OF_RANGE');
      expect(DeltaStream.restore(saved, { table: real }).group).toBe('add');
    });

    it('restore() refuses a CRC-valid state that claims its own contexts while feeding a table', () => {
      const table = new AtomikTable(4, { engine: engine! });
      const saved = new DeltaStream({ table }).save();
      // Claim one context (24 bytes) with the flags still saying "feeds a table", and seal it again.
      const b = new Uint8Array(saved.length + 24);
      b.set(saved.subarray(0, saved.length - 4));
      const v = new DataView(b.buffer);
      v.setUint32(32, 1, true);
      v.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
      expect(codeOf(() => DeltaStream.restore(b, { table }))).toBe('AtomikRangeError ERR_ATOMIK_BAD_STREAM_STATE');
      expect(() => DeltaStream.restore(b, { table })).toThrow('1 contexts saved by a stream that feeds a table');
      expect([...table.states()]).toEqual([0n, 0n, 0n, 0n]);
    });
  });
}

describe('table files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomik-table-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every damaged file is refused with ERR_ATOMIK_BAD_TABLE_FILE: each byte flipped, each length cut', () => {
    const table = new AtomikTable(5, { group: 'add', engine: 'js' });
    for (let i = 0; i < 5; i++) table.load(i, BigInt(i) * 0x0101010101n + 1n);
    const path = join(dir, 't.bin');
    saveTable(table, path);
    const good = readFileSync(path);
    expect(good.length).toBe(48 + 5 * 8);
    expect([...loadTable(path, { engine: 'js' }).states()]).toEqual([...table.states()]);
    const damaged: Uint8Array[] = [];
    for (let at = 0; at < good.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const b = Uint8Array.from(good);
        b[at]! ^= bit;
        damaged.push(b);
      }
    }
    for (let n = 0; n < good.length; n++) damaged.push(good.subarray(0, n));
    damaged.push(Buffer.concat([good, Buffer.alloc(8)]));
    for (const [k, b] of damaged.entries()) {
      writeFileSync(path, b);
      expect(
        codeOf(() => loadTable(path)),
        `damaged file ${k}`,
      ).toBe('AtomikRangeError ERR_ATOMIK_BAD_TABLE_FILE');
    }
    expect(damaged.length).toBe(2 * 88 + 88 + 1);
  });

  it('a replicated partition is not a whole table; bad arguments and missing files have codes', () => {
    const path = join(dir, 'p.bin');
    saveTable(new AtomikTable(2, { engine: 'js' }), path);
    writeFileSync(path, encodeSnapshot({ group: 'xor', partition: 1, partitions: 3, position: '5-0', record: new Map(), states: new BigUint64Array(2) }));
    expect(codeOf(() => loadTable(path))).toBe('AtomikRangeError ERR_ATOMIK_BAD_TABLE_FILE');
    expect(() => loadTable(path)).toThrow('partition 1 of 3');
    expect(codeOf(() => loadTable(join(dir, 'missing.bin')))).toBe('Error ENOENT');
    expect(codeOf(() => loadTable(''))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
    expect(codeOf(() => loadTable(path, 5 as never))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
    expect(codeOf(() => saveTable({} as never, path))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
    expect(codeOf(() => saveTable(new AtomikTable(1), 7 as never))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
  });
});

describe('the log entry codec (atomik-node/replicate)', () => {
  const idx = Uint32Array.of(1, 2);
  const d = BigUint64Array.of(3n, 4n);
  const encode = (
    over: Partial<{
      group: unknown;
      partition: unknown;
      origin: unknown;
      first: unknown;
      last: unknown;
      indices: unknown;
      deltas: unknown;
      count: unknown;
      encoding: unknown;
    }>,
  ) => {
    const a = { group: 'xor', partition: 0, origin: 1n, first: 1n, last: 1n, indices: idx, deltas: d, count: undefined, encoding: undefined, ...over };
    return encodeLogEntry(
      a.group as never,
      a.partition as never,
      a.origin as never,
      a.first as never,
      a.last as never,
      a.indices as never,
      a.deltas as never,
      a.count as never,
      a.encoding as never,
    );
  };

  it('encodeLogEntry() checks every argument', () => {
    const cases: [Parameters<typeof encode>[0], string][] = [
      [{ group: 'klingon' }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_VALUE'],
      [{ partition: 70000 }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
      [{ partition: -1 }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
      [{ partition: 0.5 }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
      [{ origin: -1n }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
      [{ origin: 1 }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
      [{ first: 2n ** 64n }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
      [{ first: 5n, last: 4n }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
      [{ count: 3 }, 'AtomikRangeError ERR_ATOMIK_LENGTH_MISMATCH'],
      [{ count: -1 }, 'AtomikRangeError ERR_ATOMIK_OUT_OF_RANGE'],
      [{ deltas: BigUint64Array.of(1n) }, 'AtomikRangeError ERR_ATOMIK_LENGTH_MISMATCH'],
      [{ indices: [1, 2] }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
      [{ deltas: new BigInt64Array(2) }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE'],
      [{ encoding: 'packed' }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_VALUE'],
      [{ encoding: 2 }, 'AtomikTypeError ERR_ATOMIK_INVALID_ARG_VALUE'],
    ];
    for (const [over, code] of cases)
      expect(
        codeOf(() => encode(over)),
        JSON.stringify(over, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      ).toBe(code);
    const entry = encode({ group: 'add', partition: 65535, origin: 2n ** 64n - 1n, first: 7n, last: 9n, count: 1 });
    const header = { group: 'add', partition: 65535, count: 1, origin: 2n ** 64n - 1n, first: 7n, last: 9n };
    expect(readLogEntryHeader(entry)).toEqual({ version: 2, ...header });
    expect(readLogEntryHeader(encode({ group: 'add', partition: 65535, origin: 2n ** 64n - 1n, first: 7n, last: 9n, count: 1, encoding: 'columns' }))).toEqual({
      version: 1,
      ...header,
    });
  });

  it('readLogEntryHeader() reads any bytes through their intrinsic view and names anything else', () => {
    const entry = encode({});
    class Liar extends Uint8Array {
      override get length(): number {
        return 0;
      }
    }
    const lying = new Liar(entry.length);
    lying.set(entry);
    expect(readLogEntryHeader(lying)).toEqual(readLogEntryHeader(entry));
    expect(readLogEntryHeader(new DataView(entry.buffer) as never)).toEqual(readLogEntryHeader(entry));
    expect(readLogEntryHeader(entry.subarray(0, 47))).toBe(ENTRY_STATUS.format);
    expect(codeOf(() => readLogEntryHeader('entry' as never))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
    expect(codeOf(() => readLogEntryHeader(null as never))).toBe('AtomikTypeError ERR_ATOMIK_INVALID_ARG_TYPE');
  });
});

const native = ENGINES.find((e) => e.name === 'native')!;
describeUnless(native.skipReason, 'session messages inside a batch: the js path and native/stream.c agree', () => {
  it('a batch split at its session messages gives the same receipts, states and records on both engines', () => {
    const first = new DeltaStream({ origin: 1, group: 'xor', outbox: 1000, session: 100n });
    const other = new DeltaStream({ origin: 2, group: 'xor', outbox: 1000, session: 7n });
    for (let k = 0; k < 40; k++) first.accum(k % 16, (BigInt(k) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn);
    for (let k = 0; k < 30; k++) other.accum(k % 16, BigInt(k + 1));
    const again = new DeltaStream({ origin: 1, group: 'xor', outbox: 1000, session: 200n });
    for (let k = 0; k < 25; k++) again.accum(k % 16, 1n << BigInt(k));
    const a = first.pending();
    const b = other.pending();
    const c = again.pending();
    // Interleaved, with copies, a restart in the middle and a late copy of the old announcement.
    const batch = [...a.slice(0, 20), ...b.slice(0, 17), ...a.slice(20), a[5]!, ...c, ...b.slice(17), a[0]!, c[3]!];
    const bytes = Buffer.concat(batch.map((m) => m.encode()));
    const results = [ENGINES[0]!.engine!, native.engine!].map((engine) => {
      const table = new AtomikTable(16, { engine });
      const stream = new DeltaStream({ table, window: 64 });
      const receipts = new Uint8Array(batch.length);
      const summary = stream.receiveMany(bytes, receipts);
      return { summary, receipts: [...receipts], states: [...table.states()], saved: hex(stream.save()) };
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[0]!.summary).toEqual({ applied: 40 + 30 + 25, duplicate: 2, stale: 1, ahead: 0, restarted: 1, session: 2 });
    const want = new DeltaStream({ group: 'xor' });
    for (const m of [...a.slice(1), ...b.slice(1)]) want.apply(m); // everything, the old session's deltas included
    for (const m of c.slice(1)) want.apply(m);
    for (let i = 0; i < 16; i++) expect(results[0]!.states[i], `context ${i}`).toBe(want.read(i));
  });

  it('a state saved in version 1 (before sessions) is still read, with no sessions', () => {
    const s = new DeltaStream({ origin: 3, counter: 7, group: 'add', window: 32 });
    s.receive(new DeltaStream({ origin: 1, group: 'add' }).accum(2, 5n));
    const v2 = s.save();
    // Version 1: a 48-byte header and 24-byte record headers, no session fields.
    const record = v2.subarray(56, 56 + 32 + 4);
    const v1 = new Uint8Array(48 + 24 + 4 + 24 + 4);
    v1.set(v2.subarray(0, 48));
    v1[4] = 1;
    v1.set(record.subarray(0, 24), 48);
    v1.set(record.subarray(32, 36), 72);
    v1.set(v2.subarray(56 + 36, 56 + 36 + 24), 76);
    new DataView(v1.buffer).setUint32(100, crc32(v1.subarray(0, 100)), true);
    const back = DeltaStream.restore(v1);
    expect([back.session, back.counter, back.read(2), back.deliveredFrom(1)]).toEqual([0n, 7, 5n, { through: 1, highest: 1 }]);
    expect(hex(back.save())).toBe(hex(v2));
  });
});
