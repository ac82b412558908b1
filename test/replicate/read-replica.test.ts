// Reading the log from Redis replicas (readFrom: 'replica'): on one primary
// with a replica, and on a Redis Cluster, the readers' blocking reads reach
// the replicas while publishing stays on the primary, and every replica of
// the table ends exact.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AtomikTable, replicate } from '../../lib/index.js';
import { startRedisCluster, startRedisServer, type LocalRedisCluster, type LocalRedisServer } from '../../lib/testing/index.js';
import { expectedStates, update } from '../fixtures/replica-worker.mjs';
import { redisSkipReason } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';

const skip = redisSkipReason();
let primary: LocalRedisServer;
let copy: LocalRedisServer;
let cluster: LocalRedisCluster;
let names = 0;
const fresh = (what: string) => `${what}-${process.pid}-${names++}`;

/** XREAD calls a server has answered since its counters were reset. */
async function xreadCalls(port: number): Promise<number> {
  const conn = new Redis(port, '127.0.0.1');
  try {
    return Number(/^cmdstat_xread:calls=(\d+)/m.exec(await conn.info('commandstats'))?.[1] ?? 0);
  } finally {
    conn.disconnect();
  }
}

async function resetStats(port: number): Promise<void> {
  const conn = new Redis(port, '127.0.0.1');
  await conn.config('RESETSTAT');
  conn.disconnect();
}

beforeAll(async () => {
  if (skip) return;
  primary = await startRedisServer();
  copy = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const conn = new Redis(copy.port, '127.0.0.1');
  const deadline = Date.now() + 20_000;
  while (!/master_link_status:up/.test(await conn.info('replication'))) {
    if (Date.now() > deadline) throw new Error('the Redis replica did not sync within 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  conn.disconnect();
  cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
}, 90_000);
afterAll(async () => {
  await copy?.dispose();
  await primary?.dispose();
  await cluster?.dispose();
});

function play(replica: { accum(i: number, d: bigint): void }, size: number, seed: number, count: number): void {
  for (let j = 0; j < count; j++) {
    const [i, d] = update('add', seed, j, size);
    replica.accum(i, d);
  }
}

describeUnless(skip, "replicated tables reading from Redis replicas (readFrom: 'replica')", () => {
  it('one primary with a replica: the reader reads from the replica only, publishes to the primary, and ends exact', async () => {
    const name = fresh('read-copy');
    const size = 1000;
    await Promise.all([resetStats(primary.port), resetStats(copy.port)]);
    const reader = await replicate(new AtomikTable(size, { group: 'add' }), { redis: primary.url, name, readFrom: 'replica' });
    play(reader, size, 71, 2000);
    await reader.flush();
    const writer = await replicate(new AtomikTable(size, { group: 'add' }), { redis: primary.url, name });
    play(writer, size, 72, 3000);
    await writer.flush();
    await Promise.all([reader.caughtUp(), writer.caughtUp()]);
    const want = expectedStates('add', size, [
      [71, 2000],
      [72, 3000],
    ]);
    expect(Array.from(reader.table.states())).toEqual(want);
    expect(Array.from(writer.table.states())).toEqual(want);
    expect(await xreadCalls(copy.port)).toBeGreaterThan(0);
    await Promise.all([reader.close(), writer.close()]);
  });

  it("a primary without a replica refuses readFrom 'replica' with a coded error; a bad value is refused before connecting", async () => {
    const lone = await startRedisServer();
    try {
      const table = new AtomikTable(4, { group: 'add' });
      await expect(replicate(table, { redis: lone.url, name: fresh('lone'), readFrom: 'replica' })).rejects.toMatchObject({
        code: 'ERR_ATOMIK_CONNECT',
        message: "options.readFrom is 'replica', but the Redis server has no online replica (INFO replication)",
      });
      await expect(replicate(table, { redis: lone.url, name: fresh('lone'), readFrom: 'secondary' as never })).rejects.toMatchObject({
        code: 'ERR_ATOMIK_INVALID_ARG_VALUE',
      });
    } finally {
      await lone.dispose();
    }
  });

  it('a Redis Cluster: each partition is read from a replica of its slot; writer, reader and a late joiner end exact', async () => {
    const name = fresh('read-cluster');
    const size = 6000;
    const ports = cluster.nodes.map((n) => n.port);
    await Promise.all(ports.map(resetStats));
    const opts = { redis: cluster.startupNodes, name, partitions: 6 };
    const writer = await replicate(new AtomikTable(size, { group: 'add' }), opts);
    const reader = await replicate(new AtomikTable(size, { group: 'add' }), { ...opts, readFrom: 'replica' });
    play(writer, size, 81, 5000);
    play(reader, size, 82, 5000);
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
    const roles = await Promise.all(
      ports.map(async (port) => {
        const conn = new Redis(port, '127.0.0.1');
        const role = /role:(\w+)/.exec(await conn.info('replication'))?.[1];
        conn.disconnect();
        return role;
      }),
    );
    const replicaReads = (await Promise.all(ports.map(xreadCalls))).filter((_, k) => roles[k] === 'slave');
    expect(replicaReads.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await Promise.all([writer, reader, late].map((r) => r.close()));
  });
});
