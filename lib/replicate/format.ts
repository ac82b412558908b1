// The replication batch: one log entry with many updates for one table
// partition, stored as columns (u32 indices, then u64 deltas) so a received
// entry is applied by one scatter. Specified in BATCH-FORMAT.md beside this
// file; native/batch.h holds the same layout for the C kernel, and a test
// checks that both agree.
import { GROUP_CODE, type Group } from '../group.js';
import { NATIVE_LE } from '../engine/ops.js';

export const BATCH_MAGIC = 0x42444b41; // "AKDB" as a little-endian u32
export const BATCH_VERSION = 1;
export const BATCH_HEADER_BYTES = 48;
const CHECKSUM_OFFSET = 40;

/** The most updates one entry may carry (the count field is a u32; Redis caps an entry at 512 MB). */
export const MAX_BATCH_UPDATES = 1 << 24;

/** Status codes shared with native/batch.h. */
export const BATCH_STATUS = {
  ok: 0,
  range: -1,
  group: -3,
  format: -4,
  version: -5,
  checksum: -6,
} as const;

export const BATCH_STATUS_TEXT: Record<number, string> = {
  [BATCH_STATUS.range]: 'an index is outside the partition',
  [BATCH_STATUS.group]: "the batch's group is not the table's",
  [BATCH_STATUS.format]: 'not a batch entry (magic, flags, partition or length)',
  [BATCH_STATUS.version]: 'a batch format version this library does not read',
  [BATCH_STATUS.checksum]: 'the checksum does not match',
};

export interface BatchHeader {
  version: number;
  group: Group | null;
  partition: number;
  count: number;
  origin: bigint;
  first: bigint;
  last: bigint;
}

function paddedIndexBytes(n: number): number {
  return Math.ceil(n / 2) * 8; // n can be up to 2^32 - 1: no 32-bit bit tricks
}

/** Byte offset of the delta column in an entry of n updates. */
export function deltaColumnOffset(n: number): number {
  return BATCH_HEADER_BYTES + paddedIndexBytes(n);
}

export function batchBytes(n: number): number {
  return BATCH_HEADER_BYTES + paddedIndexBytes(n) + n * 8;
}

function u32Words(entry: Uint8Array): Uint32Array | null {
  return NATIVE_LE && entry.byteOffset % 4 === 0 ? new Uint32Array(entry.buffer, entry.byteOffset, entry.length >>> 2) : null;
}

/** Fletcher-style sums over little-endian u32 words, the checksum field read as 0 (see native/batch.h). */
export function batchChecksum(entry: Uint8Array): bigint {
  const words = entry.length >>> 2;
  const w = u32Words(entry);
  const view = w ? null : new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  let a = 0;
  let b = 0;
  for (let i = 0; i < words; i++) {
    const at = i * 4;
    const x = at === CHECKSUM_OFFSET || at === CHECKSUM_OFFSET + 4 ? 0 : w ? w[i]! : view!.getUint32(at, true);
    a = (a + x) >>> 0;
    b = (b + a) >>> 0;
  }
  return (BigInt(b) << 32n) | BigInt(a);
}

/**
 * Builds one entry. `indices` are partition-local; `count` updates are taken
 * from the start of the arrays. The caller guarantees first <= last.
 */
export function encodeBatch(
  group: Group,
  partition: number,
  origin: bigint,
  first: bigint,
  last: bigint,
  indices: Uint32Array,
  deltas: BigUint64Array,
  count = indices.length,
): Uint8Array {
  const out = new Uint8Array(batchBytes(count));
  const view = new DataView(out.buffer);
  view.setUint32(0, BATCH_MAGIC, true);
  out[4] = BATCH_VERSION;
  out[5] = GROUP_CODE[group];
  view.setUint16(6, partition, true);
  view.setUint32(8, count, true);
  view.setBigUint64(16, origin, true);
  view.setBigUint64(24, first, true);
  view.setBigUint64(32, last, true);
  const idxAt = BATCH_HEADER_BYTES;
  const deltaAt = idxAt + paddedIndexBytes(count);
  if (NATIVE_LE) {
    new Uint32Array(out.buffer, idxAt, count).set(indices.subarray(0, count));
    new BigUint64Array(out.buffer, deltaAt, count).set(deltas.subarray(0, count));
  } else {
    for (let i = 0; i < count; i++) {
      view.setUint32(idxAt + 4 * i, indices[i]!, true);
      view.setBigUint64(deltaAt + 8 * i, deltas[i]!, true);
    }
  }
  view.setBigUint64(CHECKSUM_OFFSET, batchChecksum(out), true);
  return out;
}

/**
 * Reads the header fields the receiver needs before applying (who sent it,
 * which counters). Returns a status code when it is not a batch of a
 * version this library reads. The rest (length, checksum, indices) is
 * checked by the engine's applyBatch.
 */
export function readBatchHeader(entry: Uint8Array): BatchHeader | number {
  if (entry.length < BATCH_HEADER_BYTES) return BATCH_STATUS.format;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view.getUint32(0, true) !== BATCH_MAGIC) return BATCH_STATUS.format;
  if (entry[4] !== BATCH_VERSION) return BATCH_STATUS.version;
  const group = entry[5] === 0 ? 'xor' : entry[5] === 1 ? 'add' : null;
  return {
    version: entry[4]!,
    group,
    partition: view.getUint16(6, true),
    count: view.getUint32(8, true),
    origin: view.getBigUint64(16, true),
    first: view.getBigUint64(24, true),
    last: view.getBigUint64(32, true),
  };
}

const TWO32 = 4294967296;

/**
 * The js engine's applyBatch: the same checks, in the same order, as
 * atomik_batch_apply, then one pass over 32-bit lanes of the accumulator.
 */
export function applyBatchJs(group: Group, acc: BigUint64Array, partition: number, input: Uint8Array): number {
  const header = readBatchHeader(input);
  if (typeof header === 'number') return header;
  const n = header.count;
  if (new DataView(input.buffer, input.byteOffset, 16).getUint32(12, true) !== 0) return BATCH_STATUS.format;
  if (header.partition !== partition || input.length !== batchBytes(n)) return BATCH_STATUS.format;
  // Columns need 8-byte alignment for typed views; Redis clients hand out
  // slices at any offset, so copy those once.
  const entry = NATIVE_LE && input.byteOffset % 8 === 0 ? input : new Uint8Array(input);
  if (batchChecksum(entry) !== new DataView(entry.buffer, entry.byteOffset + CHECKSUM_OFFSET, 8).getBigUint64(0, true)) return BATCH_STATUS.checksum;
  if (header.group !== group) return BATCH_STATUS.group;
  if (n === 0) return BATCH_STATUS.ok;
  const idxAt = entry.byteOffset + BATCH_HEADER_BYTES;
  const deltaAt = idxAt + paddedIndexBytes(n);
  let idx: Uint32Array;
  let d: Uint32Array;
  if (NATIVE_LE) {
    idx = new Uint32Array(entry.buffer, idxAt, n);
    d = new Uint32Array(entry.buffer, deltaAt, 2 * n);
  } else {
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    idx = new Uint32Array(n);
    d = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      idx[i] = view.getUint32(BATCH_HEADER_BYTES + 4 * i, true);
      d[2 * i] = view.getUint32(deltaAt - entry.byteOffset + 8 * i, true);
      d[2 * i + 1] = view.getUint32(deltaAt - entry.byteOffset + 8 * i + 4, true);
    }
  }
  let max = 0;
  for (let i = 0; i < n; i++) if (idx[i]! > max) max = idx[i]!;
  if (max >= acc.length) return BATCH_STATUS.range;
  // d holds little-endian lanes: [lo, hi] per delta.
  const a = new Uint32Array(acc.buffer, acc.byteOffset, acc.length * 2);
  const LO = NATIVE_LE ? 0 : 1;
  const HI = 1 - LO;
  if (group === 'xor') {
    for (let j = 0; j < n; j++) {
      const k = idx[j]! * 2;
      a[k + LO] = a[k + LO]! ^ d[2 * j]!;
      a[k + HI] = a[k + HI]! ^ d[2 * j + 1]!;
    }
  } else {
    for (let j = 0; j < n; j++) {
      const k = idx[j]! * 2;
      const lo = a[k + LO]! + d[2 * j]!;
      a[k + LO] = lo;
      a[k + HI] = a[k + HI]! + d[2 * j + 1]! + (lo >= TWO32 ? 1 : 0);
    }
  }
  return BATCH_STATUS.ok;
}
