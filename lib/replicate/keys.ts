// Where a replicated table lives in Redis: its key names, built here only,
// and the checks of every value read back from those keys (another client
// or a damaged server may have written anything there).
import { U64_MAX } from '../core/validate.js';
import { ReplicationError } from '../core/errors.js';
import type { LogPosition } from '../table/snapshot.js';

/** The keys of one table (BATCH-FORMAT.md, "Keys"). */
export interface TableKeys {
  layout: string;
  origins: string;
  /** origin -> the replica's last heartbeat (JSON: time, positions, counters), for inspection. */
  replicas: string;
}

/** The keys of one partition; they share a hash tag, so on a cluster they live in one slot. */
export interface PartitionKeys {
  log: string;
  heads: string;
  ids: string;
  blobs: string;
  records: string;
  trim: string;
  lock: string;
}

export function tableKeys(prefix: string, name: string): TableKeys {
  const tag = `${prefix}:{${name}}`;
  return { layout: `${tag}:layout`, origins: `${tag}:origins`, replicas: `${tag}:replicas` };
}

export function partitionKeys(prefix: string, name: string, partition: number): PartitionKeys {
  const tag = `${prefix}:{${name}:${partition}}`;
  return {
    log: `${tag}:log`,
    heads: `${tag}:heads`,
    ids: `${tag}:snapshots`,
    blobs: `${tag}:snapshot-blobs`,
    records: `${tag}:snapshot-records`,
    trim: `${tag}:trimmed-through`,
    lock: `${tag}:snapshot-lock`,
  };
}

/** The largest origin id: origins are positive signed 64-bit integers (Redis INCR). */
const MAX_ORIGIN_ID = (1n << 63n) - 1n;

export function badState(what: string): ReplicationError {
  return new ReplicationError('ERR_ATOMIK_BAD_LOG_STATE', what);
}

/** A batch counter read back from Redis: a decimal u64. */
export function storedCounter(text: string, key: string): bigint {
  const value = /^(0|[1-9][0-9]{0,19})$/.test(text) ? BigInt(text) : -1n;
  if (value < 0n || value > U64_MAX) throw badState(`${key} holds '${text.slice(0, 40)}', not a batch counter`);
  return value;
}

/** A log position read back from Redis, checked before it is compared with anything. */
export function storedPosition(text: string, key: string): LogPosition {
  if (!/^\d{1,20}-\d{1,20}$/.test(text)) throw badState(`${key} holds '${text.slice(0, 40)}', not a stream position`);
  return text;
}

/** An origin id handed out by the origins key: in [1, 2^63). */
export function storedOrigin(text: string, key: string): bigint {
  const origin = /^[1-9][0-9]{0,18}$/.test(text) ? BigInt(text) : 0n;
  if (origin < 1n || origin > MAX_ORIGIN_ID) throw badState(`${key} handed out '${text.slice(0, 40)}', not an origin id in [1, 2^63)`);
  return origin;
}
