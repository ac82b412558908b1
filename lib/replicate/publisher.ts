// Publishing a replica's own updates: coalescing them per context, cutting
// them into numbered entries, sending a window of them to Redis (each
// appended exactly once by the publish script, whatever happens to the
// replies), retrying, and settling flush() calls.
import { encodeLogEntry } from '../engine/log-entry.js';
import { arithmetic, type GroupArithmetic } from '../core/group.js';
import { ReplicationError } from '../core/errors.js';
import { storedCounter } from './keys.js';
import { asBuffer, type ReplicaContext } from './context.js';
import type { Entry, Partition } from './partition.js';
import { replicaWaitMs } from './options.js';

const MAX_BACKOFF_MS = 2000;

interface FlushWaiter {
  /** Per partition, the counter that must be acknowledged. */
  targets: bigint[];
  resolve: () => void;
  reject: (e: Error) => void;
}

export class Publisher {
  private flushTimer: NodeJS.Timeout | null = null;
  private flushWaiters: FlushWaiter[] = [];

  private readonly math: GroupArithmetic;

  constructor(private readonly ctx: ReplicaContext) {
    this.math = arithmetic(ctx.group);
  }

  /** Queues a delta the table already holds for context `local` of `part`. */
  queue(part: Partition, local: number, d: bigint): void {
    this.math.accumulate(part.pend, local, d);
    if (part.mark[local] !== 0) return;
    part.mark[local] = 1;
    part.dirty[(part.dirtyHead + part.dirtyCount++) % part.dirty.length] = local;
    if (part.dirtyCount >= this.ctx.options.maxBatch) this.cut(part);
    else if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => this.flushAll(), this.ctx.options.flushMs);
      this.flushTimer.unref();
    }
  }

  private flushAll(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const part of this.ctx.parts) this.cut(part);
  }

  /** Entries waiting or in flight may hold this many; beyond it updates keep coalescing. */
  private get entryLimit(): number {
    return 4 * this.ctx.options.window;
  }

  /** Cuts the partition's coalesced updates into entries, oldest first, while the outbox has room; beyond it they keep coalescing. */
  private cut(part: Partition): void {
    const max = this.ctx.options.maxBatch;
    while (part.dirtyCount > 0 && part.entries.size < this.entryLimit) {
      const n = Math.min(max, part.dirtyCount);
      const locals = new Uint32Array(n);
      for (let k = 0; k < n; k++) locals[k] = part.dirtyAt(k);
      locals.sort(); // ascending, as compact entries store them
      const idx = new Uint32Array(n);
      const deltas = new BigUint64Array(n);
      let count = 0;
      for (const local of locals) {
        const d = part.pend[local]!;
        part.pend[local] = 0n;
        part.mark[local] = 0;
        if (d === 0n) continue; // updates that cancelled out
        idx[count] = local;
        deltas[count++] = d;
      }
      part.dirtyHead = (part.dirtyHead + n) % part.dirty.length;
      part.dirtyCount -= n;
      if (count === 0) continue;
      const counter = part.nextCounter++;
      const bytes = encodeLogEntry(this.ctx.group, part.index, this.ctx.origin, counter, counter, idx, deltas, count, this.ctx.options.entryEncoding);
      part.entries.set(counter, { counter, bytes, updates: count, acked: false });
    }
    this.pump(part);
    this.settleFlushes();
  }

  private pump(part: Partition): void {
    if (this.ctx.closed || part.paused) return;
    while (part.inflight < this.ctx.options.window && part.nextToSend < part.nextCounter) {
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
    const { writer, options } = this.ctx;
    const bytes = asBuffer(entry.bytes);
    const tag = this.ctx.auth ? [this.ctx.auth.tag('entry', bytes)] : [];
    const args = [
      part.keys.log,
      part.keys.heads,
      this.ctx.origin.toString(),
      (entry.counter - 1n).toString(),
      entry.counter.toString(),
      bytes,
      ...tag,
    ] as const;
    const wanted = options.waitReplicas;
    if (wanted === 0) {
      const [status, detail] = await writer.atomikPublish(...args);
      return [Number(status), String(detail)];
    }
    // One pipeline: the script and WAIT go to the node that owns the partition's slot, on one connection.
    type Queue = { atomikPublish(...a: typeof args): Queue; wait(n: number, ms: number): Queue; exec(): Promise<unknown> };
    const waitMs = replicaWaitMs(options);
    const replies = await (writer.pipeline() as unknown as Queue)
      .atomikPublish(...args)
      .wait(wanted, waitMs)
      .exec();
    const [[publishError, published], [waitError, reached]] = replies as [[Error | null, [number, Buffer | string]], [Error | null, number]];
    if (publishError) {
      // A pipeline is redirected only when all its commands are; WAIT has no
      // key, so after a failover the slot map is refreshed here, and the retry finds the new primary.
      if (/^(MOVED|ASK) /.test(publishError.message) && 'refreshSlotsCache' in writer) writer.refreshSlotsCache();
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
    const origin = this.ctx.origin;
    if (status === -1) {
      // Redis lacks batches before this one (it lost acknowledged writes, or an
      // earlier publish failed): send again from its head, if we still hold them.
      let head: bigint;
      try {
        head = storedCounter(detail, `${part.keys.heads}[${origin}]`);
      } catch (err) {
        return this.ctx.fail(err as ReplicationError);
      }
      for (let c = head + 1n; c < entry.counter; c++) {
        if (!part.entries.has(c)) {
          this.ctx.fail(
            new ReplicationError(
              'ERR_ATOMIK_LOG_LOST',
              `Redis lost batch ${c} of origin ${origin} on partition ${part.index} after acknowledging it, and it is no longer held here; replicas may disagree`,
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
      const stats = this.ctx.stats;
      stats.publishedEntries++;
      stats.publishedUpdates += entry.updates;
      stats.publishedBytes += entry.bytes.length;
    }
    // Entries leave the map once acknowledged and read back, so a missing one is acknowledged.
    while (part.ackedThrough + 1n < part.nextCounter) {
      const next = part.entries.get(part.ackedThrough + 1n);
      if (next && !next.acked) break;
      part.ackedThrough++;
    }
    if (entry.counter <= part.ownRead(origin)) part.entries.delete(entry.counter);
    this.cut(part);
  }

  private onPublishFailed(part: Partition, epoch: number, err: Error): void {
    if (epoch !== part.sendEpoch || this.ctx.closed) return;
    part.inflight--;
    this.ctx.stats.retries++;
    this.ctx.noteError(err);
    this.ctx.emit('retry', new ReplicationError('ERR_ATOMIK_PUBLISH_RETRY', `publishing to ${part.keys.log} failed, retrying: ${err.message}`, { cause: err }));
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
   * Own batches through `counter` are in the log's past: read back, or
   * trimmed before they could be (the log holds an origin's batches in
   * counter order, so every earlier one precedes this one). They leave the
   * outbox once acknowledged, which may make room for updates still
   * coalescing.
   */
  ownReadThrough(part: Partition, counter: bigint): void {
    const origin = this.ctx.origin;
    if (counter <= part.ownRead(origin)) return;
    part.record.set(origin, counter);
    for (const entry of part.entries.values()) if (entry.acked && entry.counter <= counter) part.entries.delete(entry.counter);
    if (part.dirtyCount > 0) this.cut(part);
  }

  /**
   * Publishes everything accumulated so far; resolves when Redis has
   * acknowledged it. Only updates made before the call are waited for, so a
   * flush settles however fast updates keep coming.
   */
  flush(): Promise<void> {
    this.flushAll();
    // Updates still coalescing (the outbox was full) are cut oldest first, so
    // they are all in the next ceil(pending / maxBatch) entries, whatever comes after.
    const max = BigInt(this.ctx.options.maxBatch);
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({
        targets: this.ctx.parts.map((p) => p.nextCounter - 1n + (BigInt(p.dirtyCount) + max - 1n) / max),
        resolve,
        reject,
      });
      this.settleFlushes();
    });
  }

  private settleFlushes(): void {
    if (this.flushWaiters.length === 0) return;
    const parts = this.ctx.parts;
    this.flushWaiters = this.flushWaiters.filter((w) => {
      // An entry whose updates all cancelled out takes no counter: once nothing coalesces, all that was cut is enough.
      const done = parts.every((p, k) => p.ackedThrough >= w.targets[k]! || (p.dirtyCount === 0 && p.ackedThrough >= p.nextCounter - 1n));
      if (done) w.resolve();
      return !done;
    });
  }

  /** Stops the timer and rejects every pending flush() with `err`. */
  close(err: Error): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const w of this.flushWaiters.splice(0)) w.reject(err);
  }
}
