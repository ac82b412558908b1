// A replicated table: every process holds the whole AtomikTable, applies its
// own updates at once, publishes them (coalesced, in columnar batches) to a
// Redis stream per partition, and applies every other replica's batches
// exactly once. Snapshots bound the log and let a replica catch up.
import { EventEmitter } from 'node:events';
import { types } from 'node:util';
import { AtomikTable, tableCore } from '../table/table.js';
import type { Group } from '../core/group.js';
import { U64_MAX, describe, integer, index, object, u32Input, u64Input, sameLength } from '../core/validate.js';
import {
  ENTRY_STATUS,
  ENTRY_STATUS_TEXT,
  BATCH_VERSION,
  MAX_BATCH_UPDATES,
  logEntryColumns,
  type LogEntryColumns,
  encodeLogEntry,
  readLogEntryHeader,
} from '../engine/log-entry.js';
import { comparePositions, decodeRecord, decodeSnapshot, encodeRecord, encodeSnapshot, type LogPosition } from '../table/snapshot.js';
import { checkTarget, connector, type Connection, type RedisTarget } from './connection.js';
import { AtomikRangeError, AtomikTypeError, ReplicationError } from '../core/errors.js';

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
  /** The last error a command met (retried since), or null. */
  lastError: Error | null;
  /** Date.now() of the last change of state. */
  since: number;
}

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

/**
 * An own entry kept until Redis acknowledged it and it was read back (its
 * counter is at or below the own delivery record): until then a snapshot
 * written here must leave it out and a snapshot reload must apply it again.
 */
interface Entry {
  counter: bigint;
  bytes: Uint8Array;
  updates: number;
  acked: boolean;
}

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
const BLOCK_MS = 1000;
const I64_MIN = -(1n << 63n);
const SNAPSHOT_LOCK_MS = 5000;
const MAX_BACKOFF_MS = 2000;
/** The largest origin id: origins are positive signed 64-bit integers (Redis INCR). */
const MAX_ORIGIN_ID = (1n << 63n) - 1n;
/** Decimal counters as the publish script stores them. */
const COUNTER_TEXT = /^(0|[1-9][0-9]{0,19})$/;

function badState(what: string): ReplicationError {
  return new ReplicationError('ERR_ATOMIK_BAD_LOG_STATE', what);
}

/** A counter read back from Redis, checked: a decimal u64. */
function storedCounter(text: string, what: string): bigint {
  const value = COUNTER_TEXT.test(text) ? BigInt(text) : -1n;
  if (value < 0n || value > U64_MAX) throw badState(`${what} holds '${text.slice(0, 40)}', not a batch counter`);
  return value;
}

/** A log position read back from Redis, checked before it is compared with anything. */
function storedPosition(text: string, what: string): LogPosition {
  if (!/^\d{1,20}-\d{1,20}$/.test(text)) throw badState(`${what} holds '${text.slice(0, 40)}', not a stream position`);
  return text;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
}

/** ioredis sends Buffers as bytes but stringifies other views. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function validName(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.:-]{1,200}$/.test(value)) {
    const code = typeof value === 'string' ? 'ERR_ATOMIK_INVALID_ARG_VALUE' : 'ERR_ATOMIK_INVALID_ARG_TYPE';
    throw new AtomikTypeError(code, `${name} must be a string of 1-200 letters, digits, '_', '.', ':' or '-', got ${describe(value)}`);
  }
  return value;
}

/** One partition: a contiguous range of the table and its stream. */
class Partition {
  readonly keys: { log: string; heads: string; ids: string; blobs: string; records: string; trim: string; lock: string };
  readonly ref: BigUint64Array;
  readonly acc: BigUint64Array;
  // Local updates not cut into an entry yet, coalesced per context.
  readonly dirty: Uint32Array;
  dirtyCount = 0;
  // Own entries not yet both acknowledged and read back, by counter.
  readonly entries = new Map<bigint, Entry>();
  nextCounter = 1n;
  ackedThrough = 0n;
  nextToSend = 1n;
  inflight = 0;
  sendEpoch = 0;
  backoffMs = 0;
  /** Sending waits out a backoff after a failed publish. */
  paused = false;
  record = new Map<bigint, bigint>();
  position: LogPosition = '0-0';
  trimSeen: string | null = null;
  gapAt: string | null = null;
  /** A gap was seen: reload the newest snapshot before reading on. */
  resyncDue = false;
  bytesSinceSnapshot = 0;
  /** Date.now() when the oldest unacknowledged entry was sent, or when reading last succeeded. */
  waitingSince = 0;
  readOkAt = Date.now();
  /** caughtUp() calls waiting for the position to reach theirs. */
  positionWaiters: { target: LogPosition; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    readonly index: number,
    readonly start: number,
    readonly size: number,
    table: AtomikTable,
    prefix: string,
    name: string,
  ) {
    const tag = `${prefix}:{${name}:${index}}`;
    this.keys = {
      log: `${tag}:log`,
      heads: `${tag}:heads`,
      ids: `${tag}:snapshots`,
      blobs: `${tag}:snapshot-blobs`,
      records: `${tag}:snapshot-records`,
      trim: `${tag}:trimmed-through`,
      lock: `${tag}:snapshot-lock`,
    };
    const core = tableCore(table);
    this.ref = core.ref.subarray(start, start + size);
    this.acc = core.acc.subarray(start, start + size);
    this.dirty = new Uint32Array(size);
  }
}

/**
 * Keeps `table` in step with every other replica of the same name. Create
 * one with `replicate()`. Change the table only through the replica
 * (accum, accumMany): direct writes to the table are not published.
 */
export class Replica extends EventEmitter {
  readonly table: AtomikTable;
  readonly name: string;
  readonly group: Group;
  /** This replica's origin id, new at every start, so a restart never reuses a counter. */
  origin = 0n;
  readonly stats: ReplicaStats = {
    localUpdates: 0,
    publishedEntries: 0,
    publishedUpdates: 0,
    publishedBytes: 0,
    appliedEntries: 0,
    appliedUpdates: 0,
    duplicates: 0,
    skipped: 0,
    resyncs: 0,
    snapshots: 0,
    retries: 0,
  };
  /** Set when the replica stopped on an error it cannot recover from. */
  failure: ReplicationError | null = null;

  private readonly options: Required<Omit<ReplicateOptions, 'redis' | 'name'>>;
  private readonly parts: Partition[];
  private readonly chunk: number;
  private readonly additive: boolean;
  private readonly acc: BigUint64Array;
  private readonly pend: BigUint64Array;
  private readonly mark: Uint8Array;
  private writer!: Connection;
  private readers: Connection[] = [];
  private watchdog: NodeJS.Timeout | null = null;
  private healthState: ReplicaHealth = { state: 'ok', unacknowledged: 0, lastError: null, since: Date.now() };
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private flushWaiters: { targets: (bigint | null)[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  private loops: Promise<void>[] = [];

  /** @internal use replicate() */
  constructor(table: AtomikTable, options: ReplicateOptions) {
    super();
    if (!(table instanceof AtomikTable)) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `table must be an AtomikTable, got ${describe(table)}`);
    object(options, 'options');
    this.table = table;
    this.group = table.group;
    this.additive = table.group === 'add';
    this.name = validName(options.name, 'options.name');
    const o = { ...DEFAULTS };
    o.prefix = options.prefix === undefined ? o.prefix : validName(options.prefix, 'options.prefix');
    const opt = (key: keyof typeof DEFAULTS, min: number, max: number) => {
      const v = options[key];
      if (v !== undefined) (o as Record<string, unknown>)[key] = integer(v, min, max, `options.${key}`);
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
    this.options = o;
    this.chunk = Math.max(1, Math.ceil(table.size / o.partitions));
    this.parts = [];
    for (let p = 0; p < o.partitions; p++) {
      const start = p * this.chunk;
      this.parts.push(new Partition(p, start, Math.max(0, Math.min(this.chunk, table.size - start)), table, o.prefix, this.name));
    }
    this.acc = tableCore(table).acc;
    this.pend = new BigUint64Array(table.size);
    this.mark = new Uint8Array(table.size);
  }

  /** @internal connects, takes an origin id, loads the newest snapshots and catches up with the log. */
  async start(redis: RedisTarget): Promise<void> {
    // A start that fails leaves the caller's table as it was.
    const core = tableCore(this.table);
    const saved = [core.ref.slice(), core.acc.slice()] as const;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ReplicationError(
              'ERR_ATOMIK_CONNECT',
              `could not reach Redis and catch up with '${this.name}' within ${this.options.startTimeoutMs} ms (options.startTimeoutMs)${this.lastErrorText()}`,
            ),
          ),
        this.options.startTimeoutMs,
      );
    });
    try {
      await Promise.race([this.connectAndCatchUp(redis), deadline]);
    } catch (err) {
      await this.close();
      core.ref.set(saved[0]);
      core.acc.set(saved[1]);
      throw err instanceof ReplicationError
        ? err
        : new ReplicationError('ERR_ATOMIK_CONNECT', `starting the replica failed: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    this.watchdog = setInterval(() => this.checkHealth(), Math.max(50, this.options.timeoutMs / 4));
    this.watchdog.unref();
  }

  private lastErrorText(): string {
    const err = this.healthState.lastError;
    return err ? `; last error: ${err.message}` : '';
  }

  private async connectAndCatchUp(redis: RedisTarget): Promise<void> {
    const connect = await connector(redis, { timeoutMs: this.options.timeoutMs, blockMs: BLOCK_MS, connectTimeoutMs: this.options.startTimeoutMs });
    if (this.closed) return;
    const watch = (conn: Connection) => conn.on('error', (err: Error) => (this.healthState.lastError = err));
    this.writer = connect('commands');
    watch(this.writer);
    this.readers = this.parts.map(() => watch(connect('reads')));
    const layout = `group=${this.group} contexts=${this.table.size} partitions=${this.parts.length} format=${BATCH_VERSION}`;
    const tag = `${this.options.prefix}:{${this.name}}`;
    await this.writer.set(`${tag}:layout`, layout, 'NX');
    const stored = await this.writer.get(`${tag}:layout`);
    if (stored !== layout) {
      throw new ReplicationError('ERR_ATOMIK_LAYOUT_MISMATCH', `'${this.name}' is stored as ${stored}; this table is ${layout}`);
    }
    let originText: string;
    try {
      // INCR and GET in one transaction: GET answers the new id as text, exact
      // past 2^53 (an integer reply, in Lua or in JavaScript, is a double).
      const replies = await this.writer.multi().incr(`${tag}:origins`).get(`${tag}:origins`).exec();
      const failed = replies?.find(([err]) => err);
      if (!replies || failed) throw failed?.[0] ?? new Error('the transaction was aborted');
      originText = String(replies[1]![1]);
    } catch (err) {
      throw badState(`${tag}:origins cannot hand out an origin id: ${(err as Error).message}`);
    }
    const origin = /^[1-9][0-9]{0,18}$/.test(originText) ? BigInt(originText) : 0n;
    if (origin < 1n || origin > MAX_ORIGIN_ID) throw badState(`${tag}:origins handed out '${originText}', not an origin id in [1, 2^63)`);
    this.origin = origin;
    const ends: string[] = [];
    for (const part of this.parts) {
      await this.loadNewestSnapshot(part, true);
      ends.push(await this.logEnd(part));
    }
    this.loops = this.parts.map((part) => this.readLoop(part));
    await Promise.all(this.parts.map((part, i) => this.waitForPosition(part, ends[i]!)));
  }

  /** What the replica is doing now: see ReplicaHealth. */
  get health(): ReplicaHealth {
    return { ...this.healthState, unacknowledged: this.unacknowledged() };
  }

  private unacknowledged(): number {
    let n = 0;
    for (const part of this.parts) n += Number(part.nextCounter - 1n - part.ackedThrough);
    return n;
  }

  private setHealth(state: ReplicaHealth['state']): void {
    if (this.healthState.state === state) return;
    this.healthState = { ...this.healthState, state, since: Date.now() };
    this.emit('health', this.health);
  }

  /** Stalled: entries waiting on Redis, or reads failing, for longer than timeoutMs. */
  private checkHealth(): void {
    if (this.closed) return;
    const now = Date.now();
    const limit = this.options.timeoutMs;
    const stalled = this.parts.some(
      (p) => (p.ackedThrough + 1n < p.nextCounter && p.waitingSince > 0 && now - p.waitingSince > limit) || now - p.readOkAt > limit + BLOCK_MS,
    );
    this.setHealth(stalled ? 'stalled' : 'ok');
  }

  // ---- local updates -----------------------------------------------------

  /**
   * Applies a delta to context i now and queues it for publishing. In the
   * 'add' group a negative bigint (down to -2^63) is a decrement.
   */
  accum(i: number, delta: bigint): void {
    if (typeof i !== 'number' || !(i >= 0 && i < this.table.size) || !Number.isInteger(i)) index(i, this.table.size, 'index');
    this.apply(i, this.word(delta, 'delta'));
  }

  /** Applies deltas[k] to context indices[k] for every k, validated as a whole first. */
  accumMany(indices: Uint32Array, deltas: BigUint64Array | BigInt64Array): void {
    // Private copies: the arrays are read once, whatever the caller (or another thread) does next.
    const idx = u32Input(indices, 'indices').slice();
    const signed = this.additive && !types.isProxy(deltas) && Object.prototype.toString.call(deltas) === '[object BigInt64Array]';
    const d = signed ? BigUint64Array.from(new BigInt64Array(deltas as BigInt64Array), (v) => BigInt.asUintN(64, v)) : u64Input(deltas, 'deltas').slice();
    sameLength(idx, 'indices', d, 'deltas');
    for (let k = 0; k < idx.length; k++) if (idx[k]! >= this.table.size) index(idx[k], this.table.size, `indices[${k}]`);
    for (let k = 0; k < idx.length; k++) this.apply(idx[k]!, d[k]!);
  }

  /** The state of context i (unsigned). */
  read(i: number): bigint {
    return this.table.read(i);
  }

  /** The state of context i as a signed 64-bit integer (a counter that went below zero reads negative). */
  readSigned(i: number): bigint {
    return BigInt.asIntN(64, this.table.read(i));
  }

  private word(delta: unknown, name: string): bigint {
    if (typeof delta === 'bigint') {
      if (delta >= 0n && delta <= U64_MAX) return delta;
      if (this.additive && delta < 0n && delta >= I64_MIN) return BigInt.asUintN(64, delta);
    }
    const range = this.additive ? '[-2^63, 2^64)' : '[0, 2^64)';
    if (typeof delta !== 'bigint') throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a bigint in ${range}, got ${describe(delta)}`);
    throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `${name} must be in ${range} in the '${this.group}' group, got ${delta}n`);
  }

  private apply(i: number, d: bigint): void {
    if (this.closed) throw new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed', { cause: this.failure ?? undefined });
    const acc = this.acc;
    const pend = this.pend;
    if (this.additive) {
      acc[i] = acc[i]! + d;
      pend[i] = pend[i]! + d;
    } else {
      acc[i] = acc[i]! ^ d;
      pend[i] = pend[i]! ^ d;
    }
    this.stats.localUpdates++;
    if (this.mark[i] === 0) {
      this.mark[i] = 1;
      const part = this.parts[Math.floor(i / this.chunk)]!;
      part.dirty[part.dirtyCount++] = i - part.start;
      if (part.dirtyCount >= this.options.maxBatch) this.cut(part);
      else if (this.flushTimer === null) {
        this.flushTimer = setTimeout(() => this.flushAll(), this.options.flushMs);
        this.flushTimer.unref();
      }
    }
  }

  // ---- publishing --------------------------------------------------------

  private flushAll(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const part of this.parts) this.cut(part);
  }

  /** Entries waiting or in flight may hold this many; beyond it updates keep coalescing. */
  private get entryLimit(): number {
    return 4 * this.options.window;
  }

  /** Cuts the partition's coalesced updates into entries, while the outbox has room. */
  private cut(part: Partition): void {
    const max = this.options.maxBatch;
    while (part.dirtyCount > 0 && part.entries.size < this.entryLimit) {
      const n = Math.min(max, part.dirtyCount);
      const from = part.dirtyCount - n;
      const idx = new Uint32Array(n);
      const deltas = new BigUint64Array(n);
      let count = 0;
      for (let k = from; k < part.dirtyCount; k++) {
        const local = part.dirty[k]!;
        const i = part.start + local;
        const d = this.pend[i]!;
        this.pend[i] = 0n;
        this.mark[i] = 0;
        if (d === 0n) continue; // updates that cancelled out
        idx[count] = local;
        deltas[count++] = d;
      }
      part.dirtyCount = from;
      if (count === 0) continue;
      const counter = part.nextCounter++;
      const bytes = encodeLogEntry(this.group, part.index, this.origin, counter, counter, idx, deltas, count);
      part.entries.set(counter, { counter, bytes, updates: count, acked: false });
    }
    this.pump(part);
    this.settleFlushes();
  }

  private pump(part: Partition): void {
    if (this.closed || part.paused) return;
    while (part.inflight < this.options.window && part.nextToSend < part.nextCounter) {
      const counter = part.nextToSend++;
      const entry = part.entries.get(counter);
      if (!entry || entry.acked) continue;
      if (part.inflight++ === 0 && part.waitingSince === 0) part.waitingSince = Date.now();
      const epoch = part.sendEpoch;
      this.publish(part, entry).then(
        ([status, detail]) => this.onPublished(part, epoch, entry, status, detail),
        (err: Error) => this.onPublishFailed(part, epoch, err),
      );
    }
  }

  /** Appends one entry (once, whatever happens to the reply) and, with waitReplicas, waits for Redis replicas to hold it. */
  private async publish(part: Partition, entry: Entry): Promise<[number, string]> {
    const args = [
      part.keys.log,
      part.keys.heads,
      this.origin.toString(),
      (entry.counter - 1n).toString(),
      entry.counter.toString(),
      asBuffer(entry.bytes),
    ] as const;
    const wanted = this.options.waitReplicas;
    if (wanted === 0) {
      const [status, detail] = await this.writer.atomikPublish(...args);
      return [Number(status), String(detail)];
    }
    // One pipeline: the script and WAIT go to the node that owns the partition's slot, on one connection.
    type Queue = { atomikPublish(...a: typeof args): Queue; wait(n: number, ms: number): Queue; exec(): Promise<unknown> };
    // WAIT answers within half the socket timeout, so a slow replica is a short answer, not a dropped connection.
    const waitMs = Math.max(1, Math.floor(this.options.timeoutMs / 2));
    const replies = await (this.writer.pipeline() as unknown as Queue)
      .atomikPublish(...args)
      .wait(wanted, waitMs)
      .exec();
    const [[publishError, published], [waitError, reached]] = replies as [[Error | null, [number, Buffer | string]], [Error | null, number]];
    if (publishError) {
      // A pipeline is redirected only when all its commands are; WAIT has no
      // key, so after a failover the slot map is refreshed here, and the retry finds the new primary.
      if (/^(MOVED|ASK) /.test(publishError.message) && 'refreshSlotsCache' in this.writer) this.writer.refreshSlotsCache();
      throw publishError;
    }
    if (waitError) throw waitError;
    if (Number(published[0]) !== -1 && Number(reached) < wanted) {
      throw new Error(`entry ${entry.counter} reached ${Number(reached)} of ${wanted} Redis replicas within ${waitMs} ms`);
    }
    return [Number(published[0]), String(published[1])];
  }

  private onPublished(part: Partition, epoch: number, entry: Entry, status: number, detail: string): void {
    if (epoch !== part.sendEpoch) return;
    part.inflight--;
    if (status === -1) {
      // Redis lacks batches before this one (it lost acknowledged writes, or an
      // earlier publish failed): send again from its head, if we still hold them.
      let head: bigint;
      try {
        head = storedCounter(detail, `${part.keys.heads}[${this.origin}]`);
      } catch (err) {
        return this.fail(err as ReplicationError);
      }
      for (let c = head + 1n; c < entry.counter; c++) {
        if (!part.entries.has(c)) {
          this.fail(
            new ReplicationError(
              'ERR_ATOMIK_LOG_LOST',
              `Redis lost batch ${c} of origin ${this.origin} on partition ${part.index} after acknowledging it, and it is no longer held here; replicas may disagree`,
            ),
          );
          return;
        }
        part.entries.get(c)!.acked = false;
      }
      this.rewind(part, head, 0);
      return;
    }
    part.backoffMs = 0;
    part.waitingSince = part.inflight > 0 ? Date.now() : 0;
    entry.acked = true;
    if (status === 1) {
      this.stats.publishedEntries++;
      this.stats.publishedUpdates += entry.updates;
      this.stats.publishedBytes += entry.bytes.length;
    }
    // Entries leave the map once acknowledged and read back, so a missing one is acknowledged.
    while (part.ackedThrough + 1n < part.nextCounter) {
      const next = part.entries.get(part.ackedThrough + 1n);
      if (next && !next.acked) break;
      part.ackedThrough++;
    }
    if (entry.counter <= this.ownRead(part)) part.entries.delete(entry.counter);
    this.cut(part);
  }

  private onPublishFailed(part: Partition, epoch: number, err: Error): void {
    if (epoch !== part.sendEpoch || this.closed) return;
    part.inflight--;
    this.stats.retries++;
    this.healthState.lastError = err;
    this.emit('retry', new ReplicationError('ERR_ATOMIK_PUBLISH_RETRY', `publishing to ${part.keys.log} failed, retrying: ${err.message}`, { cause: err }));
    this.rewind(part, part.ackedThrough, Math.min(MAX_BACKOFF_MS, Math.max(50, part.backoffMs * 2)));
  }

  /** Sends everything after `head` again, in order, after `delayMs`. */
  private rewind(part: Partition, head: bigint, delayMs: number): void {
    part.sendEpoch++;
    part.inflight = 0;
    part.ackedThrough = head < part.ackedThrough ? head : part.ackedThrough;
    part.nextToSend = head + 1n;
    part.backoffMs = delayMs;
    if (delayMs === 0) return this.pump(part);
    part.paused = true;
    setTimeout(() => {
      part.paused = false;
      this.pump(part);
    }, delayMs).unref();
  }

  /**
   * Publishes everything accumulated so far and resolves when Redis has
   * acknowledged it (appended to the log: see the README for what that
   * guarantees under each fsync policy).
   */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed'));
    this.flushAll();
    // Updates still coalescing (the outbox was full) get their entries as
    // acknowledgements make room: the flush then waits for those too.
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ targets: this.parts.map((p) => (p.dirtyCount > 0 ? null : p.nextCounter - 1n)), resolve, reject });
      this.settleFlushes();
    });
  }

  private settleFlushes(): void {
    if (this.flushWaiters.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((w) => {
      let done = true;
      this.parts.forEach((p, k) => {
        if (w.targets[k] === null && p.dirtyCount === 0) w.targets[k] = p.nextCounter - 1n;
        const target = w.targets[k];
        if (target === null || p.ackedThrough < target!) done = false;
      });
      if (done) w.resolve();
      return !done;
    });
  }

  // ---- reading -----------------------------------------------------------

  private async readLoop(part: Partition): Promise<void> {
    const reader = this.readers[part.index]!;
    while (!this.closed) {
      type ReadReply = [Buffer, [Buffer, Buffer[]][]][] | null;
      let result: ReadReply;
      try {
        result = await reader.xreadBuffer('COUNT', this.options.readCount, 'BLOCK', BLOCK_MS, 'STREAMS', part.keys.log, part.position);
      } catch (err) {
        if (this.closed) return;
        this.healthState.lastError = err as Error;
        await new Promise((r) => setTimeout(r, 100).unref());
        continue;
      }
      if (this.closed) return;
      part.readOkAt = Date.now();
      if (result) {
        for (const [, entries] of result) {
          for (const [id, fields] of entries) {
            if (!this.onEntry(part, id.toString(), fields)) break;
          }
        }
      }
      try {
        await this.checkTrim(part, reader);
        // Only now: entries read past a trim do not make a replica caught up until the trim check had its say.
        this.positionMoved(part);
        if (part.bytesSinceSnapshot >= this.options.snapshotBytes) await this.maybeSnapshot(part);
      } catch (err) {
        if (this.closed) return;
        if (err instanceof ReplicationError) return this.fail(err);
        this.healthState.lastError = err as Error;
      }
    }
  }

  /** Applies one log entry; false when the partition must resynchronise first. */
  private onEntry(part: Partition, id: string, fields: Buffer[]): boolean {
    const data = fields.length === 2 && fields[0]!.toString() === 'd' ? fields[1]! : null;
    const header = data ? readLogEntryHeader(data) : ENTRY_STATUS.format;
    const skip = (why: string) => {
      this.stats.skipped++;
      this.emit('skipped', new ReplicationError('ERR_ATOMIK_BAD_BATCH', `log entry ${id} of ${part.keys.log} skipped: ${why}`), id);
      part.position = id;
      return true;
    };
    if (typeof header === 'number') return skip(ENTRY_STATUS_TEXT[header]!);
    if (header.partition !== part.index) return skip(`it belongs to partition ${header.partition}`);
    part.bytesSinceSnapshot += data!.length;
    if (header.first > header.last || header.first === 0n) return skip('its counter range is empty');
    // The common case, a peer's next batch, is checked whole by applyBatch
    // itself; every other decision (own, duplicate, gap) is taken only on an
    // entry that passed the same checks.
    const next = header.origin !== this.origin && header.first === (part.record.get(header.origin) ?? 0n) + 1n;
    if (!next) {
      const status = this.entryStatus(part, data!);
      if (status !== ENTRY_STATUS.ok) return skip(ENTRY_STATUS_TEXT[status] ?? `status ${status}`);
    }
    if (header.origin === this.origin) {
      if (header.last <= this.ownRead(part)) {
        this.stats.duplicates++;
        part.position = id;
        return true;
      }
      // Own updates are in the local state already; an entry under this
      // origin that is not byte for byte one this replica published is forged.
      const own = part.entries.get(header.first);
      if (!own || header.last !== header.first || !sameBytes(own.bytes, data!))
        return skip("it carries this replica's origin but is not an entry it published");
      part.position = id;
      this.ownReadThrough(part, header.last);
      return true;
    }
    const seen = part.record.get(header.origin) ?? 0n;
    if (header.last <= seen) {
      this.stats.duplicates++;
      part.position = id;
      return true;
    }
    if (header.first !== seen + 1n) {
      if (header.first <= seen) return skip(`its counters ${header.first}..${header.last} overlap ones already applied (through ${seen})`);
      // Batches of this origin are missing before this one: the log was trimmed
      // past this replica. A snapshot covers them; if the same gap shows again
      // after loading it, the log itself lacks them.
      if (part.gapAt === id) {
        this.fail(
          new ReplicationError(
            'ERR_ATOMIK_GAP',
            `${part.keys.log} lacks batches ${seen + 1n}..${header.first - 1n} of origin ${header.origin} before entry ${id}, and no snapshot covers them`,
          ),
        );
        return false;
      }
      part.gapAt = id;
      part.resyncDue = true;
      this.emit('resync', { partition: part.index, reason: `origin ${header.origin} jumps from ${seen} to ${header.first}` });
      return false;
    }
    const status = this.table.engine.applyBatch(this.group, part.ref, part.acc, part.index, data!);
    if (status !== ENTRY_STATUS.ok) return skip(ENTRY_STATUS_TEXT[status] ?? `status ${status}`);
    part.record.set(header.origin, header.last);
    part.position = id;
    this.stats.appliedEntries++;
    this.stats.appliedUpdates += header.count;
    return true;
  }

  /** Every check applyBatch makes (header, length, checksum, group, partition, index range), without applying. */
  private entryStatus(part: Partition, data: Uint8Array): number {
    const columns = logEntryColumns(data, this.group, part.index);
    if (typeof columns === 'number') return columns;
    for (const i of columns.indices) if (i >= part.size) return ENTRY_STATUS.range;
    return ENTRY_STATUS.ok;
  }

  /**
   * A trim past this replica's position may have removed entries it never
   * read. It then holds less than the oldest retained snapshot, which
   * contains everything up to the trim point: compare, and reload if behind.
   */
  private async checkTrim(part: Partition, reader: Connection): Promise<void> {
    let behind = part.resyncDue;
    part.resyncDue = false;
    if (!behind) {
      const stored = await reader.get(part.keys.trim);
      if (stored === null || stored === part.trimSeen) return;
      const trim = storedPosition(stored, part.keys.trim);
      if (comparePositions(part.position, trim) < 0) behind = true;
      else {
        const record = await reader.hgetBuffer(part.keys.records, trim);
        if (record === null) return; // superseded by a newer trim: checked next round
        if (record.length % 16 !== 0) throw badState(`${part.keys.records}[${trim}] is ${record.length} bytes, not a delivery record`);
        for (const [origin, counter] of decodeRecord(record)) {
          if ((part.record.get(origin) ?? 0n) >= counter) continue;
          if (origin !== this.origin) behind = true;
          else this.ownReadThrough(part, counter);
        }
      }
      part.trimSeen = trim;
    }
    if (behind) {
      this.stats.resyncs++;
      await this.loadNewestSnapshot(part, false);
    }
  }

  /** The last own batch counter this replica has read back (or found in the log's past). */
  private ownRead(part: Partition): bigint {
    return part.record.get(this.origin) ?? 0n;
  }

  /**
   * Own batches through `counter` are in the log's past: read back, or
   * trimmed before they could be (the log holds an origin's batches in
   * counter order, so every earlier one precedes this one). They leave the
   * outbox once acknowledged, which may make room for updates still
   * coalescing.
   */
  private ownReadThrough(part: Partition, counter: bigint): void {
    if (counter <= this.ownRead(part)) return;
    part.record.set(this.origin, counter);
    for (const entry of part.entries.values()) if (entry.acked && entry.counter <= counter) part.entries.delete(entry.counter);
    if (part.dirtyCount > 0) this.cut(part);
  }

  /**
   * Replaces the partition's state by the newest snapshot, then re-applies
   * this replica's own updates that the snapshot does not contain yet.
   */
  private async loadNewestSnapshot(part: Partition, initial: boolean): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [listed] = await this.writer.lrange(part.keys.ids, 0, 0);
      const newest = listed === undefined ? undefined : storedPosition(listed, part.keys.ids);
      if (newest === undefined) {
        if (!initial) throw new ReplicationError('ERR_ATOMIK_GAP', `${part.keys.log} misses entries and holds no snapshot to recover from`);
        part.ref.fill(0n);
        part.acc.fill(0n);
        return;
      }
      const blob = await this.writer.hgetBuffer(part.keys.blobs, newest);
      if (blob === null) continue; // replaced meanwhile
      let snap;
      try {
        snap = decodeSnapshot(blob);
      } catch (err) {
        throw new ReplicationError('ERR_ATOMIK_BAD_SNAPSHOT', `snapshot ${newest} of ${part.keys.log} is unreadable: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (snap.group !== this.group || snap.states.length !== part.size || snap.partition !== part.index || snap.partitions !== this.parts.length) {
        throw new ReplicationError(
          'ERR_ATOMIK_LAYOUT_MISMATCH',
          `snapshot ${newest} of ${part.keys.log} is for group '${snap.group}', partition ${snap.partition} of ${snap.partitions}, ${snap.states.length} contexts; this replica has '${this.group}', partition ${part.index} of ${this.parts.length}, ${part.size}`,
        );
      }
      part.ref.set(snap.states);
      part.acc.fill(0n);
      const ownThrough = snap.record.get(this.origin) ?? 0n;
      for (const entry of part.entries.values()) {
        if (entry.counter <= ownThrough) continue; // in the snapshot
        this.table.engine.applyBatch(this.group, part.ref, part.acc, part.index, entry.bytes);
      }
      for (let k = 0; k < part.dirtyCount; k++) {
        const local = part.dirty[k]!;
        const d = this.pend[part.start + local]!;
        part.acc[local] = this.additive ? part.acc[local]! + d : part.acc[local]! ^ d;
      }
      part.record = snap.record;
      part.record.delete(this.origin);
      this.ownReadThrough(part, ownThrough);
      part.position = snap.position;
      part.bytesSinceSnapshot = 0;
      this.positionMoved(part);
      if (!initial) this.emit('resync', { partition: part.index, reason: `loaded snapshot ${newest}` });
      return;
    }
    throw new ReplicationError('ERR_ATOMIK_GAP', `could not read a stable snapshot of ${part.keys.log}`);
  }

  private waitForPosition(part: Partition, target: LogPosition): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (comparePositions(part.position, target) >= 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed'));
    return new Promise((resolve, reject) => part.positionWaiters.push({ target, resolve, reject }));
  }

  /** Wakes the caughtUp() calls whose position the partition has reached. */
  private positionMoved(part: Partition): void {
    if (part.positionWaiters.length === 0) return;
    part.positionWaiters = part.positionWaiters.filter((w) => {
      if (comparePositions(part.position, w.target) < 0) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * The position a replica must reach to hold everything logged so far: the
   * last entry, or the trim point when trimming emptied the log (the entries
   * up to it are then only in the snapshots).
   */
  private async logEnd(part: Partition): Promise<LogPosition> {
    const [[, last], [, trim]] = (await this.writer.multi().xrevrange(part.keys.log, '+', '-', 'COUNT', 1).get(part.keys.trim).exec()) as [
      [null, [string, string[]][]],
      [null, string | null],
    ];
    const end = last[0]?.[0] ?? '0-0';
    if (trim === null) return end;
    const trimmed = storedPosition(trim, part.keys.trim);
    return comparePositions(trimmed, end) > 0 ? trimmed : end;
  }

  /** Resolves once every entry in the log when it is called has been applied here. */
  async caughtUp(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed');
    let ends: LogPosition[];
    try {
      ends = await Promise.all(this.parts.map((p) => this.logEnd(p)));
    } catch (err) {
      throw this.failure ?? (this.closed ? new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica was closed', { cause: err }) : err);
    }
    await Promise.all(this.parts.map((p, i) => this.waitForPosition(p, ends[i]!)));
  }

  // ---- snapshots ---------------------------------------------------------

  private async maybeSnapshot(part: Partition): Promise<void> {
    part.bytesSinceSnapshot = 0;
    const locked = await this.writer.set(part.keys.lock, this.origin.toString(), 'PX', SNAPSHOT_LOCK_MS, 'NX');
    if (locked === null) return;
    try {
      await this.writeSnapshot(part);
    } finally {
      await this.writer.del(part.keys.lock);
    }
  }

  /** Takes a snapshot of every partition now (any replica may; the newest wins). */
  async snapshot(): Promise<void> {
    for (const part of this.parts) await this.writeSnapshot(part);
  }

  /** The partition as the log has it at part.position: own updates not read back yet are taken out. */
  private async writeSnapshot(part: Partition): Promise<boolean> {
    const states = new BigUint64Array(part.size);
    this.table.engine.states(this.group, part.ref, part.acc, states);
    const undo = (local: number, d: bigint) => {
      states[local] = this.additive ? states[local]! - d : states[local]! ^ d;
    };
    const ownRead = this.ownRead(part);
    for (const entry of part.entries.values()) {
      if (entry.counter <= ownRead) continue; // in the log up to part.position
      const { indices, deltas } = logEntryColumns(entry.bytes, this.group, part.index) as LogEntryColumns; // our own, valid
      for (let k = 0; k < indices.length; k++) undo(indices[k]!, deltas[k]!);
    }
    for (let k = 0; k < part.dirtyCount; k++) undo(part.dirty[k]!, this.pend[part.start + part.dirty[k]!]!);
    const record = new Map(part.record);
    const blob = encodeSnapshot({ group: this.group, partition: part.index, partitions: this.parts.length, position: part.position, record, states });
    const stored = await this.writer.atomikSnapshot(
      part.keys.ids,
      part.keys.blobs,
      part.keys.records,
      part.keys.trim,
      part.keys.log,
      part.position,
      asBuffer(blob),
      asBuffer(encodeRecord(record)),
      this.options.keepSnapshots,
    );
    if (stored === 1) this.stats.snapshots++;
    return stored === 1;
  }

  // ---- shutdown ----------------------------------------------------------

  private fail(err: ReplicationError): void {
    if (this.failure) return;
    this.failure = err;
    this.setHealth('failed');
    if (this.listenerCount('error') > 0) this.emit('error', err);
    void this.close();
  }

  /** Stops reading and publishing and closes the connections. Call flush() first to publish what is pending. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    if (!this.failure) this.setHealth('closed');
    const err = this.failure ?? new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica was closed before the flush completed');
    for (const w of this.flushWaiters) w.reject(err);
    this.flushWaiters = [];
    for (const part of this.parts) for (const w of part.positionWaiters.splice(0)) w.reject(err);
    for (const r of this.readers) r.disconnect();
    this.writer?.disconnect();
    await Promise.allSettled(this.loops);
  }
}

/** Starts replicating `table` under `options.name`; resolves once it has caught up with the log. */
export async function replicate(table: AtomikTable, options: ReplicateOptions): Promise<Replica> {
  const replica = new Replica(table, options);
  await replica.start(checkTarget(options.redis));
  return replica;
}
