// What a replicated table looks like in Redis, for operators: per partition
// the stream's length, span and memory, the stored snapshots and their age,
// the trim point and the origins that published; per live replica its
// heartbeat, health and how far behind the end of each stream it is.
// `atomik-node inspect --redis URL --name NAME` prints it.
import { comparePositions } from '../table/snapshot.js';
import { ReplicationError } from '../core/errors.js';
import { checkTarget, connector, type RedisTarget } from './connection.js';
import { ANY_TABLE_LIMITS } from './reply-guard.js';
import { partitionKeys, storedPosition, tableKeys } from './keys.js';
import { parseHeartbeat, type Heartbeat } from './heartbeat.js';

export interface PartitionReport {
  partition: number;
  /** Entries in the stream now. */
  entries: number;
  firstId: string | null;
  lastId: string | null;
  /** MEMORY USAGE of the stream, in bytes. */
  streamBytes: number;
  trimmedThrough: string | null;
  snapshots: { position: string; ageMs: number; bytes: number }[];
  /** Origins that appended to this partition (the publish script's heads). */
  origins: number;
}

export interface ReplicaReport {
  origin: string;
  /** How long ago its last heartbeat was written. */
  seenMsAgo: number;
  health: string;
  unacknowledged: number;
  /**
   * Per partition, how much log time the replica had still to read when it
   * last wrote its heartbeat: the newest entry's time minus its position's
   * (stream ids carry the append time in ms). 0 when it was at the end.
   */
  behindMs: number[];
  stats: Heartbeat['stats'];
}

export interface TableReport {
  name: string;
  prefix: string;
  /** The stored layout (group, contexts, partitions, format), or null when the table does not exist. */
  layout: string | null;
  /** The last origin id handed out: how many replica starts the table has seen. */
  originsHandedOut: string | null;
  partitions: PartitionReport[];
  replicas: ReplicaReport[];
}

/** Reads a replicated table's keys (read-only) and reports them. */
export async function inspectTable(redis: RedisTarget, name: string, options: { prefix?: string; timeoutMs?: number } = {}): Promise<TableReport> {
  const prefix = options.prefix ?? 'atomik';
  const timeoutMs = options.timeoutMs ?? 5000;
  const connect = await connector(checkTarget(redis), { timeoutMs, blockMs: 0, connectTimeoutMs: timeoutMs, replyLimits: ANY_TABLE_LIMITS });
  const conn = connect('commands');
  try {
    const keys = tableKeys(prefix, name);
    const [layout, handedOut, beats] = await Promise.all([conn.get(keys.layout), conn.get(keys.origins), conn.hgetall(keys.replicas)]);
    const count = Number(/partitions=(\d+)/.exec(layout ?? '')?.[1] ?? 0);
    const now = Date.now();
    const partitions: PartitionReport[] = [];
    for (let p = 0; p < count; p++) {
      const k = partitionKeys(prefix, name, p);
      const [length, first, last, bytes, trim, ids, heads] = await Promise.all([
        conn.xlen(k.log),
        conn.xrange(k.log, '-', '+', 'COUNT', 1),
        conn.xrevrange(k.log, '+', '-', 'COUNT', 1),
        conn.memory('USAGE', k.log),
        conn.get(k.trim),
        conn.lrange(k.ids, 0, -1),
        conn.hlen(k.heads),
      ]);
      const snapshots = [];
      for (const id of ids) {
        const position = storedPosition(id, k.ids);
        snapshots.push({ position, ageMs: now - Number(position.split('-')[0]), bytes: Number(await conn.hstrlen(k.blobs, position)) });
      }
      partitions.push({
        partition: p,
        entries: length,
        firstId: first[0]?.[0] ?? null,
        lastId: last[0]?.[0] ?? null,
        streamBytes: Number(bytes ?? 0),
        trimmedThrough: trim,
        snapshots,
        origins: heads,
      });
    }
    const replicas: ReplicaReport[] = [];
    for (const [origin, text] of Object.entries(beats)) {
      const beat = parseHeartbeat(text);
      if (!beat) continue;
      const behindMs = partitions.map((part) => {
        const at = beat.positions[part.partition] ?? '0-0';
        if (part.lastId === null || !/^\d+-\d+$/.test(at) || comparePositions(at, part.lastId) >= 0) return 0;
        return Number(part.lastId.split('-')[0]) - Number(at.split('-')[0]);
      });
      replicas.push({ origin, seenMsAgo: now - beat.at, health: beat.health, unacknowledged: beat.unacknowledged, behindMs, stats: beat.stats });
    }
    replicas.sort((a, b) => a.seenMsAgo - b.seenMsAgo);
    return { name, prefix, layout, originsHandedOut: handedOut, partitions, replicas };
  } catch (err) {
    if (err instanceof ReplicationError) throw err;
    throw new ReplicationError('ERR_ATOMIK_CONNECT', `inspecting '${name}' failed: ${(err as Error).message}`, { cause: err });
  } finally {
    conn.disconnect();
  }
}

const kib = (n: number) => (n < 10 * 1024 ? `${n} B` : `${(n / 1024).toFixed(0)} KiB`);
const age = (ms: number) => (ms < 2000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 60_000).toFixed(0)} min`);

/** The report as text for a terminal. */
export function formatReport(r: TableReport): string {
  if (r.layout === null) return `no replicated table '${r.name}' under prefix '${r.prefix}'\n`;
  const out = [`table ${r.name} (prefix ${r.prefix}): ${r.layout}; ${r.originsHandedOut ?? 0} replica starts`];
  for (const p of r.partitions) {
    const snaps = p.snapshots.map((s) => `${s.position} (${age(s.ageMs)} old, ${kib(s.bytes)})`).join(', ') || 'none';
    out.push(
      `partition ${p.partition}: ${p.entries} entries, ${kib(p.streamBytes)}, ${p.firstId ?? '-'} .. ${p.lastId ?? '-'}; trimmed through ${p.trimmedThrough ?? '-'}; ${p.origins} origins; snapshots: ${snaps}`,
    );
  }
  if (r.replicas.length === 0) out.push('no replica has written a heartbeat');
  for (const x of r.replicas) {
    out.push(
      `replica ${x.origin}: ${x.health}, seen ${age(x.seenMsAgo)} ago, ${x.unacknowledged} unacknowledged, behind by ${x.behindMs.map(age).join('/')} of log; published ${x.stats.publishedUpdates}, applied ${x.stats.appliedUpdates}, skipped ${x.stats.skipped}, resyncs ${x.stats.resyncs}, retries ${x.stats.retries}`,
    );
  }
  return out.join('\n') + '\n';
}
