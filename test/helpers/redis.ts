// Real redis-server for the replication tests, and processes running a
// replica (test/fixtures/replica-worker.mjs) that the tests talk to.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { redisServerMissing } from '../../lib/testing/index.js';

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
 * A TCP proxy in front of Redis that fails like a network. After
 * `armLoseReply(marker)`, the next client chunk containing `marker` is
 * delivered to Redis, Redis's answer is thrown away, and the connection is
 * cut. `pause()` holds Redis's answers back (a partitioned replica) until
 * `resume()`.
 */
export interface RedisProxy {
  url: string;
  armLoseReply(marker: string): void;
  pause(): void;
  /**
   * Holds the traffic, both ways, of connections that send `marker` (any
   * case; e.g. 'XREAD': a replica's readers) from that command on.
   */
  pauseWhere(marker: string): void;
  resume(): void;
  /** Connections cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  let armed: string | null = null;
  let cuts = 0;
  let paused = false;
  let pausedMarker: string | null = null;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let losing = false;
    let marked = false;
    client.on('data', (chunk) => {
      if (pausedMarker && (marked || chunk.toString('latin1').toLowerCase().includes(pausedMarker))) {
        marked = true;
        held.push(() => upstream.write(chunk));
        return;
      }
      marked = false;
      upstream.write(chunk);
      if (armed && chunk.includes(armed)) {
        armed = null;
        losing = true;
        // Let Redis run the command, then cut both sides without its reply.
        setTimeout(() => {
          cuts++;
          client.destroy();
          upstream.destroy();
        }, 100);
      }
    });
    upstream.on('data', (chunk) => {
      if (losing) return;
      if (paused || (marked && pausedMarker)) held.push(() => client.write(chunk));
      else client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    armLoseReply: (marker) => (armed = marker),
    pause: () => (paused = true),
    pauseWhere: (marker) => (pausedMarker = marker.toLowerCase()),
    resume: () => {
      paused = false;
      pausedMarker = null;
      for (const send of held.splice(0)) send();
    },
    get cuts() {
      return cuts;
    },
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
