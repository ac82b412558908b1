// Writing a partition's snapshot: its states as the log holds them at this
// replica's position, with the delivery record, stored by one script that
// also keeps the newest few and trims the log behind the oldest kept.
import { decodeRecord, encodeRecord, encodeSnapshot } from '../table/snapshot.js';
import { storedRetirement } from './keys.js';
import { asBuffer, type ReplicaContext } from './context.js';
import type { Partition } from './partition.js';

/** How long a replica writing a snapshot holds the partition's lock (the others skip theirs meanwhile). */
const SNAPSHOT_LOCK_MS = 5000;
/** How long a retired origin is remembered at least, for snapshot writers that still hold it in their records. */
const RETIRED_KEEP_S = 3600;

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
    // States, record and position are taken together, before anything is awaited: reads go on meanwhile.
    const record = new Map(part.record);
    const position = part.position;
    // Origins that publish no more are left out of the snapshot once it holds all of their batches:
    // nothing of theirs is after this position, so no reader starting here needs to know them.
    // Retired ones are in `retired`; once forgotten there, they are in neither hash. (Read after the
    // record was taken: an origin in it has published, so it is in `heads` unless it was retired.)
    const [retired, heads] = await Promise.all([this.ctx.writer.hgetall(part.keys.retired), this.ctx.writer.hgetall(part.keys.heads)]);
    for (const [id, last] of record) {
      if (id === origin || id.toString() in heads) continue;
      const text = retired[id.toString()];
      if (text === undefined || storedRetirement(text, `${part.keys.retired}[${id}]`).last === last) record.delete(id);
    }
    const blob = encodeSnapshot({ group, partition: part.index, partitions: this.ctx.parts.length, position, record, states });
    const stored = await this.ctx.writer.atomikSnapshot(
      part.keys.ids,
      part.keys.blobs,
      part.keys.records,
      part.keys.trim,
      part.keys.log,
      position,
      this.ctx.auth ? Buffer.concat([blob, this.ctx.auth.tag('snapshot', blob)]) : asBuffer(blob),
      asBuffer(encodeRecord(record)),
      options.keepSnapshots,
    );
    if (stored !== 1) return false;
    this.ctx.stats.snapshots++;
    await this.forgetRetired(part, retired);
    return true;
  }

  /**
   * A retired origin that no kept snapshot records, retired over an hour ago
   * (live replicas that still held it have written their snapshots since),
   * is forgotten: its batches are trimmed.
   */
  private async forgetRetired(part: Partition, retired: Record<string, string>): Promise<void> {
    const now = Date.now() / 1000;
    const old = Object.entries(retired)
      .filter(([origin, text]) => now - storedRetirement(text, `${part.keys.retired}[${origin}]`).at > RETIRED_KEEP_S)
      .map(([origin]) => origin);
    if (old.length === 0) return;
    const recorded = new Set<string>();
    for (const blob of Object.values(await this.ctx.writer.hgetallBuffer(part.keys.records))) {
      if (blob.length % 16 === 0) for (const origin of decodeRecord(blob).keys()) recorded.add(origin.toString());
    }
    const gone = old.filter((origin) => !recorded.has(origin));
    if (gone.length > 0) await this.ctx.writer.hdel(part.keys.retired, ...gone);
  }
}
