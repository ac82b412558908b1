// Reading the log from a Redis replica (readFrom: 'replica') of one primary:
// the readers' blocking reads reach the replica while publishing stays on
// the primary, and every replica of the table ends exact. (On a Redis
// Cluster: test/replicate/cluster.test.ts.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AtomikTable, replicate } from '../../lib/index.js';
import { startRedisServer, type LocalRedisServer } from '../../lib/testing/index.js';
import { expectedStates } from '../fixtures/replica-worker.mjs';
import { onNode, play, redisSkipReason, xreadCalls } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';

const skip = redisSkipReason();
let primary: LocalRedisServer;
let copy: LocalRedisServer;
let names = 0;
const fresh = (what: string) => `${what}-${process.pid}-${names++}`;

const resetStats = (port: number) => onNode(port, (conn) => conn.config('RESETSTAT'));

beforeAll(async () => {
  if (skip) return;
  primary = await startRedisServer();
  copy = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  await onNode(copy.port, async (conn) => {
    const deadline = Date.now() + 20_000;
    while (!/master_link_status:up/.test(await conn.info('replication'))) {
      if (Date.now() > deadline) throw new Error('the Redis replica did not sync within 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
}, 60_000);
afterAll(async () => {
  await copy?.dispose();
  await primary?.dispose();
});

describeUnless(skip, "replicated tables reading from Redis replicas (readFrom: 'replica')", () => {
  it('one primary with a replica: the reader reads from the replica only, publishes to the primary, and ends exact', async () => {
    const name = fresh('read-copy');
    const size = 1000;
    await Promise.all([resetStats(primary.port), resetStats(copy.port)]);
    const reader = await replicate(new AtomikTable(size, { group: 'add' }), { redis: primary.url, name, readFrom: 'replica' });
    play(reader, size, 71, 0, 2000);
    await reader.flush();
    const writer = await replicate(new AtomikTable(size, { group: 'add' }), { redis: primary.url, name });
    play(writer, size, 72, 0, 3000);
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
});
