// A replicated table: every process holds the whole AtomikTable, applies its
// own updates at once, publishes them (coalesced, in columnar batches) to a
// Redis stream per partition, and applies every other replica's batches
// exactly once. Snapshots bound the log and let a replica catch up.
//   options.ts          what replicate() accepts and reports
//   connection.ts       the connections, from a URL, options, a client or a cluster
//   keys.ts             key names, and checks of what is read back from them
//   partition.ts        the state of one partition
//   publisher.ts        own updates: coalesce, number, send, retry, flush()
//   follower.ts         the log: apply, recognise own entries, notice trims, caughtUp()
//   snapshot-writer.ts  snapshots and trimming
import { EventEmitter } from 'node:events';
import { types } from 'node:util';
import { AtomikTable, tableCore } from '../table/table.js';
import { arithmetic, type Group, type GroupArithmetic } from '../core/group.js';
import { describe, groupDelta, index, u32Input, u64Input, sameLength } from '../core/validate.js';
import { BATCH_VERSION } from '../engine/log-entry.js';
import type { LogPosition } from '../table/snapshot.js';
import { AtomikTypeError, ReplicationError } from '../core/errors.js';
import { replyLimits } from './reply-guard.js';
import { checkTarget, connector, type Connection, type RedisTarget } from './connection.js';
import { replicaWaitMs, resolveOptions, type ReplicaHealth, type ReplicaStats, type ReplicateOptions, type ResolvedOptions } from './options.js';
import { badState, partitionKeys, storedOrigin, tableKeys } from './keys.js';
import { Partition } from './partition.js';
import type { ReplicaContext } from './context.js';
import { Publisher } from './publisher.js';
import { BLOCK_MS, Follower } from './follower.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { HEARTBEAT_MS, staleHeartbeats, type Heartbeat } from './heartbeat.js';
import { prometheusText } from './metrics.js';
import { Authenticator } from './auth.js';

export type { ReplicateOptions, ReplicaStats, ReplicaHealth } from './options.js';

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

  private readonly options: ResolvedOptions;
  private readonly parts: Partition[];
  private readonly chunk: number;
  private readonly additive: boolean;
  private readonly acc: BigUint64Array;
  private readonly math: GroupArithmetic;
  private readonly publisher: Publisher;
  private readonly follower: Follower;
  private readonly snapshots: SnapshotWriter;
  private writer: Connection | null = null;
  private readers: Connection[] = [];
  private watchdog: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private heartbeatKey = '';
  private healthState: ReplicaHealth = { state: 'ok', unacknowledged: 0, origins: 0, lastError: null, since: Date.now() };
  private closed = false;

  /** @internal use replicate() */
  constructor(table: AtomikTable, options: ReplicateOptions) {
    super();
    if (!(table instanceof AtomikTable)) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `table must be an AtomikTable, got ${describe(table)}`);
    this.options = resolveOptions(table, options);
    this.table = table;
    this.group = table.group;
    this.additive = table.group === 'add';
    this.name = this.options.name;
    const { partitions, prefix } = this.options;
    this.chunk = Math.max(1, Math.ceil(table.size / partitions));
    this.parts = [];
    for (let p = 0; p < partitions; p++) {
      const start = p * this.chunk;
      const size = Math.max(0, Math.min(this.chunk, table.size - start));
      this.parts.push(new Partition(p, start, size, partitionKeys(prefix, this.name, p), table, this.group));
    }
    this.acc = tableCore(table).acc;
    this.math = arithmetic(this.group);
    // The parts see the replica through this view; its getters read the fields as they are now.
    const replica = () => this;
    const ctx: ReplicaContext = {
      table,
      group: this.group,
      options: this.options,
      stats: this.stats,
      parts: this.parts,
      auth: this.options.authKey ? new Authenticator(this.options.authKey) : null,
      get writer() {
        return replica().writer!;
      },
      get origin() {
        return replica().origin;
      },
      get closed() {
        return replica().closed;
      },
      get failure() {
        return replica().failure;
      },
      emit: (event, ...args) => this.emit(event, ...args),
      fail: (err) => this.fail(err),
      noteError: (err) => {
        this.healthState.lastError = err;
      },
    };
    this.publisher = new Publisher(ctx);
    this.snapshots = new SnapshotWriter(ctx);
    this.follower = new Follower(ctx, this.publisher, this.snapshots);
  }

  /** @internal connects, takes an origin id, loads the newest snapshots and catches up with the log. */
  async start(redis: RedisTarget): Promise<void> {
    // A start that fails leaves the caller's table as it was.
    const core = tableCore(this.table);
    const saved = [core.ref.slice(), core.acc.slice()] as const;
    const { startTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const last = this.healthState.lastError;
        const why = `could not reach Redis and catch up with '${this.name}' within ${startTimeoutMs} ms (options.startTimeoutMs)`;
        reject(new ReplicationError('ERR_ATOMIK_CONNECT', last ? `${why}; last error: ${last.message}` : why));
      }, startTimeoutMs);
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
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.beat();
  }

  /** Marks origins as publishing no more, on every partition (see RETIRE_SCRIPT). */
  private async retire(origins: readonly string[]): Promise<void> {
    const writer = this.writer!;
    await Promise.all(this.parts.flatMap((part) => origins.map((origin) => writer.atomikRetire(part.keys.heads, part.keys.retired, origin))));
  }

  /** Writes this replica's heartbeat (best effort: a failed one is simply missing until the next). */
  private beat(): void {
    if (this.closed || !this.writer) return;
    this.writer.hset(this.heartbeatKey, this.origin.toString(), this.heartbeatText()).catch(() => {});
  }

  private heartbeatText(): string {
    const beat: Heartbeat = {
      at: Date.now(),
      positions: this.parts.map((p) => p.position),
      unacknowledged: this.health.unacknowledged,
      health: this.healthState.state,
      stats: this.stats,
    };
    return JSON.stringify(beat);
  }

  /**
   * Takes the next origin id no live replica holds (see CLAIM_ORIGIN_SCRIPT);
   * with waitReplicas, only once that many Redis replicas hold the claim, so
   * a failover cannot hand the same id out again.
   */
  private async claimOrigin(writer: Connection, origins: string, heartbeats: string): Promise<string> {
    type Queue = {
      atomikClaimOrigin(o: string, h: string, b: string): Queue;
      wait(n: number, ms: number): Queue;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    const wanted = this.options.waitReplicas;
    const waitMs = replicaWaitMs(this.options);
    // One pipeline: the script and WAIT reach the node that owns the keys' slot, on one connection.
    const queue = (writer.pipeline() as unknown as Queue).atomikClaimOrigin(origins, heartbeats, this.heartbeatText());
    if (wanted > 0) queue.wait(wanted, waitMs);
    const replies = await queue.exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('the pipeline was aborted');
    const reached = wanted > 0 ? Number(replies[1]![1]) : 0;
    if (reached < wanted) {
      throw new ReplicationError(
        'ERR_ATOMIK_CONNECT',
        `the origin id this replica took reached ${reached} of ${wanted} Redis replicas within ${waitMs} ms (options.waitReplicas)`,
      );
    }
    return String(replies[0]![1]);
  }

  private async connectAndCatchUp(redis: RedisTarget): Promise<void> {
    const settings = {
      timeoutMs: this.options.timeoutMs,
      blockMs: BLOCK_MS,
      connectTimeoutMs: this.options.startTimeoutMs,
      replyLimits: replyLimits(Math.max(...this.parts.map((p) => p.size)), this.options.readCount),
      onError: (err: Error) => (this.healthState.lastError = err),
    };
    const connect = await connector(redis, settings, this.options.readFrom);
    if (this.closed) return;
    const writer = connect('commands');
    this.writer = writer;
    this.readers = this.parts.map(() => connect('reads'));
    const keys = tableKeys(this.options.prefix, this.name);
    const layout = `group=${this.group} contexts=${this.table.size} partitions=${this.parts.length} format=${BATCH_VERSION}`;
    await writer.set(keys.layout, layout, 'NX');
    const stored = await writer.get(keys.layout);
    if (stored !== layout) {
      throw new ReplicationError('ERR_ATOMIK_LAYOUT_MISMATCH', `'${this.name}' is stored as ${stored}; this table is ${layout}`);
    }
    let originText: string;
    try {
      originText = await this.claimOrigin(writer, keys.origins, keys.replicas);
    } catch (err) {
      if (err instanceof ReplicationError) throw err;
      throw badState(`${keys.origins} cannot hand out an origin id: ${(err as Error).message}`);
    }
    this.origin = storedOrigin(originText, keys.origins);
    this.heartbeatKey = keys.replicas;
    // Replicas silent for an hour crashed (a restart is a new origin): they will never publish again.
    const stale = staleHeartbeats(await writer.hgetall(keys.replicas), Date.now());
    if (stale.length > 0) {
      await this.retire(stale);
      await writer.hdel(keys.replicas, ...stale);
    }
    const ends: LogPosition[] = [];
    for (const part of this.parts) {
      await this.follower.loadNewestSnapshot(part, true);
      ends.push(await this.follower.logEnd(part));
    }
    this.follower.start(this.readers);
    await Promise.all(this.parts.map((part, i) => this.follower.waitForPosition(part, ends[i]!)));
  }

  // ---- health --------------------------------------------------------------

  /** What the replica is doing now: see ReplicaHealth. */
  get health(): ReplicaHealth {
    let unacknowledged = 0;
    let origins = 0;
    for (const part of this.parts) {
      unacknowledged += part.unacknowledged;
      origins += part.record.size;
    }
    return { ...this.healthState, unacknowledged, origins };
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
    const stalled = this.parts.some((p) => (p.unacknowledged > 0 && p.waitingSince > 0 && now - p.waitingSince > limit) || now - p.readOkAt > limit + BLOCK_MS);
    this.setHealth(stalled ? 'stalled' : 'ok');
  }

  /**
   * The replica's counters, health and unacknowledged entries in the
   * Prometheus text format (serve it at /metrics, or hand it to any
   * collector). Labels: table, origin.
   */
  metrics(): string {
    return prometheusText({ table: this.name, origin: this.origin.toString() }, this.stats, this.health);
  }

  // ---- local updates -----------------------------------------------------

  /**
   * Applies a delta to context i now and queues it for publishing. In the
   * 'add' group a negative bigint (down to -2^63) is a decrement.
   */
  accum(i: number, delta: bigint): void {
    if (typeof i !== 'number' || !(i >= 0 && i < this.table.size) || !Number.isInteger(i)) index(i, this.table.size, 'index');
    this.apply(i, groupDelta(delta, this.additive, 'delta'));
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

  private apply(i: number, d: bigint): void {
    if (this.closed) throw new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed', { cause: this.failure ?? undefined });
    this.math.accumulate(this.acc, i, d);
    this.stats.localUpdates++;
    const part = this.parts[Math.floor(i / this.chunk)]!;
    this.publisher.queue(part, i - part.start, d);
  }

  // ---- publishing, following, snapshots ------------------------------------

  /**
   * Publishes everything accumulated so far and resolves when Redis has
   * acknowledged it (appended to the log, and with `waitReplicas` copied to
   * that many Redis replicas: see the docs for what that guarantees).
   */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed'));
    return this.publisher.flush();
  }

  /** Resolves once every entry in the log when it is called has been applied here. */
  async caughtUp(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed');
    let ends: LogPosition[];
    try {
      ends = await Promise.all(this.parts.map((p) => this.follower.logEnd(p)));
    } catch (err) {
      throw this.failure ?? (this.closed ? new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica was closed', { cause: err }) : err);
    }
    await Promise.all(this.parts.map((p, i) => this.follower.waitForPosition(p, ends[i]!)));
  }

  /** Takes a snapshot of every partition now (any replica may; the newest wins). */
  async snapshot(): Promise<void> {
    for (const part of this.parts) await this.snapshots.write(part);
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
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.heartbeatKey) {
      if (this.heartbeat) clearInterval(this.heartbeat);
      // A clean close retires the origin and says goodbye (best effort, briefly); a crash leaves the heartbeat to age.
      const goodbye = async () => {
        if (!this.failure) await this.retire([this.origin.toString()]);
        await this.writer!.hdel(this.heartbeatKey, this.origin.toString());
      };
      await Promise.race([goodbye().catch(() => {}), new Promise((r) => setTimeout(r, 500).unref())]);
    }
    if (!this.failure) this.setHealth('closed');
    const err = this.failure ?? new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica was closed before the flush completed');
    this.publisher.close(err);
    this.follower.close(err);
    for (const r of this.readers) r.disconnect();
    this.writer?.disconnect();
    await this.follower.stopped();
  }
}

/** Starts replicating `table` under `options.name`; resolves once it has caught up with the log. */
export async function replicate(table: AtomikTable, options: ReplicateOptions): Promise<Replica> {
  const replica = new Replica(table, options);
  await replica.start(checkTarget(options.redis));
  return replica;
}
