// A DeltaStream's saved state as bytes (DeltaStream.save() / restore()):
// the codec only, on plain data. Little-endian, CRC-32 at the end.
//
// Version 2 (written; version 1 is still read, with no sessions):
//   header (56 bytes): u32 magic "ADSS", u8 version, u8 group, u8 origin,
//     u8 flags (1: the stream keeps its own contexts), u64 counter, u64 epoch,
//     u32 window, u32 records, u32 contexts, u32 queued, u32 outbox capacity,
//     u32 reserved (0), u64 session (0: none)
//   per record (32 bytes + window / 8): u8 origin, 7 bytes 0, u64 through,
//     u64 highest, u64 session, then the window's bits in counter order
//     (through + 1 first)
//   per context (24 bytes): u32 addr, 4 bytes 0, u64 reference, u64 accumulator
//   per queued message (24 bytes): the 16-byte message, u64 epoch
//   u32 CRC-32 of everything before it
import { AtomikRangeError } from '../core/errors.js';
import { crc32 } from '../core/crc.js';
import { GROUP_CODE, GROUPS, type Group } from '../core/group.js';

const MAGIC = 0x53534441; // "ADSS" as a little-endian u32
const VERSION = 2;
const FLAG_CONTEXTS = 1;
const CONTEXT_BYTES = 24;
const QUEUED_BYTES = 24;
/** Header and record header sizes by version. */
const LAYOUT: Record<number, { header: number; record: number }> = { 1: { header: 48, record: 24 }, 2: { header: 56, record: 32 } };

export interface SavedRecord {
  origin: number;
  through: number;
  highest: number;
  session: bigint;
  /** window bits in counter order: bit i is counter through + 1 + i. */
  marked: Uint8Array;
}

export interface SavedStream {
  group: Group;
  /** 0: no origin. */
  origin: number;
  ownContexts: boolean;
  counter: number;
  epoch: number;
  session: bigint;
  window: number;
  outboxCapacity: number;
  records: SavedRecord[];
  contexts: { addr: number; ref: bigint; acc: bigint }[];
  queued: { message: Uint8Array; epoch: number }[];
}

export function encodeStreamState(s: SavedStream): Uint8Array {
  const { header, record } = LAYOUT[VERSION]!;
  const recordBytes = record + s.window / 8;
  const size = header + s.records.length * recordBytes + s.contexts.length * CONTEXT_BYTES + s.queued.length * QUEUED_BYTES + 4;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint8(4, VERSION);
  v.setUint8(5, GROUP_CODE[s.group]);
  v.setUint8(6, s.origin);
  v.setUint8(7, s.ownContexts ? FLAG_CONTEXTS : 0);
  v.setBigUint64(8, BigInt(s.counter), true);
  v.setBigUint64(16, BigInt(s.epoch), true);
  v.setUint32(24, s.window, true);
  v.setUint32(28, s.records.length, true);
  v.setUint32(32, s.contexts.length, true);
  v.setUint32(36, s.queued.length, true);
  v.setUint32(40, s.outboxCapacity, true);
  v.setBigUint64(48, s.session, true);
  let at = header;
  for (const r of s.records) {
    v.setUint8(at, r.origin);
    v.setBigUint64(at + 8, BigInt(r.through), true);
    v.setBigUint64(at + 16, BigInt(r.highest), true);
    v.setBigUint64(at + 24, r.session, true);
    out.set(r.marked, at + record);
    at += recordBytes;
  }
  for (const c of s.contexts) {
    v.setUint32(at, c.addr, true);
    v.setBigUint64(at + 8, c.ref, true);
    v.setBigUint64(at + 16, c.acc, true);
    at += CONTEXT_BYTES;
  }
  for (const q of s.queued) {
    out.set(q.message, at);
    v.setBigUint64(at + 16, BigInt(q.epoch), true);
    at += QUEUED_BYTES;
  }
  v.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/**
 * Decodes saved bytes, checking every field that needs no table (the
 * caller checks the table's size and group). Throws
 * ERR_ATOMIK_BAD_STREAM_STATE naming the first problem.
 */
export function decodeStreamState(b: Uint8Array, limits: { minWindow: number; maxWindow: number; maxOutbox: number }): SavedStream {
  const bad = (why: string) => new AtomikRangeError('ERR_ATOMIK_BAD_STREAM_STATE', `data is not a saved DeltaStream: ${why}`);
  if (b.length < LAYOUT[1]!.header + 4) throw bad(`${b.length} bytes is too short`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0, true) !== MAGIC) throw bad('wrong magic');
  const version = v.getUint8(4);
  const layout = LAYOUT[version];
  if (layout === undefined) throw bad(`unknown version ${version}`);
  if (b.length < layout.header + 4) throw bad(`${b.length} bytes is too short`);
  if (v.getUint32(b.length - 4, true) !== crc32(b.subarray(0, b.length - 4))) throw bad('checksum mismatch');
  const group = GROUPS[v.getUint8(5)];
  const flags = v.getUint8(7);
  const counter = Number(v.getBigUint64(8, true));
  const epoch = Number(v.getBigUint64(16, true));
  const window = v.getUint32(24, true);
  const records = v.getUint32(28, true);
  const contexts = v.getUint32(32, true);
  const queued = v.getUint32(36, true);
  const outboxCapacity = v.getUint32(40, true);
  const session = version >= 2 ? v.getBigUint64(48, true) : 0n;
  if (group === undefined) throw bad(`unknown group code ${v.getUint8(5)}`);
  if (flags & ~FLAG_CONTEXTS) throw bad(`unknown flags ${flags}`);
  const ownContexts = (flags & FLAG_CONTEXTS) !== 0;
  if (!ownContexts && contexts !== 0) throw bad(`${contexts} contexts saved by a stream that feeds a table (a table's contexts live in the table)`);
  if (!(counter < Number.MAX_SAFE_INTEGER) || !Number.isSafeInteger(epoch)) throw bad('counter or epoch out of range');
  if (outboxCapacity > limits.maxOutbox) throw bad(`outbox capacity ${outboxCapacity} above ${limits.maxOutbox}`);
  if (window < limits.minWindow || window > limits.maxWindow || (window & (window - 1)) !== 0)
    throw bad(`window ${window} is not a power of two in [${limits.minWindow}, ${limits.maxWindow}]`);
  const recordBytes = layout.record + window / 8;
  const expected = layout.header + records * recordBytes + contexts * CONTEXT_BYTES + queued * QUEUED_BYTES + 4;
  if (b.length !== expected) throw bad(`length ${b.length} does not match its counts (${expected})`);
  // One more than the capacity: a session message still to be sent goes first, outside the capacity.
  if (queued > outboxCapacity + 1) throw bad(`${queued} queued messages exceed the outbox capacity ${outboxCapacity}`);
  const out: SavedStream = {
    group,
    origin: v.getUint8(6),
    ownContexts,
    counter,
    epoch,
    session,
    window,
    outboxCapacity,
    records: [],
    contexts: [],
    queued: [],
  };
  let at = layout.header;
  const seen = new Set<number>();
  for (let i = 0; i < records; i++, at += recordBytes) {
    const origin = v.getUint8(at);
    if (origin === 0 || seen.has(origin)) throw bad(`record ${i} has origin ${origin} (0 or repeated)`);
    seen.add(origin);
    const through = Number(v.getBigUint64(at + 8, true));
    const highest = Number(v.getBigUint64(at + 16, true));
    if (!Number.isSafeInteger(highest) || through > highest) throw bad(`record ${i}: through ${through} above highest ${highest}`);
    if (b[at + layout.record]! & 1) throw bad(`record ${i}: counter through + 1 is marked delivered`);
    const recordSession = version >= 2 ? v.getBigUint64(at + 24, true) : 0n;
    out.records.push({ origin, through, highest, session: recordSession, marked: b.subarray(at + layout.record, at + recordBytes) });
  }
  const addrs = new Set<number>();
  for (let s = 0; s < contexts; s++, at += CONTEXT_BYTES) {
    const addr = v.getUint32(at, true);
    if (addrs.has(addr)) throw bad(`address ${addr} appears twice`);
    addrs.add(addr);
    out.contexts.push({ addr, ref: v.getBigUint64(at + 8, true), acc: v.getBigUint64(at + 16, true) });
  }
  for (let q = 0; q < queued; q++, at += QUEUED_BYTES) {
    const epochOf = Number(v.getBigUint64(at + 16, true));
    if (!Number.isSafeInteger(epochOf)) throw bad(`queued message ${q} has epoch ${epochOf} out of range`);
    out.queued.push({ message: b.subarray(at, at + 16), epoch: epochOf });
  }
  return out;
}
