// Writing a partition's snapshot: its states as the log holds them at this
// replica's position, with the delivery record, stored by one script that
// also keeps the newest few and trims the log behind the oldest kept.
import { encodeRecord, encodeSnapshot } from '../table/snapshot.js';
import { asBuffer, type ReplicaContext } from './context.js';
import type { Partition } from './partition.js';

/** How long a replica writing a snapshot holds the partition's lock (the others skip theirs meanwhile). */
const SNAPSHOT_LOCK_MS = 5000;

export class SnapshotWriter {
  constructor(private readonly ctx: ReplicaContext) {}

  /** Takes a snapshot after snapshotBytes of log, unless another replica is taking one now. */
  async maybe(part: Partition): Promise<void> {
    part.bytesSinceSnapshot = 0;
    const { writer } = this.ctx;
    const locked = await writer.set(part.keys.lock, this.ctx.origin.toString(), 'PX', SNAPSHOT_LOCK_MS, 'NX');
    if (locked === null) return;
    try {
      await this.write(part);
    } finally {
      await writer.del(part.keys.lock);
    }
  }

  /** Stores the partition as the log has it at part.position; false when a newer snapshot is stored already. */
  async write(part: Partition): Promise<boolean> {
    const { table, group, origin, options } = this.ctx;
    const states = new BigUint64Array(part.size);
    table.engine.states(group, part.ref, part.acc, states);
    part.withoutOwnPending(states, origin);
    const record = new Map(part.record);
    const blob = encodeSnapshot({ group, partition: part.index, partitions: this.ctx.parts.length, position: part.position, record, states });
    const stored = await this.ctx.writer.atomikSnapshot(
      part.keys.ids,
      part.keys.blobs,
      part.keys.records,
      part.keys.trim,
      part.keys.log,
      part.position,
      asBuffer(blob),
      asBuffer(encodeRecord(record)),
      options.keepSnapshots,
    );
    if (stored === 1) this.ctx.stats.snapshots++;
    return stored === 1;
  }
}
