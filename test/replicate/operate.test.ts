// What an operator sees of a replicated table: inspectTable() (and its text
// form, printed by `atomik-node inspect`), the replicas' heartbeats, and
// replica.metrics() in the Prometheus text format.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { AtomikTable, replicate } from '../../lib/index.js';
import { formatReport, inspectTable } from '../../lib/replicate/index.js';
import { redisSkipReason, useRedisServer } from '../helpers/redis.js';
import { decodeRecord } from '../../lib/table/snapshot.js';
import { PUBLISH_SCRIPT } from '../../lib/replicate/scripts.js';
import { describeUnless } from '../helpers/skip.js';

const skip = redisSkipReason();
const redis = useRedisServer();
const run = async (file: string, args: string[]) => (await promisify(execFile)(file, args)).stdout;

describeUnless(skip, 'operating replicated tables', () => {
  it('inspectTable reports partitions, snapshots and every live replica with its lag; a closed replica leaves the list', async () => {
    const name = `inspect-${process.pid}`;
    const opts = { redis: redis.server.url, name, partitions: 2 };
    const a = await replicate(new AtomikTable(100, { group: 'add' }), opts);
    const b = await replicate(new AtomikTable(100, { group: 'add' }), opts);
    for (let i = 0; i < 100; i++) a.accum(i, 1n);
    await a.flush();
    b.accum(99, 5n);
    await b.flush();
    await Promise.all([a.caughtUp(), b.caughtUp()]);
    await a.snapshot();
    await new Promise((r) => setTimeout(r, 1200)); // one heartbeat after catching up
    const report = await inspectTable(redis.server.url, name);
    expect(report.layout).toBe('group=add contexts=100 partitions=2 format=1');
    expect(report.originsHandedOut).toBe('2');
    expect(report.partitions.map((p) => [p.partition, p.entries, p.origins, p.snapshots.length])).toEqual([
      [0, 0, 1, 1],
      [1, 0, 2, 1],
    ]); // the snapshot trimmed every entry it holds
    expect(report.partitions[1]!.snapshots[0]!.position).toBe(report.partitions[1]!.trimmedThrough);
    expect(report.replicas.map((r) => [r.origin, r.health, r.unacknowledged, r.behindMs]).sort()).toEqual([
      ['1', 'ok', 0, [0, 0]],
      ['2', 'ok', 0, [0, 0]],
    ]);
    expect(report.replicas.find((r) => r.origin === '1')!.stats.publishedUpdates).toBe(100);
    const text = formatReport(report);
    expect(text.split('\n')[0]).toBe(`table ${name} (prefix atomik): group=add contexts=100 partitions=2 format=1; 2 replica starts`);
    expect(text).toMatch(/^partition 1: 0 entries, .* 2 origins; snapshots: \d+-\d+ \(/m);
    expect(text).toMatch(/^replica 2: ok, seen \d+ ms ago, 0 unacknowledged, behind by 0 ms\/0 ms of log; published 1, applied 100,/m);
    await b.close();
    expect((await inspectTable(redis.server.url, name)).replicas.map((r) => r.origin)).toEqual(['1']);
    await a.close();
    expect(formatReport(await inspectTable(redis.server.url, 'no-such-table'))).toBe("no replicated table 'no-such-table' under prefix 'atomik'\n");
  });

  it('metrics() gives the counters and health in the Prometheus text format', async () => {
    const r = await replicate(new AtomikTable(4, { group: 'add' }), { redis: redis.server.url, name: `metrics-${process.pid}` });
    r.accum(1, 1n);
    r.accum(1, 1n);
    await r.flush();
    const text = r.metrics();
    const labels = `{table="metrics-${process.pid}",origin="${r.origin}"}`;
    expect(text).toContain(`# TYPE atomik_replica_local_updates_total counter\natomik_replica_local_updates_total${labels} 2\n`);
    expect(text).toContain(`atomik_replica_published_updates_total${labels} 1\n`);
    expect(text).toContain(`atomik_replica_unacknowledged_entries${labels} 0\n`);
    expect(text).toContain(`atomik_replica_health{table="metrics-${process.pid}",origin="${r.origin}",state="ok"} 1\n`);
    expect(text).toContain(`atomik_replica_health{table="metrics-${process.pid}",origin="${r.origin}",state="stalled"} 0\n`);
    expect(text.split('\n').filter((l) => l.startsWith('# TYPE')).length).toBe(14);
    await r.close();
    expect(r.metrics()).toContain(`state="closed"} 1\n`);
  });

  it('origins of closed replicas are retired: heads and snapshot records keep only live ones, and every replica stays exact', async () => {
    const name = `retire-${process.pid}`;
    const opts = { redis: redis.server.url, name };
    const admin = new Redis(redis.server.url);
    const long = await replicate(new AtomikTable(8, { group: 'add' }), opts);
    for (let k = 0; k < 12; k++) {
      const r = await replicate(new AtomikTable(8, { group: 'add' }), opts);
      r.accum(k % 8, 1n);
      await r.flush();
      await r.close();
    }
    long.accum(0, 100n);
    await long.flush();
    await long.caughtUp();
    const writer = await replicate(new AtomikTable(8, { group: 'add' }), opts);
    await writer.snapshot();
    expect(Object.keys(await admin.hgetall(`atomik:{${name}:0}:heads`))).toEqual([long.origin.toString()]); // the writer never published
    expect(Object.keys(await admin.hgetall(`atomik:{${name}:0}:retired-origins`)).length).toBe(12);
    const [position] = await admin.lrange(`atomik:{${name}:0}:snapshots`, 0, 0);
    const record = decodeRecord((await admin.hgetBuffer(`atomik:{${name}:0}:snapshot-records`, position!))!);
    expect([...record.keys()].map(String)).toEqual([long.origin.toString()]);
    const want = [102n, 2n, 2n, 2n, 1n, 1n, 1n, 1n];
    // The long-lived replica read all 13 origins; once it sees the new trim point it keeps only its own.
    const deadline = Date.now() + 10_000;
    while (long.health.origins !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(long.health.origins).toBe(1);
    expect(long.metrics()).toContain(`atomik_replica_origins{table="${name}",origin="${long.origin}"} 1\n`);
    const late = await replicate(new AtomikTable(8, { group: 'add' }), opts);
    for (const r of [long, writer, late]) expect(Array.from(r.table.states())).toEqual(want);
    // A retired origin cannot publish again: the publish script answers it as a gap.
    const [retiredOrigin] = Object.keys(await admin.hgetall(`atomik:{${name}:0}:retired-origins`));
    const published = (await admin.eval(PUBLISH_SCRIPT, 2, `atomik:{${name}:0}:log`, `atomik:{${name}:0}:heads`, retiredOrigin!, '1', '2', 'x')) as [
      number,
      string,
    ];
    expect(published).toEqual([-1, '0']);
    await Promise.all([long.close(), writer.close(), late.close()]);
    admin.disconnect();
  });

  it('atomik-node inspect prints the report, or the whole of it as JSON; missing flags are a usage error', async () => {
    const name = `cli-inspect-${process.pid}`;
    const r = await replicate(new AtomikTable(4, { group: 'add' }), { redis: redis.server.url, name });
    r.accum(0, 1n);
    await r.flush();
    const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
    const text = await run(process.execPath, [cli, 'inspect', '--redis', redis.server.url, '--name', name]);
    expect(text.split('\n')[0]).toBe(`table ${name} (prefix atomik): group=add contexts=4 partitions=1 format=1; 1 replica starts`);
    const json = JSON.parse(await run(process.execPath, [cli, 'inspect', '--redis', redis.server.url, '--name', name, '--json'])) as {
      partitions: { entries: number }[];
    };
    expect(json.partitions.map((p) => p.entries)).toEqual([1]);
    await expect(run(process.execPath, [cli, 'inspect', '--name', name])).rejects.toThrow(
      /atomik-node: ERR_ATOMIK_INVALID_ARG_VALUE: inspect needs --redis URL and --name NAME/,
    );
    await r.close();
  });
});
