// Starts a private Redis Cluster on loopback: one redis-server per node in
// cluster mode, joined by `redis-cli --cluster create`, for tests and
// benchmarks of replicated tables on a cluster (failover included).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { startRedisServer, type LocalRedisServer } from './redis-server.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Primaries (default 3); the slots are spread evenly over them. */
  masters?: number;
  /** Replicas per primary (default 1). */
  replicas?: number;
  /** cluster-node-timeout: how long a silent primary has before its replica takes over (default 1000 ms). */
  nodeTimeoutMs?: number;
}

export interface LocalRedisCluster {
  /** Every node, primaries first as created (a failover changes which is which: see primaryOf()). */
  readonly nodes: LocalRedisServer[];
  /** The nodes as { host, port }, for an ioredis Cluster or replicate({ redis }). */
  readonly startupNodes: { host: string; port: number }[];
  /** The node serving `key`'s slot as primary now. */
  primaryOf(key: string): Promise<LocalRedisServer>;
  /** Resolves when every live node reports cluster_state:ok and every replica's link to its primary is up. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await free(port)) && (await free(port + 10000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 });
  return stdout;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const nodeTimeout = options.nodeTimeoutMs ?? 1000;
  const nodes: LocalRedisServer[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((n) => n.dispose()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await clusterPort();
      nodes.push(
        await startRedisServer({
          port,
          // No diskless-sync delay: a replica's first sync starts at once, not 5 s later.
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(nodeTimeout),
            '--repl-diskless-sync-delay',
            '0',
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 60_000 });
  } catch (err) {
    await dispose();
    throw err;
  }
  const live = async () => {
    const up: LocalRedisServer[] = [];
    for (const n of nodes)
      if (
        await cli(n.port, 'PING').then(
          (r) => r.trim() === 'PONG',
          () => false,
        )
      )
        up.push(n);
    return up;
  };
  const cluster: LocalRedisCluster = {
    nodes,
    startupNodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    async primaryOf(key) {
      const [asked] = await live();
      if (!asked) throw new Error('no node of the cluster is up');
      const slot = Number(await cli(asked.port, 'CLUSTER', 'KEYSLOT', key));
      // CLUSTER NODES: id address flags primary ping pong epoch link slot-ranges...
      for (const line of (await cli(asked.port, 'CLUSTER', 'NODES')).split('\n')) {
        const fields = line.split(' ');
        if (!fields[2]?.split(',').includes('master') || fields[2].includes('fail')) continue;
        const port = Number(fields[1]!.split('@')[0]!.split(':')[1]);
        for (const range of fields.slice(8)) {
          const [lo, hi = lo] = range.split('-').map(Number);
          const found = nodes.find((n) => n.port === port);
          if (found && slot >= lo! && slot <= hi!) return found;
        }
      }
      throw new Error(`no primary serves ${key} (slot ${slot})`);
    },
    async waitHealthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const up = await live();
        const states = await Promise.all(up.map((n) => cli(n.port, 'CLUSTER', 'INFO').catch(() => '')));
        // A replica whose link to its primary is down holds nothing yet, and could not take over without losing writes.
        const links = await Promise.all(up.map((n) => cli(n.port, 'INFO', 'replication').catch(() => '')));
        const synced = links.every((r) => !r.includes('role:slave') || r.includes('master_link_status:up'));
        if (up.length > 0 && synced && states.every((s) => s.includes('cluster_state:ok'))) return;
        if (Date.now() > deadline) throw new Error(`the cluster did not become healthy within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    dispose,
  };
  await cluster.waitHealthy();
  return cluster;
}
