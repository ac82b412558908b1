// Real redis-server for the replication tests, and processes running a
// replica (test/fixtures/replica-worker.mjs) that the tests talk to.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { redisServerMissing, startRedisServer, type LocalRedisServer, type RedisServerOptions } from '../../lib/testing/index.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { update } from '../fixtures/replica-worker.mjs';

/**
 * Why the replication tests cannot run here (null when they can). With
 * ATOMIK_REQUIRE_REDIS=1 (CI) a missing redis-server is an error instead.
 */
export function redisSkipReason(): string | null {
  const why = redisServerMissing();
  if (why && process.env.ATOMIK_REQUIRE_REDIS === '1') throw new Error(`ATOMIK_REQUIRE_REDIS=1 but ${why}`);
  return why;
}

export interface WorkerConfig {
  url: string;
  name: string;
  group: 'xor' | 'add';
  size: number;
  seed: number;
  count: number;
  flushEvery: number;
  partitions?: number;
  snapshotBytes?: number;
  flushMs?: number;
}

export interface Worker {
  proc: ChildProcess;
  /** Resolves with the first message (parsed JSON line) for which `pick` is true. */
  waitFor(pick: (msg: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  messages: Record<string, unknown>[];
  send(line: string): void;
  exited: Promise<number | null>;
}

const workerPath = fileURLToPath(new URL('../fixtures/replica-worker.mjs', import.meta.url));

export function startWorker(cfg: WorkerConfig): Worker {
  const proc = spawn(process.execPath, [workerPath, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: Record<string, unknown>[] = [];
  const waiters: { pick: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>;
    messages.push(msg);
    for (const w of waiters.splice(0)) {
      if (w.pick(msg)) w.resolve(msg);
      else waiters.push(w);
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    messages,
    exited,
    send: (line) => proc.stdin.write(line + '\n'),
    waitFor(pick, timeoutMs = 30_000) {
      const seen = messages.find(pick);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker ${cfg.seed}: no matching message within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        void exited.then((code) => {
          if (code !== null && code !== 0) reject(new Error(`worker ${cfg.seed} exited with ${code}: ${stderr}`));
        });
        waiters.push({
          pick,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

/** Asks a worker for its states after catching up; returns them as bigints. */
export async function dump(worker: Worker): Promise<bigint[]> {
  worker.send('dump');
  const msg = await worker.waitFor((m) => 'states' in m);
  return (msg.states as string[]).map(BigInt);
}

/**
 * A TCP proxy in front of Redis that fails like a network (see
 * fault-proxy.ts): `armLoseReply(marker)` loses the reply of the next
 * command containing `marker` and cuts the connection; `pause()` holds
 * Redis's replies (a partitioned replica) until `resume()`.
 */
export interface RedisProxy extends Omit<FaultProxy, 'pause'> {
  /** Holds Redis's replies (the commands still reach it) until resume(). */
  pause(): void;
  /**
   * Holds the traffic, both ways, of connections that send `marker` (e.g.
   * 'XREAD': a replica's readers) from that command on, until resume().
   */
  pauseWhere(marker: string): void;
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const proxy = await startFaultProxy(redisPort);
  return Object.assign(Object.create(proxy) as FaultProxy, {
    pause: () => proxy.pause({ way: 'replies' }),
    pauseWhere: (marker: string) => proxy.holdCommands(marker, { replies: true }),
  });
}

/**
 * A redis-server for one test file: started before its tests (unless
 * redis-server is missing: see redisSkipReason) and stopped after, with an
 * admin client. Read `server` and `admin` inside tests.
 */
export function useRedisServer(options: RedisServerOptions = {}): { readonly server: LocalRedisServer; readonly admin: Redis } {
  const skip = redisSkipReason();
  let server: LocalRedisServer | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    if (skip) return;
    server = await startRedisServer(options);
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });
  return {
    get server() {
      return server!;
    },
    get admin() {
      return admin!;
    },
  };
}

/** Applies updates from..from+count-1 of the 'add' sequence `seed` (test/fixtures/replica-worker.mjs) through `replica`. */
export function play(replica: { accum(i: number, d: bigint): void }, size: number, seed: number, from: number, count: number): void {
  for (let j = from; j < from + count; j++) {
    const [i, d] = update('add', seed, j, size);
    replica.accum(i, d);
  }
}

/** Runs `run` on a connection of its own to the redis-server (or cluster node) at `port`. */
export async function onNode<T>(port: number, run: (conn: Redis) => Promise<T>): Promise<T> {
  const conn = new Redis(port, '127.0.0.1');
  try {
    return await run(conn);
  } finally {
    conn.disconnect();
  }
}

/** XREAD calls the server at `port` has answered since its counters were reset (CONFIG RESETSTAT). */
export async function xreadCalls(port: number): Promise<number> {
  const stats = await onNode(port, (conn) => conn.info('commandstats'));
  return Number(/^cmdstat_xread:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}
