// A replica's figures in the Prometheus text exposition format (version
// 0.0.4): counters for what it published, applied, skipped and retried, and
// gauges for its health and the entries waiting on Redis.
import type { ReplicaHealth, ReplicaStats } from './options.js';

const COUNTERS: [keyof ReplicaStats, string, string][] = [
  ['localUpdates', 'atomik_replica_local_updates_total', 'Updates made through this replica.'],
  ['publishedEntries', 'atomik_replica_published_entries_total', 'Log entries this replica appended.'],
  ['publishedUpdates', 'atomik_replica_published_updates_total', 'Coalesced updates in the entries it appended.'],
  ['publishedBytes', 'atomik_replica_published_bytes_total', 'Bytes of the entries it appended.'],
  ['appliedEntries', 'atomik_replica_applied_entries_total', "Other replicas' entries applied here."],
  ['appliedUpdates', 'atomik_replica_applied_updates_total', "Updates in other replicas' entries applied here."],
  ['duplicates', 'atomik_replica_duplicate_entries_total', 'Entries read again and not applied.'],
  ['skipped', 'atomik_replica_skipped_entries_total', 'Foreign, damaged or forged entries never applied.'],
  ['resyncs', 'atomik_replica_resyncs_total', 'Snapshot reloads after the log was trimmed past this replica.'],
  ['snapshots', 'atomik_replica_snapshots_total', 'Snapshots this replica stored.'],
  ['retries', 'atomik_replica_publish_retries_total', 'Publishes retried with the same batch identity.'],
];

const STATES: ReplicaHealth['state'][] = ['ok', 'stalled', 'failed', 'closed'];

function labelText(labels: Record<string, string>, extra: Record<string, string> = {}): string {
  const all = { ...labels, ...extra };
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${Object.entries(all)
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(',')}}`;
}

export function prometheusText(labels: Record<string, string>, stats: ReplicaStats, health: ReplicaHealth): string {
  const lines: string[] = [];
  const l = labelText(labels);
  for (const [key, name, help] of COUNTERS) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}${l} ${stats[key]}`);
  lines.push(
    '# HELP atomik_replica_unacknowledged_entries Entries sent to Redis and not acknowledged yet.',
    '# TYPE atomik_replica_unacknowledged_entries gauge',
    `atomik_replica_unacknowledged_entries${l} ${health.unacknowledged}`,
    '# HELP atomik_replica_origins Origins held in the delivery records (retired ones leave at the next snapshot).',
    '# TYPE atomik_replica_origins gauge',
    `atomik_replica_origins${l} ${health.origins}`,
    '# HELP atomik_replica_health 1 for the state the replica is in, 0 for the others.',
    '# TYPE atomik_replica_health gauge',
  );
  for (const state of STATES) lines.push(`atomik_replica_health${labelText(labels, { state })} ${state === health.state ? 1 : 0}`);
  return lines.join('\n') + '\n';
}
