// One partition of a replicated table: a contiguous range of the table with
// its own stream, and everything this replica knows about it: the local
// updates still coalescing, its own entries until they are both
// acknowledged and read back, the delivery record and the log position.
import type { AtomikTable } from '../table/table.js';
import { tableCore } from '../table/table.js';
import { arithmetic, type Group, type GroupArithmetic } from '../core/group.js';
import { logEntryColumns, type LogEntryColumns } from '../engine/log-entry.js';
import type { LogPosition } from '../table/snapshot.js';
import type { PartitionKeys } from './keys.js';

/**
 * An own entry kept until Redis acknowledged it and it was read back (its
 * counter is at or below the own delivery record): until then a snapshot
 * written here must leave it out and a snapshot reload must apply it again.
 */
export interface Entry {
  counter: bigint;
  bytes: Uint8Array;
  updates: number;
  acked: boolean;
}

interface Waiter {
  target: LogPosition;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class Partition {
  /** Views of the table's reference and accumulator words of this range. */
  readonly ref: BigUint64Array;
  readonly acc: BigUint64Array;
  /**
   * Local updates not cut into an entry yet: the combined delta per context,
   * a mark, and the marked contexts in the order they were first changed (a
   * ring, cut from its head, so the oldest go out first and a flush knows
   * which entries will hold what it waits for).
   */
  readonly pend: BigUint64Array;
  readonly mark: Uint8Array;
  readonly dirty: Uint32Array;
  dirtyHead = 0;
  dirtyCount = 0;
  private readonly math: GroupArithmetic;

  // Publishing. Own batches are numbered 1, 2, 3, ...
  readonly entries = new Map<bigint, Entry>();
  nextCounter = 1n;
  ackedThrough = 0n;
  nextToSend = 1n;
  inflight = 0;
  /** Bumped when sending starts again from an earlier counter: replies to the older sends are ignored. */
  sendEpoch = 0;
  backoffMs = 0;
  /** Sending waits out a backoff after a failed publish. */
  paused = false;
  /** Date.now() when the oldest unacknowledged entry was sent (0: none waiting). */
  waitingSince = 0;

  // Following. The delivery record: origin -> last batch counter applied (this replica's own: read back).
  record = new Map<bigint, bigint>();
  position: LogPosition = '0-0';
  trimSeen: string | null = null;
  gapAt: string | null = null;
  /**
   * After a snapshot reload that lacks own batches this replica had read
   * back already (and so no longer holds): they are applied when read again,
   * up to this counter.
   */
  ownReplayThrough = 0n;
  /** A gap was seen: reload the newest snapshot before reading on. */
  resyncDue = false;
  bytesSinceSnapshot = 0;
  readOkAt = Date.now();
  /** caughtUp() calls waiting for the position to reach theirs. */
  positionWaiters: Waiter[] = [];

  constructor(
    readonly index: number,
    readonly start: number,
    readonly size: number,
    readonly keys: PartitionKeys,
    table: AtomikTable,
    private readonly group: Group,
  ) {
    this.math = arithmetic(group);
    const core = tableCore(table);
    this.ref = core.ref.subarray(start, start + size);
    this.acc = core.acc.subarray(start, start + size);
    this.pend = new BigUint64Array(size);
    this.mark = new Uint8Array(size);
    this.dirty = new Uint32Array(Math.max(1, size));
  }

  /** The last own batch counter read back (or found in the log's past). */
  ownRead(origin: bigint): bigint {
    return this.record.get(origin) ?? 0n;
  }

  /**
   * `states` (this partition's, as the replica holds them) without its own
   * updates the log does not hold up to `position` yet: entries not read
   * back, and updates still coalescing. What a snapshot at `position` holds.
   */
  withoutOwnPending(states: BigUint64Array, origin: bigint): void {
    const math = this.math;
    const undo = (local: number, d: bigint) => math.accumulate(states, local, math.inverse(d));
    const ownRead = this.ownRead(origin);
    for (const entry of this.entries.values()) {
      if (entry.counter <= ownRead) continue; // in the log up to the position
      const { indices, deltas } = logEntryColumns(entry.bytes, this.group, this.index) as LogEntryColumns; // our own, valid
      for (let k = 0; k < indices.length; k++) undo(indices[k]!, deltas[k]!);
    }
    for (let k = 0; k < this.dirtyCount; k++) {
      const local = this.dirtyAt(k);
      undo(local, this.pend[local]!);
    }
  }

  /** After loading a snapshot that holds own batches through `ownThrough`: applies the rest of the own updates again. */
  reapplyOwnPending(table: AtomikTable, ownThrough: bigint): void {
    for (const entry of this.entries.values()) {
      if (entry.counter > ownThrough) table.engine.applyBatch(this.group, this.ref, this.acc, this.index, entry.bytes);
    }
    for (let k = 0; k < this.dirtyCount; k++) {
      const local = this.dirtyAt(k);
      this.math.accumulate(this.acc, local, this.pend[local]!);
    }
  }

  /** The k-th context still coalescing, oldest first. */
  dirtyAt(k: number): number {
    return this.dirty[(this.dirtyHead + k) % this.dirty.length]!;
  }

  /** Entries published and not acknowledged yet. */
  get unacknowledged(): number {
    return Number(this.nextCounter - 1n - this.ackedThrough);
  }
}
