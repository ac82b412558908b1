// The replication batch and snapshot formats: golden bytes from
// test/golden/generate_batches.py (an independent Python implementation of
// lib/replicate/BATCH-FORMAT.md), and the engines' applyBatch on valid,
// corrupted, unaligned and foreign input: same status on both engines, all
// or nothing.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Group } from '../../lib/index.js';
import { ENTRY_STATUS, batchChecksum, encodeLogEntry, logEntryColumns, readLogEntryHeader } from '../../lib/engine/log-entry.js';
import { decodeSnapshot, encodeSnapshot } from '../../lib/table/snapshot.js';
import { ENGINES, nativeBinding } from '../helpers/engines.js';
import { itUnless } from '../helpers/skip.js';
import { hex } from '../helpers/values.js';

interface GoldenBatch {
  name: string;
  group: Group;
  partition: number;
  origin: string;
  first: string;
  last: string;
  indices: number[];
  deltas: string[];
  hex: string;
  /** A table that holds every index, or null when one is past 2^20. */
  size: number | null;
  /** Every state after applying the entry (version 1 cases), */
  states?: string[];
  /** or the states of the indices it touches, all others 0 (compact cases). */
  touched?: [number, string][] | null;
}
interface GoldenSnapshot {
  name: string;
  group: Group;
  partition: number;
  partitions: number;
  position: string;
  record: [string, string][];
  states: string[];
  hex: string;
}
const golden = JSON.parse(readFileSync(new URL('../golden/batches.json', import.meta.url), 'utf8')) as { batches: GoldenBatch[]; snapshots: GoldenSnapshot[] };

/** The bytes at an odd offset inside a larger buffer, as Redis clients hand them out. */
function unaligned(bytes: Uint8Array, offset = 3): Uint8Array {
  const big = new Uint8Array(bytes.length + offset + 5);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}

/** A version 2 entry of partition 0 with the given column bytes and a valid checksum. */
function compactEntry(group: Group, n: number, indexColumn: number[], deltaColumn: number[], indexBytes = indexColumn.length): Buffer {
  const b = Buffer.alloc(48 + indexColumn.length + deltaColumn.length);
  b.write('AKDB', 0, 'latin1');
  b[4] = 2;
  b[5] = group === 'add' ? 1 : 0;
  b.writeUInt32LE(n, 8);
  b.writeUInt32LE(indexBytes, 12);
  b.writeBigUInt64LE(9n, 16);
  b.writeBigUInt64LE(1n, 24);
  b.writeBigUInt64LE(1n, 32);
  b.set(indexColumn, 48);
  b.set(deltaColumn, 48 + indexColumn.length);
  b.writeBigUInt64LE(batchChecksum(b), 40);
  return b;
}

/** What the follower's checks without applying say: logEntryColumns, then the index range. */
function checkOnly(group: Group, size: number, entry: Uint8Array): number {
  const columns = logEntryColumns(entry, group, 0);
  if (typeof columns === 'number') return columns;
  return columns.indices.every((i) => i < size) ? ENTRY_STATUS.ok : ENTRY_STATUS.range;
}

describe('batch entries: golden bytes', () => {
  for (const g of golden.batches) {
    it(g.name, () => {
      const version = Number.parseInt(g.hex.slice(8, 10), 16);
      const bytes = encodeLogEntry(
        g.group,
        g.partition,
        BigInt(g.origin),
        BigInt(g.first),
        BigInt(g.last),
        Uint32Array.from(g.indices),
        BigUint64Array.from(g.deltas.map(BigInt)),
        undefined,
        version === 1 ? 'columns' : 'compact',
      );
      expect(hex(bytes)).toBe(g.hex);
      expect(readLogEntryHeader(Buffer.from(g.hex, 'hex'))).toEqual({
        version,
        group: g.group,
        partition: g.partition,
        count: g.indices.length,
        origin: BigInt(g.origin),
        first: BigInt(g.first),
        last: BigInt(g.last),
      });
      const sum = batchChecksum(bytes);
      expect(sum).toBe(Buffer.from(g.hex, 'hex').readBigUInt64LE(40));
      if (nativeBinding) expect(nativeBinding.batchChecksum(unaligned(bytes))).toBe(sum);
    });
  }
});

describe.each(ENGINES)('$name engine: applyBatch', ({ engine, skipReason }) => {
  itUnless(skipReason, 'applies the golden entries, aligned or not, to the exact states', () => {
    for (const g of golden.batches) {
      for (const bytes of [Buffer.from(g.hex, 'hex'), unaligned(Buffer.from(g.hex, 'hex')), unaligned(Buffer.from(g.hex, 'hex'), 4)]) {
        const acc = new BigUint64Array(g.size ?? 8);
        const status = engine!.applyBatch(g.group, new BigUint64Array(acc.length), acc, g.partition, bytes);
        if (g.size === null) {
          expect([g.name, status, Array.from(acc)]).toEqual([g.name, ENTRY_STATUS.range, new Array<bigint>(8).fill(0n)]);
          continue;
        }
        expect([g.name, status]).toEqual([g.name, ENTRY_STATUS.ok]);
        if (g.states) expect(Array.from(acc, String)).toEqual(g.states);
        else {
          const touched = new Map(g.touched);
          expect(Array.from(acc, (v, i) => [i, String(v)]).filter(([i, v]) => touched.has(i as number) || v !== '0')).toEqual(g.touched);
        }
        // A table one short of the highest index: it is refused, nothing applied.
        if (g.indices.length > 0) {
          const small = new BigUint64Array(Math.max(...g.indices));
          expect(engine!.applyBatch(g.group, new BigUint64Array(small.length), small, g.partition, bytes)).toBe(ENTRY_STATUS.range);
          expect(small.every((v) => v === 0n)).toBe(true);
        }
      }
    }
  });

  itUnless(skipReason, 'refuses foreign, damaged and mismatched entries with a status, changing nothing', () => {
    const g = golden.batches[1]!; // add, partition 0
    const good = Buffer.from(g.hex, 'hex');
    const variant = (edit: (b: Buffer) => Buffer | Uint8Array) => edit(Buffer.from(good));
    const cases: [string, Uint8Array, number, Group, number][] = [
      ['wrong magic', variant((b) => ((b[0] = 0x58), b)), ENTRY_STATUS.format, 'add', 0],
      ['header only', good.subarray(0, 48), ENTRY_STATUS.format, 'add', 0],
      ['shorter than a header', good.subarray(0, 20), ENTRY_STATUS.format, 'add', 0],
      ['empty', new Uint8Array(0), ENTRY_STATUS.format, 'add', 0],
      ['one byte too many', Buffer.concat([good, Buffer.of(0)]), ENTRY_STATUS.format, 'add', 0],
      ['count larger than the data', variant((b) => (b.writeUInt32LE(0xffffffff, 8), b)), ENTRY_STATUS.format, 'add', 0],
      ['flags set', variant((b) => (b.writeUInt32LE(1, 12), b)), ENTRY_STATUS.format, 'add', 0],
      ['version 3', variant((b) => ((b[4] = 3), b)), ENTRY_STATUS.version, 'add', 0],
      ['a delta bit flipped', variant((b) => ((b[b.length - 1]! ^= 0x10), b)), ENTRY_STATUS.checksum, 'add', 0],
      ['the checksum flipped', variant((b) => ((b[40]! ^= 1), b)), ENTRY_STATUS.checksum, 'add', 0],
      ['another partition', good, ENTRY_STATUS.format, 'add', 1],
      ['another group', good, ENTRY_STATUS.group, 'xor', 0],
    ];
    for (const [what, bytes, status, group, partition] of cases) {
      const acc = BigUint64Array.of(1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n);
      expect([what, engine!.applyBatch(group, new BigUint64Array(8), acc, partition, bytes)]).toEqual([what, status]);
      expect(Array.from(acc)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    }
    // An index past the table: checked whole before anything is applied.
    const acc = new BigUint64Array(4);
    const far = encodeLogEntry('add', 0, 1n, 1n, 1n, Uint32Array.of(0, 1, 4), BigUint64Array.of(1n, 1n, 1n));
    expect(engine!.applyBatch('add', new BigUint64Array(4), acc, 0, far)).toBe(ENTRY_STATUS.range);
    expect(Array.from(acc)).toEqual([0n, 0n, 0n, 0n]);
    expect(engine!.applyBatch('add', new BigUint64Array(0), new BigUint64Array(0), 0, far)).toBe(ENTRY_STATUS.range);
  });
});

describe.each(ENGINES)('$name engine: applyBatch on compact entries', ({ engine, skipReason }) => {
  itUnless(skipReason, 'refuses every malformed column with its status, in stream order, changing nothing', () => {
    const ten = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const cases: [string, Buffer, number][] = [
      ['valid: +1 at 0, -1 at 3', compactEntry('add', 2, [0, 3], [2, 1]), ENTRY_STATUS.ok],
      ['an index varint cut short', compactEntry('add', 1, [0x80], [2]), ENTRY_STATUS.truncated],
      ['a delta varint cut short', compactEntry('add', 1, [0], [0x80]), ENTRY_STATUS.truncated],
      ['an index wider than 32 bits', compactEntry('add', 1, [0xff, 0xff, 0xff, 0xff, 0x10], [2]), ENTRY_STATUS.overlong],
      ['an index varint with a sixth byte', compactEntry('add', 1, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00], [2]), ENTRY_STATUS.overlong],
      ['an index varint not minimal', compactEntry('add', 1, [0x81, 0x00], [2]), ENTRY_STATUS.overlong],
      ['a delta wider than 64 bits', compactEntry('add', 1, [0], [...ten, 0x02]), ENTRY_STATUS.overlong],
      ['a delta varint with an eleventh byte', compactEntry('add', 1, [0], [...ten, 0x81, 0x00]), ENTRY_STATUS.overlong],
      ['a delta varint not minimal', compactEntry('add', 1, [0], [0x82, 0x00]), ENTRY_STATUS.overlong],
      ['the same index twice', compactEntry('add', 2, [1, 0], [2, 2]), ENTRY_STATUS.order],
      ['indices not ascending come before a short delta', compactEntry('add', 2, [1, 0], [2, 0x80]), ENTRY_STATUS.order],
      ['an index overlong comes before a short delta', compactEntry('add', 1, [0x81, 0x00], [0x80]), ENTRY_STATUS.overlong],
      ['an index past 2^32 - 1 (in range of nothing)', compactEntry('add', 2, [0xff, 0xff, 0xff, 0xff, 0x0f, 1], [2, 2]), ENTRY_STATUS.range],
      ['an index past the table after valid ones', compactEntry('add', 2, [0, 8], [2, 2]), ENTRY_STATUS.range],
      ['a structure fault after an index past the table', compactEntry('add', 2, [8, 0], [2, 2]), ENTRY_STATUS.order],
      ['bytes after the last index', compactEntry('add', 1, [0, 1], [2]), ENTRY_STATUS.trailing],
      ['bytes after the last delta', compactEntry('add', 1, [0], [2, 2]), ENTRY_STATUS.trailing],
      ['a count beyond the index column', compactEntry('add', 3, [0, 1], [2, 2, 2]), ENTRY_STATUS.format],
      ['a count beyond the delta column', compactEntry('add', 2, [0, 1], [2]), ENTRY_STATUS.format],
      ['an index column longer than the entry', compactEntry('add', 1, [0], [2], 3), ENTRY_STATUS.format],
      ['xor words are not zigzag: 1 is 1', compactEntry('xor', 1, [7], [1]), ENTRY_STATUS.ok],
    ];
    for (const [what, bytes, status] of cases) {
      const group: Group = bytes[5] === 1 ? 'add' : 'xor';
      for (const input of [bytes, unaligned(bytes)]) {
        const acc = BigUint64Array.of(1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n);
        expect([what, engine!.applyBatch(group, new BigUint64Array(8), acc, 0, input)]).toEqual([what, status]);
        expect([what, checkOnly(group, 8, input)]).toEqual([what, status]);
        if (status !== ENTRY_STATUS.ok) expect([what, Array.from(acc)]).toEqual([what, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]]);
      }
    }
    const acc = new BigUint64Array(8);
    engine!.applyBatch('add', new BigUint64Array(8), acc, 0, cases[0]![1]);
    expect(Array.from(acc)).toEqual([1n, 0n, 0n, (1n << 64n) - 1n, 0n, 0n, 0n, 0n]);
    engine!.applyBatch('xor', new BigUint64Array(8), acc, 0, cases.at(-1)![1]);
    expect(acc[7]).toBe(1n);
  });
});

describe('compact encoding', () => {
  it('sorts, combines repeated indices, and falls back to version 1 when it is not smaller', () => {
    const e = encodeLogEntry('add', 0, 1n, 1n, 1n, Uint32Array.of(9, 2, 9, 0), BigUint64Array.of(1n, 5n, (1n << 64n) - 1n, 3n));
    expect(readLogEntryHeader(e)).toMatchObject({ version: 2, count: 3 });
    expect(logEntryColumns(e, 'add', 0)).toEqual({ indices: Uint32Array.of(0, 2, 9), deltas: BigUint64Array.of(3n, 5n, 0n) });
    // Words with the top bit set take 10 bytes as varints, gaps of 2^28 five: 89 bytes against 88 for version 1.
    const words = BigUint64Array.of(0xfedcba9876543210n, 0x8000000000000001n, 1n << 63n);
    const far = Uint32Array.of(0, 1 << 28, 1 << 29);
    const raw = encodeLogEntry('xor', 0, 1n, 1n, 1n, far, words);
    expect(hex(raw)).toBe(hex(encodeLogEntry('xor', 0, 1n, 1n, 1n, far, words, undefined, 'columns')));
    expect(readLogEntryHeader(raw)).toMatchObject({ version: 1 });
    // Dense indices save 3 bytes an update, more than the words lose: compact.
    expect(encodeLogEntry('xor', 0, 1n, 1n, 1n, Uint32Array.of(0, 1, 2), words).length).toBe(48 + 3 + 30);
    expect(() => encodeLogEntry('xor', 0, 1n, 1n, 1n, Uint32Array.of(0), words, 1, 'packed' as never)).toThrow(
      "encoding must be one of 'compact', 'columns', got \"packed\"",
    );
  });

  it('round-trips any updates, through both engines, to the states the updates give', () => {
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const small = fc.bigInt({ min: -300n, max: 300n }).map((v) => BigInt.asUintN(64, v));
    fc.assert(
      fc.property(
        fc.constantFrom<Group>('xor', 'add'),
        fc.array(fc.tuple(fc.nat({ max: 5000 }), fc.oneof(u64, small)), { maxLength: 80 }),
        (group, updates) => {
          const expected = new BigUint64Array(5001);
          for (const [i, d] of updates) expected[i] = group === 'add' ? BigInt.asUintN(64, expected[i]! + d) : expected[i]! ^ d;
          const entry = encodeLogEntry(group, 0, 2n, 1n, 1n, Uint32Array.from(updates.map((u) => u[0])), BigUint64Array.from(updates.map((u) => u[1])));
          for (const { engine } of ENGINES) {
            if (!engine) continue;
            const acc = new BigUint64Array(5001);
            expect(engine.applyBatch(group, new BigUint64Array(5001), acc, 0, unaligned(entry))).toBe(ENTRY_STATUS.ok);
            expect(acc).toEqual(expected);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('applyBatch: js and native agree on any entry, damaged or not', () => {
  const js = ENGINES[0]!;
  const native = ENGINES[1]!;
  itUnless(native.skipReason, 'random entries with random damage: same status, same states', () => {
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(
        fc.constantFrom<Group>('xor', 'add'),
        fc.array(fc.tuple(fc.nat({ max: 40 }), u64), { maxLength: 60 }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: null }),
        fc.integer({ min: -3, max: 3 }),
        fc.nat({ max: 7 }),
        (group, updates, flip, resize, offset) => {
          const bytes = encodeLogEntry(group, 0, 5n, 1n, 1n, Uint32Array.from(updates.map((u) => u[0])), BigUint64Array.from(updates.map((u) => u[1])));
          let damaged: Uint8Array = bytes;
          if (flip) damaged[flip[0] % bytes.length]! ^= flip[1];
          if (resize < 0) damaged = damaged.subarray(0, Math.max(0, damaged.length + resize));
          if (resize > 0) damaged = Buffer.concat([damaged, Buffer.alloc(resize)]);
          const input = unaligned(damaged, offset);
          const states = [js, native].map(({ engine }) => {
            const acc = new BigUint64Array(32).fill(9n);
            const status = engine!.applyBatch(group, new BigUint64Array(32), acc, 0, input);
            return [status, Array.from(acc)];
          });
          expect(states[1]).toEqual(states[0]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  itUnless(native.skipReason, 'compact entries with random columns and a valid checksum: same status, same states, same as the checks alone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Group>('xor', 'add'),
        fc.nat({ max: 12 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat({ max: 45 }),
        fc.nat({ max: 7 }),
        (group, n, body, split, offset) => {
          const indexBytes = Math.min(split, body.length);
          const entry = compactEntry(group, n, Array.from(body.subarray(0, indexBytes)), Array.from(body.subarray(indexBytes)));
          const input = unaligned(entry, offset);
          const results = [js, native].map(({ engine }) => {
            const acc = new BigUint64Array(32).fill(9n);
            const status = engine!.applyBatch(group, new BigUint64Array(32), acc, 0, input);
            return [status, Array.from(acc)];
          });
          expect(results[1]).toEqual(results[0]);
          expect(checkOnly(group, 32, input)).toBe(results[0]![0]);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('snapshots: golden bytes and damage', () => {
  for (const g of golden.snapshots) {
    it(g.name, () => {
      const snap = {
        group: g.group,
        partition: g.partition,
        partitions: g.partitions,
        position: g.position,
        record: new Map(g.record.map(([o, c]) => [BigInt(o), BigInt(c)])),
        states: BigUint64Array.from(g.states.map(BigInt)),
      };
      expect(hex(encodeSnapshot(snap))).toBe(g.hex);
      expect(decodeSnapshot(unaligned(Buffer.from(g.hex, 'hex')))).toEqual(snap);
    });
  }

  it('a damaged snapshot is refused with the reason', () => {
    const good = Buffer.from(golden.snapshots[0]!.hex, 'hex');
    const edit = (f: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    expect(() => decodeSnapshot(good.subarray(0, 47))).toThrow('snapshot is 47 bytes, shorter than its 48-byte header');
    expect(() => decodeSnapshot(edit((b) => (b[1] = 0)))).toThrow('not a snapshot (wrong magic)');
    expect(() => decodeSnapshot(edit((b) => (b[4] = 9)))).toThrow('snapshot version 9 is not readable by this version (1)');
    expect(() => decodeSnapshot(edit((b) => (b[5] = 7)))).toThrow('snapshot has unknown group code 7');
    expect(() => decodeSnapshot(good.subarray(0, good.length - 8))).toThrow('does not match its 4 contexts and 2 origins');
    expect(() => decodeSnapshot(edit((b) => (b[b.length - 1]! ^= 1)))).toThrow('snapshot checksum does not match');
  });
});

describe('saveTable / loadTable', () => {
  it('round-trips a table through a file, exactly, and refuses a damaged file', async () => {
    const { mkdtempSync, readFileSync: read, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { AtomikTable, saveTable, loadTable } = await import('../../lib/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'atomik-file-'));
    try {
      const t = new AtomikTable(5, { group: 'add' });
      t.load(0, 10n);
      t.accum(0, (1n << 64n) - 3n);
      t.accum(4, 1n << 63n);
      const path = join(dir, 'table.akss');
      saveTable(t, path);
      expect(read(path).length).toBe(48 + 5 * 8);
      const back = loadTable(path, { engine: 'js' });
      expect([back.group, back.size, Array.from(back.states())]).toEqual(['add', 5, [7n, 0n, 0n, 0n, 1n << 63n]]);
      expect(back.engine.name).toBe('js');
      const bytes = read(path);
      bytes[60]! ^= 1;
      writeFileSync(path, bytes);
      expect(() => loadTable(path)).toThrow('snapshot checksum does not match');
      expect(() => saveTable({} as never, path)).toThrow('table must be an AtomikTable');
      expect(() => loadTable('')).toThrow('path must be a non-empty string');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('status codes', () => {
  it('are the same numbers in native/batch.h and ENTRY_STATUS', () => {
    const header = readFileSync(new URL('../../native/batch.h', import.meta.url), 'utf8');
    const codes = Object.fromEntries(
      Array.from(header.matchAll(/ATOMIK_BATCH_E?([A-Z]+) = (-?\d+)/g), ([, name, value]) => [name!.toLowerCase(), Number(value)]),
    );
    expect(codes).toEqual({ ...ENTRY_STATUS });
  });
});
