// The fault scenarios: each starts replica processes on a private
// redis-server, applies its faults while they write, and heals them; the
// runner (nemesis.ts) then checks exactly-once and liveness. `small` is the
// scale npm test runs; `full` (npm run test:faults) runs longer with more
// faults.
import type { FaultProxy } from '../helpers/fault-proxy.js';
import type { NemesisWorker, Scale, Scenario, ScenarioContext } from './nemesis.js';

interface Knobs {
  /** Faults of each kind per scenario. */
  reps: number;
  /** Milliseconds of writing between faults. */
  phaseMs: number;
  /** Milliseconds a pause or partition lasts. */
  holdMs: number;
  /** Milliseconds between a writer's chunks of 50 updates (0 in the saturation soak). */
  paceMs: number;
}

const KNOBS: Record<Scale, Knobs> = {
  small: { reps: 1, phaseMs: 400, holdMs: 800, paceMs: 2 },
  full: { reps: 6, phaseMs: 3000, holdMs: 6000, paceMs: 1 },
};

const write = (w: NemesisWorker, k: Knobs, extra: Record<string, unknown> = {}) => w.call('write', { flushEvery: 200, paceMs: k.paceMs, ...extra });

/** Two writers straight to Redis and one through a proxy, all writing. */
async function trio(ctx: ScenarioContext, k: Knobs, proxyOptions = {}): Promise<{ p: FaultProxy; cut: NemesisWorker }> {
  const p = await ctx.proxy();
  const cut = await ctx.spawn('w-proxied', { proxy: p, options: proxyOptions });
  const others = [await ctx.spawn('w1'), await ctx.spawn('w2')];
  for (const w of [cut, ...others]) await write(w, k);
  await ctx.sleep(k.phaseMs);
  return { p, cut };
}

export function scenarios(scale: Scale): Scenario[] {
  const k = KNOBS[scale];
  const writerKill = (group: 'add' | 'xor', label: string, reps: number): Scenario => ({
    key: group === 'add' ? 'writer-kill' : 'writer-kill-xor',
    title: `${group} group: writer kill -9 mid-write, then restarted`,
    group,
    size: 512,
    async script(ctx) {
      await trio(ctx, k);
      for (let r = 0; r < reps; r++) {
        const start = Date.now();
        await ctx.live.find((w) => w.label === label)!.kill();
        await ctx.sleep(100);
        await write(await ctx.spawn(label), k);
        await ctx.settled(ctx.fault('kill -9', `writer ${label}, restarted`, start, Date.now()));
        await ctx.sleep(k.phaseMs);
      }
    },
  });
  return [
    writerKill('add', 'w2', k.reps),
    writerKill('xor', 'w1', 1),
    {
      key: 'redis-kill',
      title: 'redis-server kill -9 and restart (same port and directory, AOF, appendfsync always)',
      group: 'add',
      size: 512,
      async script(ctx) {
        await trio(ctx, k);
        for (let r = 0; r < k.reps; r++) {
          const start = Date.now();
          await ctx.server.stop('SIGKILL');
          await ctx.sleep(300);
          await ctx.server.restart();
          await ctx.settled(ctx.fault('kill -9', 'redis-server, restarted', start, Date.now()));
          await ctx.sleep(k.phaseMs);
        }
      },
    },
    {
      key: 'pause-delay',
      title: 'traffic between one writer and Redis held both ways, then slowed',
      group: 'add',
      size: 512,
      async script(ctx) {
        const { p } = await trio(ctx, k);
        for (let r = 0; r < k.reps; r++) {
          p.pause();
          await ctx.sleep(k.holdMs);
          p.resume();
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs);
        }
        p.setDelay(20);
        await ctx.sleep(k.holdMs);
        p.setDelay(0);
        await ctx.settled(p.faults.at(-1)!);
      },
    },
    {
      key: 'reset',
      title: 'every connection of one writer reset while it writes',
      group: 'add',
      size: 512,
      async script(ctx) {
        const { p } = await trio(ctx, k);
        for (let r = 0; r < 3 * k.reps; r++) {
          p.reset();
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs / 2);
        }
      },
    },
    {
      key: 'partition',
      title: 'one writer partitioned: connections held, then refused',
      group: 'add',
      size: 512,
      async script(ctx) {
        const { p } = await trio(ctx, k);
        for (let r = 0; r < k.reps; r++) {
          await p.partition(k.holdMs, 'hold');
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs);
          await p.partition(k.holdMs, 'refuse');
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs);
        }
      },
    },
    {
      key: 'lost-replies',
      title: "one writer's publishes reach Redis, their replies are lost and the connection cut",
      group: 'add',
      size: 512,
      async script(ctx) {
        const { p } = await trio(ctx, k);
        for (let r = 0; r < 3 * k.reps; r++) {
          const before = p.faults.length;
          p.armLoseReply(':heads'); // the publish script's key list
          const deadline = Date.now() + 5000;
          while (p.faults.length === before || p.faults.at(-1)!.heal === null) {
            if (Date.now() > deadline) throw new Error('no publish passed the proxy within 5 s');
            await ctx.sleep(10);
          }
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs / 2);
        }
      },
    },
    {
      key: 'trim-past-partitioned',
      title: 'the log trimmed past a writer cut off, its reads held, its replies held (snapshotBytes 16 KiB, keepSnapshots 1)',
      group: 'add',
      size: 512,
      options: { snapshotBytes: 16 * 1024, keepSnapshots: 1, maxBatch: 64 },
      async script(ctx) {
        const { p, cut } = await trio(ctx, k);
        for (let r = 0; r < k.reps; r++) {
          await p.partition(k.holdMs, 'hold');
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs);
          // It publishes, its reads wait: its own entries are trimmed before it reads them back.
          p.holdCommands('XREAD');
          await ctx.sleep(k.holdMs);
          p.resume();
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs);
          p.pause({ way: 'replies' });
          await ctx.sleep(k.holdMs);
          p.resume();
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs);
        }
        // The writer that was cut off takes the last snapshot: a fresh reader starts from it.
        await Promise.all(ctx.live.map((w) => w.call('stop')));
        await cut.call('snapshot');
      },
    },
    {
      key: 'writer-reads-lag',
      title: "a writer's reads held while it keeps publishing (window 1, maxBatch 1)",
      group: 'add',
      size: 512,
      async script(ctx) {
        const { p } = await trio(ctx, { ...k, paceMs: 20 }, { window: 1, maxBatch: 1 });
        for (let r = 0; r < k.reps; r++) {
          p.holdCommands('XREAD');
          await ctx.sleep(k.holdMs);
          p.resume();
          await ctx.settled(p.faults.at(-1)!);
          await ctx.sleep(k.phaseMs);
        }
      },
    },
    {
      key: 'saturation',
      title: 'saturation soak: three writers at full speed, a slow reader (20 ms each way), the log trimmed past it',
      group: 'add',
      size: 4096,
      options: { snapshotBytes: 64 * 1024, keepSnapshots: 1 },
      async script(ctx) {
        const p = await ctx.proxy();
        await ctx.spawn('slow-reader', { proxy: p, options: { readCount: 4 } });
        p.setDelay(20);
        const writers = [await ctx.spawn('w1'), await ctx.spawn('w2'), await ctx.spawn('w3')];
        for (const w of writers) await write(w, { ...k, paceMs: 0 }, { flushEvery: 1000 });
        await ctx.sleep(scale === 'small' ? 1500 : 60_000);
        await Promise.all(writers.map((w) => w.call('stop')));
        p.setDelay(0);
        await ctx.settled(p.faults.at(-1)!);
      },
    },
  ];
}

/**
 * Redis Cluster: three primaries with a replica each; the primary of
 * partition 0 is killed with SIGKILL mid-run, its replica takes over, and
 * the old primary comes back as a replica. `waitReplicas` 1 makes an
 * acknowledgement mean the entry reached a Redis replica (without it a
 * failover may lose acknowledged entries: run it with 0 to see them
 * reported).
 */
export function clusterFailover(scale: Scale, waitReplicas = 1): Scenario {
  const k = KNOBS[scale];
  return {
    key: waitReplicas > 0 ? 'cluster-failover' : 'cluster-failover-no-wait',
    title: `Redis Cluster: a primary killed with SIGKILL, its replica takes over (waitReplicas ${waitReplicas})`,
    group: 'add',
    size: 4096,
    cluster: { masters: 3, replicas: 1, nodeTimeoutMs: 1000 },
    options: { partitions: 6, waitReplicas, timeoutMs: 1000 },
    async script(ctx) {
      const cluster = ctx.cluster!;
      const writers = [await ctx.spawn('w1'), await ctx.spawn('w2')];
      for (const w of writers) await write(w, k);
      for (let r = 0; r < k.reps; r++) {
        await ctx.sleep(k.phaseMs);
        const key = `atomik:{${ctx.name}:0}:log`;
        const victim = await cluster.primaryOf(key);
        const start = Date.now();
        await victim.stop('SIGKILL');
        // While the failure is detected no node serves the slot as primary: ask again.
        const deadline = Date.now() + 30_000;
        for (;;) {
          const primary = await cluster.primaryOf(key).catch(() => null);
          if (primary && primary.port !== victim.port) break;
          if (Date.now() > deadline) throw new Error(`no replica took over from port ${victim.port} within 30 s`);
          await ctx.sleep(100);
        }
        await victim.restart(); // back as a replica of the new primary
        await cluster.waitHealthy();
        await ctx.settled(ctx.fault('kill -9', `primary of partition 0 (port ${victim.port}), failed over`, start, Date.now()));
      }
      await ctx.sleep(k.phaseMs);
    },
  };
}
