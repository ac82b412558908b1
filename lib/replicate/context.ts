// What the parts of a replica (publisher, follower, snapshot writer) share
// of it: the table, the options, the connection for commands, its identity
// and its ways to report.
import type { AtomikTable } from '../table/table.js';
import type { Group } from '../core/group.js';
import type { ReplicationError } from '../core/errors.js';
import type { Connection } from './connection.js';
import type { ReplicaStats, ResolvedOptions } from './options.js';
import type { Partition } from './partition.js';

export interface ReplicaContext {
  readonly table: AtomikTable;
  readonly group: Group;
  readonly options: ResolvedOptions;
  readonly stats: ReplicaStats;
  readonly parts: readonly Partition[];
  /** Set once connected. */
  readonly writer: Connection;
  /** This replica's origin id, taken at start. */
  readonly origin: bigint;
  readonly closed: boolean;
  readonly failure: ReplicationError | null;
  emit(event: string, ...args: unknown[]): boolean;
  /** Stops the replica for good: rejects what waits, emits 'error', closes. */
  fail(err: ReplicationError): void;
  /** Remembers an error that is being retried, for `replica.health`. */
  noteError(err: Error): void;
}

/** ioredis sends Buffers as bytes but stringifies other views. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
