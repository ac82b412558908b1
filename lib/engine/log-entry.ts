// The replication batch: one log entry with many updates for one table
// partition, stored as columns (u32 indices, then u64 deltas) so a received
// entry is applied by one scatter. The engines check and apply it, so it
// lives here; lib/replicate/BATCH-FORMAT.md specifies it and native/batch.h
// holds the same layout for the C kernel (a test checks that both agree).
// Version 2 (compact-entry.ts) carries the same columns as varints.
import { GROUP_CODE, GROUPS, type Group } from '../core/group.js';
import { AtomikRangeError } from '../core/errors.js';
import { bytes, integer, oneOf, u32Input, u64, u64Input } from '../core/validate.js';
import { NATIVE_LE } from './ops.js';
import { COMPACT_STATUS, COMPACT_VERSION, compactFits, decodeCompact, encodeCompact } from './compact-entry.js';

export const BATCH_MAGIC = 0x42444b41; // "AKDB" as a little-endian u32
export const BATCH_VERSION = 1;
export const BATCH_HEADER_BYTES = 48;
const CHECKSUM_OFFSET = 40;

/** The most updates one entry may carry (the count field is a u32; Redis caps an entry at 512 MB). */
export const MAX_BATCH_UPDATES = 1 << 24;

/** Status codes shared with native/batch.h. */
export const ENTRY_STATUS = {
  ok: 0,
  range: -1,
  group: -3,
  format: -4,
  version: -5,
  checksum: -6,
  ...COMPACT_STATUS,
} as const;

/** How a publisher writes its entries: `compact` (version 2, unless version 1 is not larger) or `columns` (version 1, read by every release). */
export type EntryEncoding = 'compact' | 'columns';
export const ENTRY_ENCODINGS: readonly EntryEncoding[] = ['compact', 'columns'];

export const ENTRY_STATUS_TEXT: Record<number, string> = {
  [ENTRY_STATUS.range]: 'an index is outside the partition',
  [ENTRY_STATUS.group]: "the batch's group is not the table's",
  [ENTRY_STATUS.format]: 'not a batch entry (magic, flags, partition or length)',
  [ENTRY_STATUS.version]: 'a batch format version this library does not read',
  [ENTRY_STATUS.checksum]: 'the checksum does not match',
  [ENTRY_STATUS.truncated]: 'a varint runs past the end of its column',
  [ENTRY_STATUS.order]: 'its indices do not strictly ascend',
  [ENTRY_STATUS.overlong]: 'a varint is longer than its value needs or wider than its field',
  [ENTRY_STATUS.trailing]: 'a column holds bytes after its last update',
};

export interface LogEntryHeader {
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
function deltaColumnOffset(n: number): number {
  return BATCH_HEADER_BYTES + paddedIndexBytes(n);
}

export function batchBytes(n: number): number {
  return BATCH_HEADER_BYTES + paddedIndexBytes(n) + n * 8;
}

function u32Words(entry: Uint8Array): Uint32Array | null {
  return NATIVE_LE && entry.byteOffset % 4 === 0 ? new Uint32Array(entry.buffer, entry.byteOffset, entry.length >>> 2) : null;
}

/**
 * Four-lane Fletcher sums over little-endian u32 words, the checksum field
 * read as 0, a last partial word padded with zero bytes (see native/batch.h).
 */
export function batchChecksum(entry: Uint8Array): bigint {
  const full = entry.length >>> 2;
  const words = (entry.length + 3) >>> 2;
  let w = u32Words(entry) ?? littleEndianWords(entry, full);
  if (words !== full) {
    const padded = new Uint8Array(words * 4);
    padded.set(entry);
    w = littleEndianWords(padded, words);
  }
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  const whole = words & ~3;
  for (let i = 0; i < whole; i += 4) {
    a0 = (a0 + w[i]!) | 0;
    b0 = (b0 + a0) | 0;
    a1 = (a1 + w[i + 1]!) | 0;
    b1 = (b1 + a1) | 0;
    a2 = (a2 + w[i + 2]!) | 0;
    b2 = (b2 + a2) | 0;
    a3 = (a3 + w[i + 3]!) | 0;
    b3 = (b3 + a3) | 0;
  }
  const a = [a0, a1, a2, a3];
  const b = [b0, b1, b2, b3];
  for (let i = whole; i < words; i++) {
    a[i & 3] = (a[i & 3]! + w[i]!) | 0;
    b[i & 3] = (b[i & 3]! + a[i & 3]!) | 0;
  }
  // Take the checksum field's words back out: word w at lane position p
  // added w to a and (count - p) * w to b.
  for (let i = CHECKSUM_OFFSET >>> 2; i < (CHECKSUM_OFFSET >>> 2) + 2 && i < words; i++) {
    const count = Math.floor((words - (i & 3) + 3) / 4);
    a[i & 3] = (a[i & 3]! - w[i]!) | 0;
    b[i & 3] = (b[i & 3]! - Math.imul(count - (i >>> 2), w[i]!)) | 0;
  }
  const sumA = (a[0]! + a[1]! + a[2]! + a[3]!) >>> 0;
  const sumB = (b[0]! + Math.imul(3, b[1]!) + Math.imul(5, b[2]!) + Math.imul(7, b[3]!)) >>> 0;
  return (BigInt(sumB) << 32n) | BigInt(sumA);
}

function littleEndianWords(entry: Uint8Array, words: number): Uint32Array {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const out = new Uint32Array(words);
  for (let i = 0; i < words; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}

/**
 * Builds one entry. `indices` are partition-local; `count` updates (default:
 * all of them) are taken from the start of the arrays. Every argument is read
 * once and checked: a group, a partition in [0, 65535], u64 origin and
 * counters with first <= last, and arrays that hold `count` updates (at most
 * MAX_BATCH_UPDATES); a bad one throws a coded error. `compact` (the
 * default) sorts the updates by index, combines those to one index, and
 * writes version 2 unless version 1 would not be larger; `columns` writes
 * version 1 as given.
 */
export function encodeLogEntry(
  group: Group,
  partition: number,
  origin: bigint,
  first: bigint,
  last: bigint,
  indices: Uint32Array,
  deltas: BigUint64Array,
  count?: number,
  encoding: EntryEncoding = 'compact',
): Uint8Array {
  oneOf(group, GROUPS, 'group');
  oneOf(encoding, ENTRY_ENCODINGS, 'encoding');
  integer(partition, 0, 0xffff, 'partition');
  u64(origin, 'origin');
  u64(first, 'first');
  u64(last, 'last');
  if (first > last) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `first (${first}n) must not be above last (${last}n)`);
  const idx = u32Input(indices, 'indices');
  const d = u64Input(deltas, 'deltas');
  const n = count === undefined ? idx.length : integer(count, 0, MAX_BATCH_UPDATES, 'count');
  if (n > MAX_BATCH_UPDATES) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `an entry carries at most ${MAX_BATCH_UPDATES} updates, got ${n}`);
  if (idx.length < n || d.length < n) {
    throw new AtomikRangeError('ERR_ATOMIK_LENGTH_MISMATCH', `count ${n} needs that many indices and deltas, got ${idx.length} and ${d.length}`);
  }
  if (encoding === 'compact') {
    const [sortedIdx, sortedDeltas] = ascending(group, idx, d, n);
    const m = sortedIdx.length;
    const body = encodeCompact(group === 'add', sortedIdx, wordLanes(sortedDeltas), m, batchBytes(m));
    if (body) return withHeader(body, COMPACT_VERSION, group, partition, m, origin, first, last);
    return columnsEntry(group, partition, origin, first, last, sortedIdx, sortedDeltas, m);
  }
  return columnsEntry(group, partition, origin, first, last, idx, d, n);
}

/** The 32-bit halves of the words (a view: the low half is lane 0 on a little-endian host, 1 on a big-endian one). */
function wordLanes(words: BigUint64Array): Uint32Array {
  return new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
}

/** The first n updates by strictly ascending index, those to one index combined (as given when they ascend already). */
function ascending(group: Group, idx: Uint32Array, d: BigUint64Array, n: number): [Uint32Array, BigUint64Array] {
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = idx[i]! > idx[i - 1]!;
  if (sorted) return [idx.subarray(0, n), d.subarray(0, n)];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => idx[a]! - idx[b]! || a - b);
  const outIdx = new Uint32Array(n);
  const outD = new BigUint64Array(n);
  let m = 0;
  for (const i of order) {
    if (m > 0 && outIdx[m - 1] === idx[i]) outD[m - 1] = group === 'add' ? BigInt.asUintN(64, outD[m - 1]! + d[i]!) : outD[m - 1]! ^ d[i]!;
    else {
      outIdx[m] = idx[i]!;
      outD[m++] = d[i]!;
    }
  }
  return [outIdx.subarray(0, m), outD.subarray(0, m)];
}

/** Fills the header of an entry whose columns are written, and its checksum. */
function withHeader(out: Uint8Array, version: number, group: Group, partition: number, n: number, origin: bigint, first: bigint, last: bigint): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, BATCH_MAGIC, true);
  out[4] = version;
  out[5] = GROUP_CODE[group];
  view.setUint16(6, partition, true);
  view.setUint32(8, n, true);
  view.setBigUint64(16, origin, true);
  view.setBigUint64(24, first, true);
  view.setBigUint64(32, last, true);
  view.setBigUint64(CHECKSUM_OFFSET, batchChecksum(out), true);
  return out;
}

function columnsEntry(
  group: Group,
  partition: number,
  origin: bigint,
  first: bigint,
  last: bigint,
  idx: Uint32Array,
  d: BigUint64Array,
  n: number,
): Uint8Array {
  const out = new Uint8Array(batchBytes(n));
  const idxAt = BATCH_HEADER_BYTES;
  const deltaAt = idxAt + paddedIndexBytes(n);
  if (NATIVE_LE) {
    new Uint32Array(out.buffer, idxAt, n).set(idx.subarray(0, n));
    new BigUint64Array(out.buffer, deltaAt, n).set(d.subarray(0, n));
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < n; i++) {
      view.setUint32(idxAt + 4 * i, idx[i]!, true);
      view.setBigUint64(deltaAt + 8 * i, d[i]!, true);
    }
  }
  return withHeader(out, BATCH_VERSION, group, partition, n, origin, first, last);
}

/**
 * Reads the header fields the receiver needs before applying (who sent it,
 * which counters). Returns a status code when it is not a batch of a
 * version this library reads. The rest (length, checksum, indices) is
 * checked by the engine's applyBatch. `entry` may be any bytes (a
 * TypedArray, DataView or ArrayBuffer); anything else is a coded TypeError.
 */
export function readLogEntryHeader(entry: Uint8Array): LogEntryHeader | number {
  return headerOf(bytes(entry, 'entry'));
}

function headerOf(entry: Uint8Array): LogEntryHeader | number {
  if (entry.length < BATCH_HEADER_BYTES) return ENTRY_STATUS.format;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view.getUint32(0, true) !== BATCH_MAGIC) return ENTRY_STATUS.format;
  if (entry[4] !== BATCH_VERSION && entry[4] !== COMPACT_VERSION) return ENTRY_STATUS.version;
  const group = entry[5] === 0 ? 'xor' : entry[5] === 1 ? 'add' : null;
  return {
    version: entry[4],
    group,
    partition: view.getUint16(6, true),
    count: view.getUint32(8, true),
    origin: view.getBigUint64(16, true),
    first: view.getBigUint64(24, true),
    last: view.getBigUint64(32, true),
  };
}

export interface LogEntryColumns {
  indices: Uint32Array;
  deltas: BigUint64Array;
}

/**
 * The columns of an entry that passes every check but the index range
 * (header, flags, partition, length, checksum, group; the same checks in the
 * same order as atomik_batch_apply), or the status that refuses it. On a
 * little-endian host the columns are views of the entry, copied once first
 * when it is not 8-byte aligned (Redis clients hand out slices at any
 * offset); on a big-endian host they are decoded copies. A version 2
 * entry's columns are decoded (every varint checked): copies, or with
 * `scratch` views of buffers the next call reuses.
 */
export function logEntryColumns(input: Uint8Array, group: Group, partition: number, scratch = false): LogEntryColumns | number {
  const header = headerOf(input);
  if (typeof header === 'number') return header;
  const n = header.count;
  const flags = new DataView(input.buffer, input.byteOffset, 16).getUint32(12, true);
  if (header.partition !== partition) return ENTRY_STATUS.format;
  if (header.version === COMPACT_VERSION) return compactColumns(input, n, flags, group, header.group, scratch);
  if (flags !== 0 || input.length !== batchBytes(n)) return ENTRY_STATUS.format;
  const entry = NATIVE_LE && input.byteOffset % 8 === 0 ? input : new Uint8Array(input);
  if (batchChecksum(entry) !== new DataView(entry.buffer, entry.byteOffset + CHECKSUM_OFFSET, 8).getBigUint64(0, true)) return ENTRY_STATUS.checksum;
  if (header.group !== group) return ENTRY_STATUS.group;
  const at = entry.byteOffset + BATCH_HEADER_BYTES;
  if (NATIVE_LE) return { indices: new Uint32Array(entry.buffer, at, n), deltas: new BigUint64Array(entry.buffer, at + paddedIndexBytes(n), n) };
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const indices = new Uint32Array(n);
  const deltas = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    indices[i] = view.getUint32(BATCH_HEADER_BYTES + 4 * i, true);
    deltas[i] = view.getBigUint64(deltaColumnOffset(n) + 8 * i, true);
  }
  return { indices, deltas };
}

let scratchIndices = new Uint32Array(0);
let scratchDeltas = new BigUint64Array(0);

/**
 * The checks and columns of a version 2 entry, in the order of
 * atomik_batch_apply; the columns are decoded copies, or with `scratch`
 * views of buffers reused by the next call (for an engine that applies
 * them at once).
 */
function compactColumns(entry: Uint8Array, n: number, indexBytes: number, group: Group, entryGroup: Group | null, scratch: boolean): LogEntryColumns | number {
  if (!compactFits(n, indexBytes, entry.length)) return ENTRY_STATUS.format;
  if (batchChecksum(entry) !== new DataView(entry.buffer, entry.byteOffset + CHECKSUM_OFFSET, 8).getBigUint64(0, true)) return ENTRY_STATUS.checksum;
  if (entryGroup !== group) return ENTRY_STATUS.group;
  if (scratch && scratchIndices.length < n) {
    scratchIndices = new Uint32Array(Math.max(n, 2 * scratchIndices.length));
    scratchDeltas = new BigUint64Array(scratchIndices.length);
  }
  const indices = scratch ? scratchIndices.subarray(0, n) : new Uint32Array(n);
  const deltas = scratch ? scratchDeltas.subarray(0, n) : new BigUint64Array(n);
  const status = decodeCompact(entry, n, group === 'add', indices, wordLanes(deltas));
  if (status !== ENTRY_STATUS.ok) return status;
  return { indices, deltas };
}
