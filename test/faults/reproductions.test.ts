// The smallest deterministic reproductions of the replication faults found
// by the nemesis runs, each through the public API, a real redis-server and
// the fault proxy holding one replica's reads. They assert the correct
// outcome; the ones listed in known-failures.ts fail today.
import { afterAll } from 'vitest';
import { AtomikTable, replicate, type Replica } from '../../lib/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { redisSkipReason, useRedisServer } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';
import { exact, itScenario, settlesWithin } from './known-failures.js';

const skip = redisSkipReason();
// Registered first, so its afterAll (stopping the server) runs after the one below.
const redis = useRedisServer({ fsync: 'always' });
let names = 0;
const fresh = (what: string) => `${what}-${process.pid}-${names++}`;
const open: { replicas: Replica[]; proxies: FaultProxy[] } = { replicas: [], proxies: [] };

afterAll(async () => {
  await Promise.allSettled(open.replicas.map((r) => r.close()));
  await Promise.allSettled(open.proxies.map((p) => p.close()));
});

async function start(size: number, options: Omit<Parameters<typeof replicate>[1], 'redis'> & { redis: string }): Promise<[AtomikTable, Replica]> {
  const table = new AtomikTable(size, { group: 'add' });
  const replica = await replicate(table, options);
  open.replicas.push(replica);
  return [table, replica];
}

async function proxy(): Promise<FaultProxy> {
  const p = await startFaultProxy(redis.server.port);
  open.proxies.push(p);
  return p;
}

/** Holds the next command containing `text` before Redis; resolves once one is held (the connection's previous command has returned). */
async function holdUntilHeld(p: FaultProxy, text: string): Promise<void> {
  p.holdCommands(text);
  const deadline = Date.now() + 5000;
  while (p.heldConnections === 0) {
    if (Date.now() > deadline) throw new Error(`no ${text} reached the proxy within 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Holds a replica's next XREAD before Redis. */
const holdReads = (p: FaultProxy) => holdUntilHeld(p, 'XREAD');

/**
 * A replica (behind the proxy, its reads held) that the log is trimmed past:
 * X publishes five +1 on context 0 and snapshots (trimming them away), Y
 * then publishes one +1 on context 1, the only entry left. Returns the
 * lagging table, its replica's caughtUp() (asked before its reads go on)
 * and Y.
 */
async function trimPastHeldReplica(name: string, p: FaultProxy) {
  const [lag, rl] = await start(4, { redis: p.url, name, keepSnapshots: 1 });
  await holdReads(p); // its next read waits in the proxy
  const [, x] = await start(4, { redis: redis.server.url, name, keepSnapshots: 1 });
  for (let k = 0; k < 5; k++) {
    x.accum(0, 1n);
    await x.flush();
  }
  await x.caughtUp();
  await x.snapshot();
  const [, y] = await start(4, { redis: redis.server.url, name, keepSnapshots: 1 });
  y.accum(1, 1n);
  await y.flush();
  const caughtUp = rl.caughtUp();
  await new Promise((r) => setTimeout(r, 500)); // its log-end query is answered
  return { lag, caughtUp, y };
}

describeUnless(skip, 'reproductions of replication faults (real redis-server, fault proxy)', () => {
  itScenario(
    'trimmed-own-entries',
    'own entries trimmed from the log before their writer read them back: a fresh replica holds all 10 acknowledged updates',
    async () => {
      const name = fresh('trimmed-own');
      const p = await proxy();
      const [w, rw] = await start(4, { redis: p.url, name, keepSnapshots: 1 });
      const [a, ra] = await start(4, { redis: redis.server.url, name, keepSnapshots: 1 });
      // W publishes but reads nothing back: its next XREAD waits in the
      // proxy (the one at Redis now times out empty within its 1 s block).
      await holdReads(p);
      for (let k = 0; k < 8; k++) {
        rw.accum(0, 1n);
        await rw.flush();
      }
      await ra.caughtUp();
      await ra.snapshot(); // trims the log past W's 8 entries, which W has not read
      exact(Number(await redis.admin.xlen(`atomik:{${name}:0}:log`)), 0, 'log entries after the trim');
      for (let k = 0; k < 2; k++) {
        rw.accum(0, 1n);
        await rw.flush();
      }
      p.resume();
      await settlesWithin(rw.caughtUp(), 10_000, "W's caughtUp() after its reads were released");
      await rw.snapshot();
      await settlesWithin(ra.caughtUp(), 10_000, "A's caughtUp()");
      const [late] = await start(4, { redis: redis.server.url, name, keepSnapshots: 1 });
      exact({ writer: w.read(0), peer: a.read(0), fresh: late.read(0) }, { writer: 10n, peer: 10n, fresh: 10n }, 'context 0 after 10 acknowledged +1 updates');
    },
    60_000,
  );

  itScenario(
    'flush-stalls-behind-reads',
    'a writer whose reads lag behind its acknowledgements (window 1, maxBatch 1): flush() settles once the reads are released',
    async () => {
      const name = fresh('flush-stall');
      const p = await proxy();
      const [, rw] = await start(16, { redis: p.url, name, window: 1, maxBatch: 1 });
      await holdReads(p);
      for (let k = 0; k < 10; k++) rw.accum(k, BigInt(k + 1));
      const flushed = rw.flush();
      flushed.catch(() => {}); // rejected by close() at the end if it never settles
      // The outbox holds 4 x window entries not read back: 4 are published, the rest wait for the reads.
      const deadline = Date.now() + 10_000;
      while (Number(await redis.admin.xlen(`atomik:{${name}:0}:log`)) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      exact(Number(await redis.admin.xlen(`atomik:{${name}:0}:log`)), 4, 'entries published while the reads are held');
      p.resume();
      await settlesWithin(rw.caughtUp(), 10_000, "the writer's caughtUp() after its reads were released");
      await settlesWithin(flushed, 10_000, 'flush() of 10 updates after the reads were released');
      exact(Number(await redis.admin.xlen(`atomik:{${name}:0}:log`)), 10, 'entries in the log after the flush');
      const [late] = await start(16, { redis: redis.server.url, name });
      exact(
        Array.from({ length: 10 }, (_, k) => late.read(k)),
        Array.from({ length: 10 }, (_, k) => BigInt(k + 1)),
        'contexts 0-9 in a fresh replica',
      );
    },
    60_000,
  );

  itScenario(
    'caught-up-before-trim-check',
    'a replica whose reads were held while the log was trimmed past it: caughtUp() resolves only once it holds the trimmed entries',
    async () => {
      const p = await proxy();
      const { lag, caughtUp } = await trimPastHeldReplica(fresh('caught-up-trim'), p);
      // The read goes through and returns Y's entry; the trim check that follows it is held.
      p.resume();
      p.holdCommands('trimmed-through');
      let seen: { context0: bigint; context1: bigint } | null = null;
      const done = caughtUp.then(() => {
        seen = { context0: lag.read(0), context1: lag.read(1) };
      });
      // A replica that waits for its trim check is right to: release it after a while.
      await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
      p.resume();
      await settlesWithin(done, 10_000, 'caughtUp() of the replica whose reads were held');
      exact(seen, { context0: 5n, context1: 1n }, 'the replica when its caughtUp() resolved');
    },
    60_000,
  );

  itScenario(
    'trim-superseded-mid-check',
    "a replica's trim check raced by a newer snapshot: it still notices the entries trimmed past it before it counts as caught up",
    async () => {
      const name = fresh('trim-race');
      const p = await proxy();
      const { lag, caughtUp, y } = await trimPastHeldReplica(name, p);
      // Its read goes through; the read of the trim point's record is held while Y stores a newer snapshot.
      p.resume();
      await holdUntilHeld(p, 'snapshot-records');
      await y.caughtUp();
      await y.snapshot();
      let seen: { context0: bigint; context1: bigint } | null = null;
      const done = caughtUp.then(() => {
        seen = { context0: lag.read(0), context1: lag.read(1) };
      });
      p.resume();
      await settlesWithin(done, 10_000, 'caughtUp() of the replica whose trim check was raced');
      exact(seen, { context0: 5n, context1: 1n }, 'the replica when its caughtUp() resolved');
      const [late] = await start(4, { redis: redis.server.url, name, keepSnapshots: 1 });
      exact({ context0: late.read(0), context1: late.read(1) }, { context0: 5n, context1: 1n }, 'a fresh replica');
    },
    60_000,
  );
});
