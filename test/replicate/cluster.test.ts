// Replicated tables on a real Redis Cluster (3 primaries, 3 replicas, each
// a redis-server in cluster mode on loopback): partitions spread over the
// primaries, a Cluster client or a node list or one node's URL, reads from
// the replicas of each slot, and a primary killed mid-run while its replica
// takes over.
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AtomikTable, replicate, type Replica } from '../../lib/index.js';
import { startRedisCluster, type LocalRedisCluster } from '../../lib/testing/index.js';
import { expectedStates } from '../fixtures/replica-worker.mjs';
import { onNode, play, redisSkipReason, xreadCalls } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';

const skip = redisSkipReason();
let cluster: LocalRedisCluster;
let names = 0;
const fresh = (what: string) => `${what}-${process.pid}-${names++}`;

beforeAll(async () => {
  if (skip) return;
  cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
}, 60_000);
afterAll(async () => {
  await cluster?.dispose();
});

describeUnless(skip, 'replicated tables on a Redis Cluster', () => {
  it('6 partitions spread over 3 primaries; a node list, a Cluster client and one node URL all work; exact states', async () => {
    const name = fresh('spread');
    const size = 6000;
    const primaries = new Set<number>();
    for (let p = 0; p < 6; p++) primaries.add((await cluster.primaryOf(`atomik:{${name}:${p}}:log`)).port);
    expect(primaries.size).toBeGreaterThanOrEqual(2);
    const client = new Cluster(cluster.startupNodes);
    const targets = [cluster.startupNodes, client, `redis://127.0.0.1:${cluster.nodes[0]!.port}`] as const;
    const replicas: Replica[] = [];
    for (const redis of targets) replicas.push(await replicate(new AtomikTable(size, { group: 'add' }), { redis, name, partitions: 6 }));
    replicas.forEach((r, k) => play(r, size, 300 + k, 0, 5000));
    await Promise.all(replicas.map((r) => r.flush()));
    await Promise.all(replicas.map((r) => r.caughtUp()));
    const want = expectedStates('add', size, [
      [300, 5000],
      [301, 5000],
      [302, 5000],
    ]);
    for (const r of replicas) expect(Array.from(r.table.states())).toEqual(want);
    const late = await replicate(new AtomikTable(size, { group: 'add' }), { redis: cluster.startupNodes, name, partitions: 6 });
    expect(Array.from(late.table.states())).toEqual(want);
    await Promise.all([...replicas, late].map((r) => r.close()));
    client.disconnect();
  }, 60_000);

  it("readFrom 'replica': each partition is read from a replica of its slot; writer, reader and a late joiner end exact", async () => {
    const name = fresh('read-cluster');
    const size = 6000;
    const ports = cluster.nodes.map((n) => n.port);
    await Promise.all(ports.map((port) => onNode(port, (conn) => conn.config('RESETSTAT'))));
    const opts = { redis: cluster.startupNodes, name, partitions: 6 };
    const writer = await replicate(new AtomikTable(size, { group: 'add' }), opts);
    const reader = await replicate(new AtomikTable(size, { group: 'add' }), { ...opts, readFrom: 'replica' });
    play(writer, size, 81, 0, 5000);
    play(reader, size, 82, 0, 5000);
    await Promise.all([writer.flush(), reader.flush()]);
    await Promise.all([writer.caughtUp(), reader.caughtUp()]);
    const want = expectedStates('add', size, [
      [81, 5000],
      [82, 5000],
    ]);
    expect(Array.from(writer.table.states())).toEqual(want);
    expect(Array.from(reader.table.states())).toEqual(want);
    const late = await replicate(new AtomikTable(size, { group: 'add' }), { ...opts, readFrom: 'replica' });
    expect(Array.from(late.table.states())).toEqual(want);
    // The replica nodes answered reads: only replicas with readFrom 'replica' send any there.
    const roles = await Promise.all(ports.map((port) => onNode(port, async (conn) => /role:(\w+)/.exec(await conn.info('replication'))?.[1])));
    const replicaReads = (await Promise.all(ports.map(xreadCalls))).filter((_, k) => roles[k] === 'slave');
    expect(replicaReads.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await Promise.all([writer, reader, late].map((r) => r.close()));
  });

  it('a primary killed mid-run (waitReplicas 1): its replica takes over, flushes settle, every acknowledged update is held exactly once', async () => {
    const name = fresh('failover');
    const size = 4096;
    const opts = { redis: cluster.startupNodes, name, partitions: 6, waitReplicas: 1, timeoutMs: 1000 };
    const writer = await replicate(new AtomikTable(size, { group: 'add' }), opts);
    const reader = await replicate(new AtomikTable(size, { group: 'add' }), opts);
    const key = `atomik:{${name}:0}:log`;
    const victim = await cluster.primaryOf(key);
    const waitForFailover = async (port: number) => {
      // While the failure is detected no node serves the slot as primary: ask again.
      for (;;) {
        const primary = await cluster.primaryOf(key).catch(() => null);
        if (primary && primary.port !== port) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let acked = 0;
    const rounds = 30;
    const perRound = 500;
    for (let round = 0; round < rounds; round++) {
      play(writer, size, 400, round * perRound, perRound);
      await writer.flush();
      acked = (round + 1) * perRound;
      if (round === 10) {
        await victim.stop('SIGKILL');
        // Once its replica has taken over, the old primary comes back as a replica, so WAIT 1 can be met again.
        void waitForFailover(victim.port).then(() => victim.restart());
      }
    }
    await cluster.waitHealthy();
    await Promise.all([writer.caughtUp(), reader.caughtUp()]);
    const want = expectedStates('add', size, [[400, acked]]);
    expect(Array.from(writer.table.states())).toEqual(want);
    expect(Array.from(reader.table.states())).toEqual(want);
    const late = await replicate(new AtomikTable(size, { group: 'add' }), opts);
    expect(Array.from(late.table.states())).toEqual(want);
    expect((await cluster.primaryOf(key)).port).not.toBe(victim.port);
    await Promise.all([writer.close(), reader.close(), late.close()]);
  }, 90_000);
});
