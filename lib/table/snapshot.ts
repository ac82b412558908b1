// Snapshots: the states of one table partition together with its delivery
// record (the last batch counter applied per origin) and the log position
// they correspond to. One blob, so writing it is atomic. The layout is in
// lib/replicate/BATCH-FORMAT.md; it shares the batch entry's checksum.
// Replicas and table files (table-file.ts) both use it, so it lives here.
import { GROUP_CODE, type Group } from '../core/group.js';
import { NATIVE_LE } from '../engine/ops.js';
import { batchChecksum } from '../engine/log-entry.js';

export const SNAPSHOT_MAGIC = 0x4e534b41; // "AKSN" as a little-endian u32
export const SNAPSHOT_VERSION = 1;
const HEADER = 48;
const CHECKSUM_OFFSET = 40;

/** A log position: a Redis stream id, ms-seq. '0-0' is before the first entry. */
export type LogPosition = string;

export interface Snapshot {
  group: Group;
  partition: number;
  partitions: number;
  position: LogPosition;
  /** origin -> last batch counter applied */
  record: Map<bigint, bigint>;
  states: BigUint64Array;
}

function parsePosition(position: string): [bigint, bigint] {
  const m = /^(\d+)-(\d+)$/.exec(position);
  if (!m) throw new RangeError(`not a log position: ${position}`);
  return [BigInt(m[1]!), BigInt(m[2]!)];
}

export function encodeRecord(record: Map<bigint, bigint>): Uint8Array {
  const out = new Uint8Array(record.size * 16);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [origin, counter] of record) {
    view.setBigUint64(at, origin, true);
    view.setBigUint64(at + 8, counter, true);
    at += 16;
  }
  return out;
}

export function decodeRecord(data: Uint8Array, count = data.length / 16): Map<bigint, bigint> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const record = new Map<bigint, bigint>();
  for (let i = 0; i < count; i++) record.set(view.getBigUint64(16 * i, true), view.getBigUint64(16 * i + 8, true));
  return record;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const origins = s.record.size;
  const out = new Uint8Array(HEADER + 16 * origins + 8 * s.states.length);
  const view = new DataView(out.buffer);
  const [ms, seq] = parsePosition(s.position);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  out[4] = SNAPSHOT_VERSION;
  out[5] = GROUP_CODE[s.group];
  view.setUint16(6, s.partition, true);
  view.setUint32(8, s.states.length, true);
  view.setUint32(12, origins, true);
  view.setBigUint64(16, ms, true);
  view.setBigUint64(24, seq, true);
  view.setUint32(32, s.partitions, true);
  out.set(encodeRecord(s.record), HEADER);
  const statesAt = HEADER + 16 * origins;
  if (NATIVE_LE) new BigUint64Array(out.buffer, statesAt, s.states.length).set(s.states);
  else s.states.forEach((v, i) => view.setBigUint64(statesAt + 8 * i, v, true));
  view.setBigUint64(CHECKSUM_OFFSET, batchChecksum(out), true);
  return out;
}

/** Decodes a snapshot blob; throws a RangeError naming what is wrong. */
export function decodeSnapshot(input: Uint8Array): Snapshot {
  const data = input.byteOffset % 8 === 0 ? input : new Uint8Array(input);
  if (data.length < HEADER) throw new RangeError(`snapshot is ${data.length} bytes, shorter than its ${HEADER}-byte header`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new RangeError('not a snapshot (wrong magic)');
  if (data[4] !== SNAPSHOT_VERSION) throw new RangeError(`snapshot version ${data[4]} is not readable by this version (${SNAPSHOT_VERSION})`);
  const group = data[5] === 0 ? 'xor' : data[5] === 1 ? 'add' : null;
  if (group === null) throw new RangeError(`snapshot has unknown group code ${data[5]}`);
  const contexts = view.getUint32(8, true);
  const origins = view.getUint32(12, true);
  const statesAt = HEADER + 16 * origins;
  if (data.length !== statesAt + 8 * contexts)
    throw new RangeError(`snapshot length ${data.length} does not match its ${contexts} contexts and ${origins} origins`);
  if (batchChecksum(data) !== view.getBigUint64(CHECKSUM_OFFSET, true)) throw new RangeError('snapshot checksum does not match');
  const states = new BigUint64Array(contexts);
  if (NATIVE_LE) states.set(new BigUint64Array(data.buffer, data.byteOffset + statesAt, contexts));
  else for (let i = 0; i < contexts; i++) states[i] = view.getBigUint64(statesAt + 8 * i, true);
  return {
    group,
    partition: view.getUint16(6, true),
    partitions: view.getUint32(32, true),
    position: `${view.getBigUint64(16, true)}-${view.getBigUint64(24, true)}`,
    record: decodeRecord(data.subarray(HEADER, statesAt)),
    states,
  };
}

/** Orders two log positions: negative, zero or positive. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  const [am, as] = parsePosition(a);
  const [bm, bs] = parsePosition(b);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}
