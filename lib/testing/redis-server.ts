// Starts a private redis-server (the Debian package's binary) on a free
// loopback port in a temporary directory: for tests, examples and
// benchmarks that need a real Redis without touching the system's.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** appendfsync policy (default 'always': every acknowledged write is on disk). */
  fsync?: 'always' | 'everysec' | 'no';
  /** Path of the redis-server binary (default: found on PATH). */
  binary?: string;
  /** Further redis-server arguments, e.g. ['--cluster-enabled', 'yes']. */
  args?: readonly string[];
  /** The port (default: a free one). */
  port?: number;
}

export interface LocalRedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Kills the server with `signal` (default SIGTERM: a clean shutdown) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (the append-only file is replayed). */
  restart(): Promise<void>;
  /** Stops it and deletes its directory. */
  dispose(): Promise<void>;
}

/** Why redis-server cannot be started here, or null when it can. */
export function redisServerMissing(binary = 'redis-server'): string | null {
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${binary} not installed (apt-get install redis-server)`;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.write('PING\r\n');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    s.once('error', () => resolve(false));
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<LocalRedisServer> {
  const binary = options.binary ?? 'redis-server';
  const why = redisServerMissing(binary);
  if (why) throw new Error(why);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'atomik-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    options.fsync ?? 'always',
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | null = null;

  const launch = async () => {
    const proc = spawn(binary, args, { stdio: 'ignore' });
    child = proc;
    const deadline = Date.now() + 10_000;
    while (!(await accepting(port))) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}; see ${join(dir, 'redis.log')}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not accept connections on port ${port} within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    restart: launch,
    async dispose() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
