// Runs a fault scenario: a private redis-server (appendfsync always),
// replica processes (test/fixtures/nemesis-worker.mjs) that write and log,
// fault proxies between some of them and Redis, faults applied and healed
// by the scenario, then every replica and a fresh reader compared with the
// writers' logs (checker.ts). Liveness is checked throughout: a flush(),
// caughtUp() or close() that does not settle within a bound after the last
// heal is a failure of the scenario.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReplicateOptions } from '../../lib/index.js';
import { startRedisCluster, startRedisServer, type LocalRedisCluster, type LocalRedisServer, type RedisClusterOptions } from '../../lib/testing/index.js';
import { startFaultProxy, type FaultProxy, type FaultRecord } from '../helpers/fault-proxy.js';
import { check, readRunLog, type CheckResult, type WriterRun } from './checker.js';
import { Violation } from './known-failures.js';

/** 'small' runs inside npm test (seconds per scenario); 'full' is npm run test:faults (minutes). */
export type Scale = 'small' | 'full';

export function faultScale(): Scale {
  const v = process.env.ATOMIK_FAULTS_SCALE ?? 'small';
  if (v !== 'small' && v !== 'full') throw new Error(`ATOMIK_FAULTS_SCALE must be 'small' or 'full', got '${v}'`);
  return v;
}

type Reply = Record<string, unknown>;

/** A replica answered a command with an error: it stopped on a failure (e.g. ERR_ATOMIK_GAP). */
export class ReplicaFailed extends Error {
  override name = 'ReplicaFailed';
  constructor(
    readonly label: string,
    message: string,
  ) {
    super(message);
  }
}
type WorkerOptions = Omit<ReplicateOptions, 'redis' | 'name'>;

export interface NemesisWorker {
  readonly label: string;
  readonly seed: number;
  readonly origin: string;
  /** Sends a command; resolves with its reply, rejects with a Violation if it does not settle within boundMs. */
  call(cmd: string, args?: Reply, boundMs?: number): Promise<Reply>;
  /** Replica events seen ('retry', 'resync', 'skipped', 'error', and 'write-failed' from the worker). */
  readonly events: { event: string; code?: string; message?: string }[];
  /** Why the process exited when nobody killed it, else null. */
  readonly died: string | null;
  kill(): Promise<void>;
  readonly alive: boolean;
}

export interface SpawnOptions {
  /** Connect through this proxy instead of straight to Redis. */
  proxy?: FaultProxy;
  options?: WorkerOptions;
  plant?: 'ack-early' | 'apply-twice';
}

/** What a scenario's script works with. */
export interface ScenarioContext {
  readonly scale: Scale;
  /** The redis-server (for a cluster scenario: its first node). */
  readonly server: LocalRedisServer;
  /** The cluster of a scenario that asked for one, else null. */
  readonly cluster: LocalRedisCluster | null;
  readonly name: string;
  /** Starts a replica process (a new run: its own seed and log). */
  spawn(label: string, options?: SpawnOptions): Promise<NemesisWorker>;
  proxy(): Promise<FaultProxy>;
  /** Records a fault not made by a proxy (a killed process). */
  fault(kind: string, detail: string, start: number, heal: number): FaultRecord;
  /**
   * After a fault healed: every live replica's flush() and caughtUp() must
   * settle within the liveness bound; records how long that took.
   */
  settled(fault: FaultRecord): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Replicas whose process is alive. */
  readonly live: NemesisWorker[];
}

export interface Scenario {
  /** Its key in KNOWN_FAILURES, and the name in the printed table. */
  key: string;
  title: string;
  group: 'add' | 'xor';
  size: number;
  /** Options for every replica (a spawn may add its own). */
  options?: WorkerOptions;
  /** Run on a Redis Cluster started for the scenario instead of one redis-server; the replicas get its node list. */
  cluster?: RedisClusterOptions;
  /** Starts the replicas, writes, applies the faults and heals them. */
  script(ctx: ScenarioContext): Promise<void>;
}

export interface ScenarioResult extends CheckResult {
  key: string;
  title: string;
  faults: { kind: string; detail: string; healMs: number | null }[];
  liveness: string[];
  /** Replicas that stopped on an error, and the error (they are left out of the comparison). */
  failures: string[];
  events: Record<string, number>;
  seconds: number;
}

const workerPath = fileURLToPath(new URL('../fixtures/nemesis-worker.mjs', import.meta.url));
/** How long a flush(), caughtUp() or close() may take after the last heal (ATOMIK_FAULTS_BOUND_MS, or 10 s small, 30 s full). */
export const LIVENESS_BOUND_MS = Number(process.env.ATOMIK_FAULTS_BOUND_MS ?? (faultScale() === 'small' ? 10_000 : 30_000));

function startWorker(cfg: Reply, label: string, seed: number): Promise<NemesisWorker> {
  const proc: ChildProcess = spawn(process.execPath, [workerPath, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const events: { event: string; code?: string; message?: string }[] = [];
  let killed = false;
  let died: string | null = null;
  const pending = new Map<number, (r: Reply) => void>();
  let ids = 0;
  let alive = true;
  const exited = new Promise<void>((r) =>
    proc.once('exit', (code, signal) => {
      alive = false;
      if (!killed && code !== 0) died = `replica ${label} exited (${signal ?? code}): ${stderr.split('\n')[0]}`;
      r();
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Violation(`liveness: replica ${label} did not start within ${LIVENESS_BOUND_MS} ms; ${stderr}`)),
      LIVENESS_BOUND_MS,
    );
    // A replica that cannot start (e.g. ERR_ATOMIK_GAP while catching up) is a failure of the scenario.
    void exited.then(() => reject(new ReplicaFailed(label, `replica ${label} could not start: ${stderr.split('\n')[0]}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Reply;
      if (msg.ready) {
        clearTimeout(timer);
        resolve(worker(String(msg.origin)));
      } else if (typeof msg.event === 'string') events.push({ event: msg.event, code: msg.code as string | undefined });
      else if (typeof msg.id === 'number') pending.get(msg.id)?.(msg);
    });
  });

  function worker(origin: string): NemesisWorker {
    return {
      label,
      seed,
      origin,
      events,
      get alive() {
        return alive;
      },
      get died() {
        return died;
      },
      call(cmd, args = {}, boundMs = LIVENESS_BOUND_MS) {
        if (!alive) return Promise.reject(new Error(`replica ${label} is not running`));
        const id = ids++;
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new Violation(`liveness: ${cmd}() of replica ${label} did not settle within ${boundMs} ms`));
          }, boundMs);
          pending.set(id, (reply) => {
            clearTimeout(timer);
            pending.delete(id);
            if (typeof reply.error === 'string')
              reject(new ReplicaFailed(label, `${cmd}() of replica ${label} failed: ${reply.error}: ${String(reply.message)}`));
            else resolve(reply);
          });
          void exited.then(() => {
            if (pending.delete(id)) {
              clearTimeout(timer);
              reject(new Error(`replica ${label} exited during ${cmd}(): ${stderr}`));
            }
          });
          proc.stdin!.write(JSON.stringify({ ...args, cmd, id }) + '\n');
        });
      },
      async kill() {
        killed = true;
        proc.kill('SIGKILL');
        await exited;
      },
    };
  }
}

/** Runs one scenario and checks it; never throws for a failed check (the result says), only for a broken harness. */
export async function runScenario(scenario: Scenario, scale: Scale = faultScale()): Promise<ScenarioResult> {
  const began = Date.now();
  const cluster = scenario.cluster ? await startRedisCluster(scenario.cluster) : null;
  const server = cluster ? cluster.nodes[0]! : await startRedisServer({ fsync: 'always' });
  const target = cluster ? cluster.startupNodes : server.url;
  const dir = mkdtempSync(join(tmpdir(), 'atomik-faults-'));
  const name = `faults-${scenario.key}`;
  const workers: NemesisWorker[] = [];
  const runs: (WriterRun & { log: string })[] = [];
  const proxies: FaultProxy[] = [];
  const extraFaults: FaultRecord[] = [];
  const healMs = new Map<FaultRecord, number | null>();
  const liveness: string[] = [];
  const failures: string[] = [];
  const failed = new Set<string>();
  const stuck = new Set<string>();
  let seeds = 0;
  const usable = () => workers.filter((w) => w.alive && !failed.has(w.label));
  /** Records a command's failure; rethrows what is not a replica's failure or a hang. */
  const note = (w: NemesisWorker, err: unknown, after = '') => {
    if (err instanceof ReplicaFailed) {
      failed.add(w.label);
      failures.push(err.message);
    } else if (err instanceof Violation) liveness.push(`${err.message}${after}`);
    else throw err;
  };

  const settleAll = async (fault: FaultRecord | null, what: string[]) => {
    const heal = fault?.heal ?? Date.now();
    // A replica already reported hung gets a short bound: its failure is on record.
    const bound = (w: NemesisWorker) => (stuck.has(w.label) ? 2000 : Math.max(1000, heal + LIVENESS_BOUND_MS - Date.now()));
    const after = fault ? ` after the ${fault.kind} (${fault.detail}) healed` : '';
    let hung = false;
    await Promise.all(
      usable().flatMap((w) =>
        what.map((cmd) =>
          w.call(cmd, {}, bound(w)).catch((err: unknown) => {
            if (err instanceof Violation) {
              hung = true;
              stuck.add(w.label);
            }
            note(w, err, after);
          }),
        ),
      ),
    );
    if (fault) healMs.set(fault, hung ? null : Date.now() - heal);
  };

  const ctx: ScenarioContext = {
    scale,
    server,
    cluster,
    name,
    async spawn(label, o = {}) {
      const seed = seeds++;
      const log = join(dir, `${label}-${seed}.log`);
      const cfg = {
        url: o.proxy?.url ?? target,
        name,
        group: scenario.group,
        size: scenario.size,
        seed,
        log,
        options: { ...scenario.options, ...o.options },
        plant: o.plant,
      };
      const w = await startWorker(cfg, label, seed);
      workers.push(w);
      runs.push({ label, seed, issued: 0, acked: 0, log });
      return w;
    },
    async proxy() {
      const p = await startFaultProxy(server.port);
      proxies.push(p);
      return p;
    },
    fault(kind, detail, start, heal) {
      const record = { kind, detail, start, heal } as FaultRecord;
      extraFaults.push(record);
      return record;
    },
    settled: (fault) => settleAll(fault, ['flush', 'caughtUp']),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    get live() {
      return workers.filter((w) => w.alive);
    },
  };

  try {
    try {
      await scenario.script(ctx);
    } catch (err) {
      // A replica that stopped on an error fails the scenario; the others are still checked.
      if (!(err instanceof ReplicaFailed)) throw err;
      failed.add(err.label);
      failures.push(err.message);
    }
    // Every fault has healed: stop writing, then flush and catch up everywhere.
    for (const p of proxies) p.resume();
    await Promise.all(usable().map((w) => w.call('stop').catch((err: unknown) => note(w, err))));
    await settleAll(null, ['flush']);
    await settleAll(null, ['caughtUp']);
    // A fresh reader that cannot start (e.g. ERR_ATOMIK_GAP: the snapshots and the log disagree) fails the scenario.
    const reader = await ctx.spawn('fresh-reader').catch((err: unknown) => {
      if (!(err instanceof ReplicaFailed)) throw err;
      failures.push(err.message);
      return null;
    });
    await reader?.call('caughtUp').catch((err: unknown) => note(reader, err));
    const replicas: { label: string; states: bigint[] }[] = [];
    for (const w of usable()) {
      const d = await w.call('dump').catch((err: unknown) => note(w, err));
      if (d) replicas.push({ label: w.label, states: (d.states as string[]).map(BigInt) });
    }
    await Promise.all(usable().map((w) => w.call('close').catch((err: unknown) => note(w, err))));
    for (const run of runs) Object.assign(run, readRunLog(run.log));
    const result = check({ group: scenario.group, size: scenario.size, runs, replicas });
    // A replica that stopped on an error, or whose process died, fails the scenario.
    for (const w of workers) {
      if (w.died) failures.push(w.died);
      for (const e of w.events) if (e.event === 'error' || e.event === 'write-failed') failures.push(`replica ${w.label}, ${e.event}: ${e.code}: ${e.message}`);
    }
    const events: Record<string, number> = {};
    for (const w of workers) for (const e of w.events) events[e.event] = (events[e.event] ?? 0) + 1;
    const faults = [...proxies.flatMap((p) => p.faults), ...extraFaults]
      .sort((a, b) => a.start - b.start)
      .map((f) => ({ kind: f.kind, detail: f.detail, healMs: healMs.get(f) ?? null }));
    return { key: scenario.key, title: scenario.title, ...result, faults, liveness, failures, events, seconds: (Date.now() - began) / 1000 };
  } finally {
    await Promise.allSettled(workers.map((w) => w.kill()));
    await Promise.allSettled(proxies.map((p) => p.close()));
    await (cluster ?? server).dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws a Violation naming every exactly-once or liveness failure in the result. */
export function expectExactlyOnce(r: ScenarioResult): void {
  const wrong: string[] = [];
  if (r.lost > 0) wrong.push(`${r.lost} acknowledged updates lost`);
  if (r.doubled > 0) wrong.push(`${r.doubled} doubled`);
  if (r.unexplained > 0) wrong.push(`${r.unexplained} contexts unexplained`);
  if (!r.agree) wrong.push('the replicas disagree');
  wrong.push(...r.liveness, ...r.failures);
  if (wrong.length > 0) throw new Violation(`${r.title}: ${wrong.join('; ')} (of ${r.acknowledged} acknowledged)`);
}

/** The scenario's figures as lines of a table. */
export function formatResult(r: ScenarioResult): string {
  const lines = [
    `${r.key}: ${r.title} (${r.seconds.toFixed(1)} s)`,
    `  acknowledged ${r.acknowledged}, issued ${r.issued}; lost ${r.lost}, doubled ${r.doubled}, unexplained contexts ${r.unexplained}; replicas agree: ${r.agree ? 'yes' : 'no'}`,
  ];
  for (const v of r.replicas) {
    const diffs = Object.entries(v.differsFrom)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(`  ${v.label}: lost ${v.lost}, doubled ${v.doubled}, unexplained ${v.unexplained}; contexts differing from ${diffs || '-'}`);
  }
  for (const f of r.faults) lines.push(`  fault ${f.kind} (${f.detail}): ${f.healMs === null ? 'not measured' : `settled ${f.healMs} ms after the heal`}`);
  const ev = Object.entries(r.events)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  if (ev) lines.push(`  events: ${ev}`);
  for (const l of r.liveness) lines.push(`  LIVENESS: ${l}`);
  for (const f of r.failures) lines.push(`  REPLICA FAILED: ${f}`);
  return lines.join('\n');
}
