// What replicate() accepts and reports: its options with their defaults and
// checks, the counters a replica keeps, and its health.
import type { AtomikTable } from '../table/table.js';
import { describe, integer, knownKeys, object, oneOf, optionKeys } from '../core/validate.js';
import { AtomikTypeError } from '../core/errors.js';
import { ENTRY_ENCODINGS, MAX_BATCH_UPDATES, type EntryEncoding } from '../engine/log-entry.js';
import type { ReadFrom, RedisTarget } from './connection.js';
import { authKeyOption } from './auth.js';

export interface ReplicateOptions {
  /**
   * A redis:// URL, ioredis options, an ioredis client or Cluster (their
   * options are reused for the replica's own connections), or a list of a
   * Redis Cluster's nodes.
   */
  redis: RedisTarget;
  /** The table's name in Redis: keys are `<prefix>:{<name>:<partition>}:...`. */
  name: string;
  /** Key prefix (default 'atomik'). */
  prefix?: string;
  /** Contiguous ranges of the table, each with its own stream (default 1). */
  partitions?: number;
  /** Most updates in one published entry (default 4086: an entry then fits Redis's 48 KiB allocation class). */
  maxBatch?: number;
  /** Longest time a local update waits before it is published (default 5 ms). */
  flushMs?: number;
  /** Entries in flight to Redis per partition (default 16). */
  window?: number;
  /** Log bytes read between two snapshots (default 64 MiB). */
  snapshotBytes?: number;
  /** Snapshots kept per partition (default 2); the log is trimmed to what the oldest needs. */
  keepSnapshots?: number;
  /** Entries per read (default 64). */
  readCount?: number;
  /**
   * A command, or a socket during a blocking read, silent for this long
   * drops its connection, which is made again and the command retried
   * (default 5000 ms). Also how long a replica may go without progress
   * before its health says 'stalled'.
   */
  timeoutMs?: number;
  /** How long replicate() may take to reach Redis and catch up before it rejects (default 30000 ms). */
  startTimeoutMs?: number;
  /**
   * Redis replicas each entry must reach (`WAIT`) before flush() resolves
   * (default 0: the primary's acknowledgement). On a Redis Cluster or a
   * primary with replicas, 1 or more keeps acknowledged entries through a
   * failover.
   */
  waitReplicas?: number;
  /**
   * Where the replica reads the log (default 'primary'). 'replica' spreads
   * the fan-out: on a Redis Cluster each partition is read from a replica
   * of its slot; on one primary, from its first online replica. Reads then
   * lag by the Redis replication delay; publishing and snapshots stay on
   * the primary, and caughtUp() still waits for everything the primary
   * holds.
   */
  readFrom?: ReadFrom;
  /**
   * A shared secret (at least 16 bytes) that authenticates the table's
   * entries and snapshots: a replica skips entries, and refuses snapshots,
   * not tagged under the same key. For a Redis shared with other clients.
   * Every replica of a table uses the same key (default: none).
   */
  authKey?: string | Uint8Array;
  /**
   * How published entries are written (default 'compact': indices and
   * deltas as varints, about 2-4 bytes per counter increment instead of 12).
   * Replicas of every release read 'columns'; releases before compact
   * entries cannot read them, so a fleet upgrades its readers with
   * 'columns' first, then switches. Readers accept both.
   */
  entryEncoding?: EntryEncoding;
}

/** The options with every default filled in. */
export type ResolvedOptions = Required<Omit<ReplicateOptions, 'redis' | 'name' | 'authKey'>> & { name: string; authKey: Buffer | null };

/** Counters of what a replica did, for monitoring and benchmarks. */
export interface ReplicaStats {
  localUpdates: number;
  publishedEntries: number;
  publishedUpdates: number;
  publishedBytes: number;
  appliedEntries: number;
  appliedUpdates: number;
  duplicates: number;
  skipped: number;
  resyncs: number;
  snapshots: number;
  retries: number;
}

/** How a replica is doing, for health checks (`replica.health`, and the 'health' event on every change). */
export interface ReplicaHealth {
  /**
   * 'ok'; 'stalled' when entries have waited longer than `timeoutMs` for
   * Redis, or a partition could not read for that long; 'failed' after
   * an unrecoverable error (see `replica.failure`); 'closed'.
   */
  state: 'ok' | 'stalled' | 'failed' | 'closed';
  /** Entries published but not acknowledged yet, over all partitions. */
  unacknowledged: number;
  /** Origins held in the delivery records, over all partitions (16 bytes each in memory; retired ones leave at the next snapshot). */
  origins: number;
  /** The last error a command met (retried since), or null. */
  lastError: Error | null;
  /** Date.now() of the last change of state. */
  since: number;
}

/** How long a WAIT for Redis replicas may take: half the socket timeout, so a slow Redis replica is a short answer, not a dropped connection. */
export function replicaWaitMs(options: ResolvedOptions): number {
  return Math.max(1, Math.floor(options.timeoutMs / 2));
}

const READ_FROM: readonly ReadFrom[] = ['primary', 'replica'];

const DEFAULTS = {
  prefix: 'atomik',
  partitions: 1,
  maxBatch: 4086,
  flushMs: 5,
  window: 16,
  snapshotBytes: 64 * 1024 * 1024,
  keepSnapshots: 2,
  readCount: 64,
  timeoutMs: 5000,
  startTimeoutMs: 30_000,
  waitReplicas: 0,
};

function validName(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.:-]{1,200}$/.test(value)) {
    const code = typeof value === 'string' ? 'ERR_ATOMIK_INVALID_ARG_VALUE' : 'ERR_ATOMIK_INVALID_ARG_TYPE';
    throw new AtomikTypeError(code, `${name} must be a string of 1-200 letters, digits, '_', '.', ':' or '-', got ${describe(value)}`);
  }
  return value;
}

const OPTION_KEYS = optionKeys<ReplicateOptions>({
  redis: true,
  name: true,
  prefix: true,
  partitions: true,
  maxBatch: true,
  flushMs: true,
  window: true,
  snapshotBytes: true,
  keepSnapshots: true,
  readCount: true,
  timeoutMs: true,
  startTimeoutMs: true,
  waitReplicas: true,
  readFrom: true,
  authKey: true,
  entryEncoding: true,
});

/** Reads every option once, checks it (a misspelt key is refused, naming the nearest), and fills in the defaults. */
export function resolveOptions(table: AtomikTable, options: ReplicateOptions): ResolvedOptions {
  object(options, 'options');
  knownKeys(options, OPTION_KEYS, 'options');
  const o = {
    ...DEFAULTS,
    name: validName(options.name, 'options.name'),
    authKey: authKeyOption(options.authKey),
    entryEncoding: options.entryEncoding === undefined ? ('compact' as const) : oneOf(options.entryEncoding, ENTRY_ENCODINGS, 'options.entryEncoding'),
    readFrom: options.readFrom === undefined ? ('primary' as const) : oneOf(options.readFrom, READ_FROM, 'options.readFrom'),
  };
  if (options.prefix !== undefined) o.prefix = validName(options.prefix, 'options.prefix');
  const opt = (key: Exclude<keyof typeof DEFAULTS, 'prefix'>, min: number, max: number) => {
    const v = options[key];
    if (v !== undefined) o[key] = integer(v, min, max, `options.${key}`);
  };
  opt('partitions', 1, Math.max(1, Math.min(65536, table.size)));
  opt('maxBatch', 1, MAX_BATCH_UPDATES);
  opt('flushMs', 0, 3_600_000);
  opt('window', 1, 1024);
  opt('snapshotBytes', 1, Number.MAX_SAFE_INTEGER);
  opt('keepSnapshots', 1, 1000);
  opt('readCount', 1, 100_000);
  opt('timeoutMs', 100, 3_600_000);
  opt('startTimeoutMs', 100, 3_600_000);
  opt('waitReplicas', 0, 100);
  return o;
}
