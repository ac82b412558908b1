// The replication batch and snapshot formats: golden bytes from
// test/golden/generate_batches.py (an independent Python implementation of
// lib/replicate/BATCH-FORMAT.md), and the engines' applyBatch on valid,
// corrupted, unaligned and foreign input: same status on both engines, all
// or nothing.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Group } from '../../lib/index.js';
import { ENTRY_STATUS, batchChecksum, encodeLogEntry, readLogEntryHeader } from '../../lib/engine/log-entry.js';
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
  size: number;
  states: string[];
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

describe('batch entries: golden bytes', () => {
  for (const g of golden.batches) {
    it(g.name, () => {
      const bytes = encodeLogEntry(
        g.group,
        g.partition,
        BigInt(g.origin),
        BigInt(g.first),
        BigInt(g.last),
        Uint32Array.from(g.indices),
        BigUint64Array.from(g.deltas.map(BigInt)),
      );
      expect(hex(bytes)).toBe(g.hex);
      expect(readLogEntryHeader(Buffer.from(g.hex, 'hex'))).toEqual({
        version: 1,
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
        const ref = new BigUint64Array(g.size);
        const acc = new BigUint64Array(g.size);
        expect(engine!.applyBatch(g.group, ref, acc, g.partition, bytes)).toBe(ENTRY_STATUS.ok);
        expect(Array.from(acc, String)).toEqual(g.states);
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
      ['version 2', variant((b) => ((b[4] = 2), b)), ENTRY_STATUS.version, 'add', 0],
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
