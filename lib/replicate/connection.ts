// The replica's connections to Redis: one for commands and one per
// partition for blocking reads, made from what the caller handed over (a
// URL, ioredis options, an ioredis client, a Cluster client or a list of
// cluster nodes). Every connection gives up on a silent socket after a
// bounded time and reconnects, so no command waits forever on a dead peer.
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { describe } from '../core/validate.js';
import { AtomikTypeError, ReplicationError } from '../core/errors.js';
import { guardSocket, type ReplyLimits } from './reply-guard.js';
import { CLAIM_ORIGIN_SCRIPT, NEWEST_SNAPSHOT_SCRIPT, PUBLISH_SCRIPT, RETIRE_SCRIPT, SNAPSHOT_SCRIPT, TRIM_POINT_SCRIPT } from './scripts.js';

/** What `replicate({ redis })` accepts. */
export type RedisTarget = string | RedisOptions | Redis | Cluster | readonly (string | ClusterNode)[];

/** A connection: one server or a whole cluster, with the replica's scripts defined. */
export type Connection = (Redis | Cluster) & {
  atomikPublish(log: string, heads: string, origin: string, prev: string, last: string, entry: Buffer, ...tag: Buffer[]): Promise<[number, Buffer | string]>;
  atomikSnapshot(
    ids: string,
    blobs: string,
    records: string,
    trim: string,
    log: string,
    position: string,
    blob: Buffer,
    record: Buffer,
    keep: number,
  ): Promise<number>;
  atomikRetire(heads: string, retired: string, origin: string): Promise<string | null>;
  atomikNewestSnapshotBuffer(ids: string, blobs: string): Promise<[Buffer, Buffer | null] | null>;
  atomikClaimOrigin(origins: string, heartbeats: string, beat: string): Promise<string>;
  atomikTrimPointBuffer(trim: string, records: string, seen: string): Promise<[Buffer, (Buffer | null)?] | null>;
};

/** Where blocking reads of the log go: the primary, or a Redis replica (see ReplicateOptions.readFrom). */
export type ReadFrom = 'primary' | 'replica';

export interface ConnectionSettings {
  /** A command with no answer for this long drops the connection; it is sent again after the reconnect. */
  timeoutMs: number;
  /** Blocking reads wait this long on the server, so their sockets may be silent for as long. */
  blockMs: number;
  connectTimeoutMs: number;
  /** The largest reply a connection accepts (a server that announces more is cut off). */
  replyLimits: ReplyLimits;
  /** Told of every connection's errors (they are retried; this is for reporting). */
  onError?: (err: Error) => void;
}

/** Makes connections of one kind; `role` decides how long a socket may stay silent. */
export type Connector = (role: 'commands' | 'reads') => Connection;

function isCluster(value: object): value is Cluster {
  return typeof (value as { nodes?: unknown }).nodes === 'function' && 'slots' in value;
}

function isClient(value: object): value is Redis {
  return typeof (value as { duplicate?: unknown }).duplicate === 'function' && typeof (value as { sendCommand?: unknown }).sendCommand === 'function';
}

export function checkTarget(target: unknown): RedisTarget {
  if (typeof target === 'string' || Array.isArray(target) || (typeof target === 'object' && target !== null)) return target;
  throw new AtomikTypeError(
    'ERR_ATOMIK_INVALID_ARG_TYPE',
    `options.redis must be a redis:// URL, ioredis options, an ioredis client or Cluster, or a list of cluster nodes, got ${describe(target)}`,
  );
}

/** Whether the target is a Redis Cluster (commands are routed by slot). */
export function targetIsCluster(target: RedisTarget): boolean {
  return Array.isArray(target) || (typeof target === 'object' && target !== null && !Array.isArray(target) && isCluster(target));
}

/**
 * Makes the replica's connections to `target`. A single node that turns
 * out to be part of a Redis Cluster (INFO says cluster_enabled:1) is used
 * as the cluster's entry point, so its keys reach the nodes that own them.
 */
export async function connector(target: RedisTarget, times: ConnectionSettings, readFrom: ReadFrom = 'primary'): Promise<Connector> {
  const io = await import('ioredis');
  if (!targetIsCluster(target)) {
    const probe = makeConnector(target, {}, times, io)('commands') as Redis;
    let lastError: Error | null = null;
    probe.on('error', (err: Error) => (lastError = err));
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = `no answer to INFO within ${times.connectTimeoutMs} ms`;
        reject(new Error(lastError ? `${why}; last error: ${lastError.message}` : why));
      }, times.connectTimeoutMs);
    });
    try {
      if (/^cluster_enabled:1\b/m.test(await Promise.race([probe.info('cluster'), silent]))) {
        const { host = '127.0.0.1', port = 6379, username, password, tls, db: _db, ...unused } = probe.options;
        void unused;
        return makeConnector([{ host, port }], { redisOptions: { username, password, tls } }, times, io, readFrom);
      }
      if (readFrom === 'replica') {
        // One primary: its first online replica (INFO replication) serves the blocking reads.
        const info = await Promise.race([probe.info('replication'), silent]);
        const found = /^slave\d+:ip=([^,\s]+),port=(\d+),state=online/m.exec(info);
        if (!found) {
          throw new ReplicationError('ERR_ATOMIK_CONNECT', "options.readFrom is 'replica', but the Redis server has no online replica (INFO replication)");
        }
        const { host: _h, port: _p, path: _path, ...shared } = probe.options;
        const reads = makeConnector({ ...shared, host: found[1]!, port: Number(found[2]) }, {}, times, io);
        const commands = makeConnector(target, {}, times, io);
        return (role) => (role === 'reads' ? reads(role) : commands(role));
      }
    } finally {
      clearTimeout(timer);
      probe.disconnect();
    }
  }
  return makeConnector(target, {}, times, io, readFrom);
}

function makeConnector(
  target: RedisTarget,
  clusterBase: ClusterOptions,
  times: ConnectionSettings,
  io: { Redis: typeof Redis; Cluster: typeof Cluster },
  readFrom: ReadFrom = 'primary',
): Connector {
  const socketTimeout = (role: 'commands' | 'reads') => (role === 'reads' ? times.blockMs + times.timeoutMs : times.timeoutMs);
  // Never give up on a command: a publish waits for Redis to come back, and is retried with the same identity.
  const nodeOptions = (role: 'commands' | 'reads'): RedisOptions => ({
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    lazyConnect: false,
    connectTimeout: times.connectTimeoutMs,
    socketTimeout: socketTimeout(role),
  });
  const clusterOptions = (role: 'commands' | 'reads', base: ClusterOptions): ClusterOptions => ({
    ...base,
    enableOfflineQueue: true,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 32,
    clusterRetryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
    // Read-only commands of the reading connections (XREAD) go to the slot's replicas; scripts always go to its primary.
    scaleReads: role === 'reads' && readFrom === 'replica' ? 'slave' : 'master',
    redisOptions: { ...base.redisOptions, ...nodeOptions(role) },
  });
  let make: (role: 'commands' | 'reads') => Redis | Cluster;
  if (Array.isArray(target)) {
    const nodes = [...(target as (string | ClusterNode)[])];
    make = (role) => new io.Cluster(nodes, clusterOptions(role, clusterBase));
  } else if (typeof target === 'string') {
    make = (role) => new io.Redis(target, nodeOptions(role));
  } else if (isCluster(target)) {
    make = (role) => target.duplicate([], clusterOptions(role, target.options));
  } else if (isClient(target)) {
    make = (role) => target.duplicate(nodeOptions(role));
  } else {
    const options = target as RedisOptions;
    make = (role) => new io.Redis({ ...options, ...nodeOptions(role) });
  }
  return (role) => {
    const conn = make(role) as Connection;
    conn.defineCommand('atomikPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
    conn.defineCommand('atomikSnapshot', { numberOfKeys: 5, lua: SNAPSHOT_SCRIPT });
    conn.defineCommand('atomikRetire', { numberOfKeys: 2, lua: RETIRE_SCRIPT });
    conn.defineCommand('atomikNewestSnapshot', { numberOfKeys: 2, lua: NEWEST_SNAPSHOT_SCRIPT });
    conn.defineCommand('atomikClaimOrigin', { numberOfKeys: 2, lua: CLAIM_ORIGIN_SCRIPT });
    conn.defineCommand('atomikTrimPoint', { numberOfKeys: 2, lua: TRIM_POINT_SCRIPT });
    conn.on('error', times.onError ?? (() => {})); // reconnects are ioredis's job; failures reach the commands
    guardReplies(conn, times.replyLimits);
    return conn;
  };
}

/** Bounds what every socket of `conn` (each node's, for a cluster) may receive, on every reconnect. */
function guardReplies(conn: Redis | Cluster, limits: ReplyLimits): void {
  const watch = (node: Redis) => node.on('connect', () => guardSocket(node.stream, limits));
  if (isCluster(conn)) conn.on('+node', watch);
  else watch(conn);
}
