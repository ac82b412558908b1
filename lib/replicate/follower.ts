// Following the log: one blocking read loop per partition that applies
// every other replica's entries exactly once, recognises its own, notices
// when the log was trimmed past it and reloads the newest snapshot then,
// and wakes caughtUp() calls as its position moves.
import { ENTRY_STATUS, ENTRY_STATUS_TEXT, logEntryColumns, readLogEntryHeader } from '../engine/log-entry.js';
import { comparePositions, decodeRecord, decodeSnapshot, type LogPosition } from '../table/snapshot.js';
import { ReplicationError } from '../core/errors.js';
import { badState, storedPosition, storedRetirement } from './keys.js';
import { asBuffer, type ReplicaContext } from './context.js';
import type { Connection } from './connection.js';
import type { Partition } from './partition.js';
import type { Publisher } from './publisher.js';
import type { SnapshotWriter } from './snapshot-writer.js';
import { TAG_BYTES } from './auth.js';

/** How long a read blocks on the server when the log has nothing new. */
export const BLOCK_MS = 1000;

export class Follower {
  private loops: Promise<void>[] = [];
  /** Settles at close(): a command on a connection being torn down may never answer, and no loop waits for it then. */
  private readonly closing: Promise<null>;
  private stop!: () => void;

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly publisher: Publisher,
    private readonly snapshots: SnapshotWriter,
  ) {
    this.closing = new Promise((resolve) => (this.stop = () => resolve(null)));
  }

  /** `promise`, or null once the replica is closing. */
  private unlessClosed<T>(promise: Promise<T>): Promise<T | null> {
    return Promise.race([promise, this.closing]);
  }

  /** Starts one read loop per partition, each on its own connection. */
  start(readers: readonly Connection[]): void {
    this.loops = this.ctx.parts.map((part) => this.readLoop(part, readers[part.index]!));
  }

  /** Resolves when every loop has ended (after close). */
  stopped(): Promise<unknown> {
    return Promise.allSettled(this.loops);
  }

  private async readLoop(part: Partition, reader: Connection): Promise<void> {
    const ctx = this.ctx;
    while (!ctx.closed) {
      type ReadReply = [Buffer, [Buffer, Buffer[]][]][] | null;
      let result: ReadReply;
      try {
        result = await this.unlessClosed(reader.xreadBuffer('COUNT', ctx.options.readCount, 'BLOCK', BLOCK_MS, 'STREAMS', part.keys.log, part.position));
      } catch (err) {
        if (ctx.closed) return;
        ctx.noteError(err as Error);
        await new Promise((r) => setTimeout(r, 100).unref());
        continue;
      }
      if (ctx.closed) return;
      part.readOkAt = Date.now();
      if (result) {
        for (const [, entries] of result) {
          for (const [id, fields] of entries) {
            if (!this.onEntry(part, id.toString(), fields)) break;
          }
        }
      }
      try {
        await this.unlessClosed(this.checkTrim(part, reader));
        if (ctx.closed) return;
        // Only now: entries read past a trim do not make a replica caught up until the trim check had its say.
        this.positionMoved(part);
        if (part.bytesSinceSnapshot >= ctx.options.snapshotBytes) await this.unlessClosed(this.snapshots.maybe(part));
      } catch (err) {
        if (ctx.closed) return;
        if (err instanceof ReplicationError) return ctx.fail(err);
        ctx.noteError(err as Error);
      }
    }
  }

  /** Applies one log entry; false when the partition must resynchronise first. */
  private onEntry(part: Partition, id: string, fields: Buffer[]): boolean {
    const { ctx } = this;
    const skip = (why: string) => {
      ctx.stats.skipped++;
      ctx.emit('skipped', new ReplicationError('ERR_ATOMIK_BAD_BATCH', `log entry ${id} of ${part.keys.log} skipped: ${why}`), id);
      part.position = id;
      return true;
    };
    // Fields: d (the entry), and t (its tag) on an authenticated table.
    const data = fields.length >= 2 && fields[0]!.toString() === 'd' ? fields[1]! : null;
    const tagged = fields.length === 4 && fields[2]!.toString() === 't';
    if (data && ctx.auth && !(tagged && ctx.auth.verify('entry', data, fields[3]!))) return skip("it is not authenticated with this table's key");
    const header = data && (fields.length === 2 || tagged) ? readLogEntryHeader(data) : ENTRY_STATUS.format;
    if (typeof header === 'number') return skip(ENTRY_STATUS_TEXT[header]!);
    if (header.partition !== part.index) return skip(`it belongs to partition ${header.partition}`);
    part.bytesSinceSnapshot += data!.length;
    if (header.first > header.last || header.first === 0n) return skip('its counter range is empty');
    // The common case, a peer's next batch, is checked whole by applyBatch
    // itself; every other decision (own, duplicate, gap) is taken only on an
    // entry that passed the same checks.
    const next = header.origin !== ctx.origin && header.first === (part.record.get(header.origin) ?? 0n) + 1n;
    if (!next) {
      const status = this.entryStatus(part, data!);
      if (status !== ENTRY_STATUS.ok) return skip(ENTRY_STATUS_TEXT[status] ?? `status ${status}`);
    }
    if (header.origin === ctx.origin) {
      if (header.last <= part.ownRead(ctx.origin)) {
        ctx.stats.duplicates++;
        part.position = id;
        return true;
      }
      // Own updates are in the local state already; an entry under this
      // origin that is not byte for byte one this replica published is forged.
      const own = part.entries.get(header.first);
      if (!own && header.last <= part.ownReplayThrough && header.first === part.ownRead(ctx.origin) + 1n) {
        // Read back before a reload whose snapshot lacks it: the state lacks it too.
        const status = ctx.table.engine.applyBatch(ctx.group, part.ref, part.acc, part.index, data!);
        if (status !== ENTRY_STATUS.ok) return skip(ENTRY_STATUS_TEXT[status] ?? `status ${status}`);
      } else if (!own || header.last !== header.first || Buffer.compare(asBuffer(own.bytes), asBuffer(data!)) !== 0) {
        return skip("it carries this replica's origin but is not an entry it published");
      }
      part.position = id;
      this.publisher.ownReadThrough(part, header.last);
      return true;
    }
    const seen = part.record.get(header.origin) ?? 0n;
    if (header.last <= seen) {
      ctx.stats.duplicates++;
      part.position = id;
      return true;
    }
    if (header.first !== seen + 1n) {
      if (header.first <= seen) return skip(`its counters ${header.first}..${header.last} overlap ones already applied (through ${seen})`);
      // Batches of this origin are missing before this one: the log was trimmed
      // past this replica. A snapshot covers them; if the same gap shows again
      // after loading it, the log itself lacks them.
      if (part.gapAt === id) {
        ctx.fail(
          new ReplicationError(
            'ERR_ATOMIK_GAP',
            `${part.keys.log} lacks batches ${seen + 1n}..${header.first - 1n} of origin ${header.origin} before entry ${id}, and no snapshot covers them`,
          ),
        );
        return false;
      }
      part.gapAt = id;
      part.resyncDue = true;
      ctx.emit('resync', { partition: part.index, reason: `origin ${header.origin} jumps from ${seen} to ${header.first}` });
      return false;
    }
    const status = ctx.table.engine.applyBatch(ctx.group, part.ref, part.acc, part.index, data!);
    if (status !== ENTRY_STATUS.ok) return skip(ENTRY_STATUS_TEXT[status] ?? `status ${status}`);
    part.record.set(header.origin, header.last);
    part.position = id;
    ctx.stats.appliedEntries++;
    ctx.stats.appliedUpdates += header.count;
    return true;
  }

  /** Every check applyBatch makes (header, length, checksum, group, partition, index range), without applying. */
  private entryStatus(part: Partition, data: Uint8Array): number {
    const columns = logEntryColumns(data, this.ctx.group, part.index);
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
      // The trim point and its record in one read: apart, a newer snapshot could replace the record in between.
      const found = await reader.atomikTrimPointBuffer(part.keys.trim, part.keys.records, part.trimSeen ?? '');
      if (found === null || found.length === 1) return;
      const [stored, record] = found;
      const trim = storedPosition(stored.toString(), part.keys.trim);
      if (comparePositions(part.position, trim) < 0) behind = true;
      else {
        if (!record) throw badState(`${part.keys.records} lacks the record of the trim point ${trim}`);
        if (record.length % 16 !== 0) throw badState(`${part.keys.records}[${trim}] is ${record.length} bytes, not a delivery record`);
        const trimRecord = decodeRecord(record);
        for (const [origin, counter] of trimRecord) {
          if ((part.record.get(origin) ?? 0n) >= counter) continue;
          if (origin !== this.ctx.origin) behind = true;
          else this.publisher.ownReadThrough(part, counter);
        }
        if (!behind) await this.forgetRetired(part, reader, trimRecord);
      }
      part.trimSeen = trim;
    }
    if (behind) {
      this.ctx.stats.resyncs++;
      await this.loadNewestSnapshot(part, false);
    }
  }

  /**
   * Origins retired whose batches this replica holds whole leave its record,
   * as they leave stored snapshots: a long-lived replica keeps only the
   * origins that may still publish. An origin missing from the new trim
   * point's record is retired and dropped there, or new since the trim.
   */
  private async forgetRetired(part: Partition, reader: Connection, trimRecord: Map<bigint, bigint>): Promise<void> {
    const candidates = [...part.record.keys()].filter((origin) => origin !== this.ctx.origin && !trimRecord.has(origin));
    if (candidates.length === 0) return;
    const retired = await reader.hmget(part.keys.retired, ...candidates.map(String));
    candidates.forEach((origin, k) => {
      const text = retired[k];
      if (text != null && storedRetirement(text, `${part.keys.retired}[${origin}]`).last === part.record.get(origin)) part.record.delete(origin);
    });
  }

  /**
   * Replaces the partition's state by the newest snapshot, then re-applies
   * this replica's own updates that the snapshot does not contain yet.
   */
  async loadNewestSnapshot(part: Partition, initial: boolean): Promise<void> {
    const { ctx } = this;
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await ctx.writer.atomikNewestSnapshotBuffer(part.keys.ids, part.keys.blobs);
      const newest = found === null ? undefined : storedPosition(found[0].toString(), part.keys.ids);
      if (newest === undefined) {
        if (!initial) throw new ReplicationError('ERR_ATOMIK_GAP', `${part.keys.log} misses entries and holds no snapshot to recover from`);
        part.ref.fill(0n);
        part.acc.fill(0n);
        return;
      }
      const blob = found![1];
      if (blob === null) continue; // listed, but its blob is missing: another writer is between its two steps
      let snap;
      try {
        if (ctx.auth && !(blob.length >= TAG_BYTES && ctx.auth.verify('snapshot', blob.subarray(0, -TAG_BYTES), blob.subarray(-TAG_BYTES)))) {
          throw new Error("it is not authenticated with this table's key");
        }
        snap = decodeSnapshot(ctx.auth ? blob.subarray(0, -TAG_BYTES) : blob);
      } catch (err) {
        throw new ReplicationError('ERR_ATOMIK_BAD_SNAPSHOT', `snapshot ${newest} of ${part.keys.log} is unreadable: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const partitions = ctx.parts.length;
      if (snap.group !== ctx.group || snap.states.length !== part.size || snap.partition !== part.index || snap.partitions !== partitions) {
        throw new ReplicationError(
          'ERR_ATOMIK_LAYOUT_MISMATCH',
          `snapshot ${newest} of ${part.keys.log} is for group '${snap.group}', partition ${snap.partition} of ${snap.partitions}, ${snap.states.length} contexts; this replica has '${ctx.group}', partition ${part.index} of ${partitions}, ${part.size}`,
        );
      }
      part.ref.set(snap.states);
      part.acc.fill(0n);
      const ownThrough = snap.record.get(ctx.origin) ?? 0n;
      part.reapplyOwnPending(ctx.table, ownThrough);
      // Own batches read back here (and let go) that the snapshot does not hold come again after its position.
      const ownRead = part.ownRead(ctx.origin);
      if (ownRead > ownThrough && ownRead > part.ownReplayThrough) part.ownReplayThrough = ownRead;
      part.record = snap.record;
      part.record.delete(ctx.origin);
      this.publisher.ownReadThrough(part, ownThrough);
      part.position = snap.position;
      part.bytesSinceSnapshot = 0;
      this.positionMoved(part);
      if (!initial) ctx.emit('resync', { partition: part.index, reason: `loaded snapshot ${newest}` });
      return;
    }
    throw new ReplicationError('ERR_ATOMIK_GAP', `could not read a stable snapshot of ${part.keys.log}`);
  }

  /** Resolves when the partition's position reaches `target`. */
  waitForPosition(part: Partition, target: LogPosition): Promise<void> {
    if (this.ctx.failure) return Promise.reject(this.ctx.failure);
    if (comparePositions(part.position, target) >= 0) return Promise.resolve();
    if (this.ctx.closed) return Promise.reject(new ReplicationError('ERR_ATOMIK_REPLICA_CLOSED', 'the replica is closed'));
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
  async logEnd(part: Partition): Promise<LogPosition> {
    const [[, last], [, trim]] = (await this.ctx.writer.multi().xrevrange(part.keys.log, '+', '-', 'COUNT', 1).get(part.keys.trim).exec()) as [
      [null, [string, string[]][]],
      [null, string | null],
    ];
    const end = last[0]?.[0] ?? '0-0';
    if (trim === null) return end;
    const trimmed = storedPosition(trim, part.keys.trim);
    return comparePositions(trimmed, end) > 0 ? trimmed : end;
  }

  /** Rejects every waiting caughtUp() with `err`. */
  close(err: Error): void {
    this.stop();
    for (const part of this.ctx.parts) for (const w of part.positionWaiters.splice(0)) w.reject(err);
  }
}
