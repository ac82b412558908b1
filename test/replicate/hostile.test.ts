// A replicated table against damaged or hostile log content, damaged stored
// state, servers that are not Redis, and a network that goes silent: the
// fleet keeps going, nothing forged is applied, every error has a code and
// a failed start leaves the caller's table as it was.
import { createServer, type Server } from 'node:net';
import { expect, it } from 'vitest';
import { AtomikTable, replicate, type ReplicaHealth, type ReplicationError } from '../../lib/index.js';
import { encodeLogEntry } from '../../lib/engine/log-entry.js';
import { Authenticator } from '../../lib/replicate/auth.js';
import { partitionKeys } from '../../lib/replicate/keys.js';
import { PUBLISH_SCRIPT, SNAPSHOT_SCRIPT } from '../../lib/replicate/scripts.js';
import { encodeRecord, encodeSnapshot } from '../../lib/table/snapshot.js';
import { redisSkipReason, startRedisProxy, useRedisServer } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';

const skip = redisSkipReason();
const redis = useRedisServer({ fsync: 'always' });
let names = 0;
const fresh = (what: string) => `${what}-${process.pid}-${names++}`;
const entry = (origin: bigint, counter: bigint, idx: number[], deltas: bigint[]) =>
  Buffer.from(encodeLogEntry('add', 0, origin, counter, counter, Uint32Array.from(idx), BigUint64Array.from(deltas)));

describeUnless(skip, 'replicated tables against hostile log content and dead peers', () => {
  it('a damaged entry whose counters jump is skipped, never taken for a gap: the replica keeps running', async () => {
    const name = fresh('damaged-jump');
    const r = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name });
    const skipped: string[] = [];
    r.on('skipped', (err: ReplicationError) => skipped.push(`${err.code} ${err.message.replace(/^.* skipped: /, '')}`));
    for (const first of [5n, 1000n]) {
      const damaged = entry(77n, first, [1], [9n]);
      damaged[damaged.length - 1]! ^= 0x10;
      await redis.admin.xadd(`atomik:{${name}:0}:log`, '*', 'd', damaged);
    }
    await r.caughtUp();
    expect(skipped).toEqual(['ERR_ATOMIK_BAD_BATCH the checksum does not match', 'ERR_ATOMIK_BAD_BATCH the checksum does not match']);
    expect([r.failure, r.stats.resyncs, r.read(1)]).toEqual([null, 0, 0n]);
    r.accum(2, 3n);
    await r.flush();
    const late = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name });
    expect(Array.from(late.table.states())).toEqual([0n, 0n, 3n, 0n, 0n, 0n, 0n, 0n]);
    await Promise.all([r.close(), late.close()]);
  });

  it("a valid entry forged under a replica's own origin is skipped by its owner, whose state and snapshots stay exact", async () => {
    const name = fresh('forged-own');
    const a = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name });
    const skipped: string[] = [];
    a.on('skipped', (err: ReplicationError) => skipped.push(err.message.replace(/^.* skipped: /, '')));
    for (let k = 0; k < 3; k++) {
      a.accum(0, 1n);
      await a.flush();
    }
    // As if another writer took a's origin: counters 4..9 in one entry, and a copy of counter 2 with other bytes.
    await redis.admin.xadd(
      `atomik:{${name}:0}:log`,
      '*',
      'd',
      Buffer.from(encodeLogEntry('add', 0, a.origin, 4n, 9n, Uint32Array.of(0), BigUint64Array.of(100n))),
    );
    await redis.admin.xadd(`atomik:{${name}:0}:log`, '*', 'd', entry(a.origin, 2n, [0], [50n]));
    for (let k = 0; k < 3; k++) {
      a.accum(0, 1n);
      await a.flush();
    }
    await a.caughtUp();
    await a.snapshot();
    const late = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name });
    expect(skipped).toEqual(["it carries this replica's origin but is not an entry it published"]);
    expect(a.stats.duplicates).toBe(1); // the copy of counter 2: at or below what a has read back, never applied
    // The owner's state and its snapshot hold exactly its own six updates.
    expect([a.read(0), late.read(0)]).toEqual([6n, 6n]);
    await Promise.all([a.close(), late.close()]);
  });

  it('origin ids past 2^53 stay exact and distinct; a stored origin counter out of range is a coded error that leaves the table as it was', async () => {
    const name = fresh('origins');
    await redis.admin.set(`atomik:{${name}}:origins`, '9007199254740992');
    const a = await replicate(new AtomikTable(4, { group: 'add' }), { redis: redis.server.url, name });
    const b = await replicate(new AtomikTable(4, { group: 'add' }), { redis: redis.server.url, name });
    expect([a.origin, b.origin]).toEqual([9007199254740993n, 9007199254740994n]);
    a.accum(1, 1n);
    b.accum(1, 1n);
    await Promise.all([a.flush(), b.flush()]);
    await Promise.all([a.caughtUp(), b.caughtUp()]);
    expect([a.read(1), b.read(1)]).toEqual([2n, 2n]);
    await Promise.all([a.close(), b.close()]);

    const table = new AtomikTable(4, { group: 'add' });
    table.load(3, 42n);
    for (const [value, why] of [
      ['-6', "handed out '-5', not an origin id"],
      ['9223372036854775807', 'cannot hand out an origin id'],
    ] as const) {
      const bad = fresh('bad-origins');
      await redis.admin.set(`atomik:{${bad}}:origins`, value);
      await expect(replicate(table, { redis: redis.server.url, name: bad })).rejects.toMatchObject({
        code: 'ERR_ATOMIK_BAD_LOG_STATE',
        message: expect.stringContaining(why),
      });
    }
    const hash = fresh('hash-origins');
    await redis.admin.hset(`atomik:{${hash}}:origins`, 'x', '1');
    await expect(replicate(table, { redis: redis.server.url, name: hash })).rejects.toMatchObject({ code: 'ERR_ATOMIK_BAD_LOG_STATE' });
    expect(Array.from(table.states())).toEqual([0n, 0n, 0n, 42n]);
  });

  it("an origin counter that went back (a failover lost its increments) never hands a live replica's id to another", async () => {
    const name = fresh('origin-rewound');
    const a = await replicate(new AtomikTable(4, { group: 'add' }), { redis: redis.server.url, name });
    const b = await replicate(new AtomikTable(4, { group: 'add' }), { redis: redis.server.url, name });
    expect([a.origin, b.origin]).toEqual([1n, 2n]);
    await redis.admin.del(`atomik:{${name}}:origins`);
    const c = await replicate(new AtomikTable(4, { group: 'add' }), { redis: redis.server.url, name });
    expect(c.origin).toBe(3n);
    for (const [r, k] of [
      [a, 0],
      [b, 1],
      [c, 2],
    ] as const) {
      r.accum(k, 1n);
      await r.flush();
    }
    await Promise.all([a, b, c].map((r) => r.caughtUp()));
    for (const r of [a, b, c]) expect(Array.from(r.table.states())).toEqual([1n, 1n, 1n, 0n]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a damaged trim point or snapshot list is a coded error at start, and the table is left as it was', async () => {
    const table = new AtomikTable(4, { group: 'add' });
    table.load(0, 7n);
    const trimmed = fresh('bad-trim');
    await redis.admin.set(`atomik:{${trimmed}:0}:trimmed-through`, 'zzz');
    await expect(replicate(table, { redis: redis.server.url, name: trimmed })).rejects.toMatchObject({
      code: 'ERR_ATOMIK_BAD_LOG_STATE',
      message: `atomik:{${trimmed}:0}:trimmed-through holds 'zzz', not a stream position`,
    });
    const listed = fresh('bad-list');
    await redis.admin.lpush(`atomik:{${listed}:0}:snapshots`, 'not-a-position');
    await expect(replicate(table, { redis: redis.server.url, name: listed })).rejects.toMatchObject({ code: 'ERR_ATOMIK_BAD_LOG_STATE' });
    expect(Array.from(table.states())).toEqual([7n, 0n, 0n, 0n]);
  });

  it('the publish script compares 64-bit counters exactly, past 2^53', async () => {
    const heads = `atomik:{${fresh('counters')}:0}:heads`;
    const log = heads.replace(':heads', ':log');
    const publish = (prev: string, last: string) => redis.admin.eval(PUBLISH_SCRIPT, 2, log, heads, '9', prev, last, 'x') as Promise<[number, string]>;
    await redis.admin.hset(heads, '9', '9007199254740992');
    expect((await publish('9007199254740992', '9007199254740993'))[0]).toBe(1);
    expect(await publish('9007199254740992', '9007199254740993')).toEqual([0, '9007199254740993']); // a retry
    expect(await publish('9007199254740994', '9007199254740995')).toEqual([-1, '9007199254740993']); // 2^53 + 2 is missing
    expect((await publish('9007199254740993', '18446744073709551615'))[0]).toBe(1);
    expect(await publish('18446744073709551614', '18446744073709551615')).toEqual([0, '18446744073709551615']);
    expect(await redis.admin.xlen(log)).toBe(2);
  });

  it('a server that is not Redis, or none at all, fails the start with ERR_ATOMIK_CONNECT within startTimeoutMs', async () => {
    const http: Server = createServer((socket) => socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const { port } = http.address() as { port: number };
    const table = new AtomikTable(4, { group: 'add' });
    table.load(2, 5n);
    for (const url of [`redis://127.0.0.1:${port}`, 'redis://127.0.0.1:1']) {
      const started = Date.now();
      await expect(replicate(table, { redis: url, name: fresh('nothing'), startTimeoutMs: 800 })).rejects.toMatchObject({
        code: 'ERR_ATOMIK_CONNECT',
        message: expect.stringContaining('within 800 ms (options.startTimeoutMs)'),
      });
      expect(Date.now() - started).toBeLessThan(5000);
    }
    expect(Array.from(table.states())).toEqual([0n, 0n, 5n, 0n]);
    await new Promise((r) => http.close(r));
  });

  it('a server that announces a 2 GiB reply and streams it is cut off: the start fails naming the reply, and the process never buffers it', async () => {
    const zeros = Buffer.alloc(1 << 20);
    let sent = 0;
    const flood: Server = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write('$2147483648\r\n');
        const pump = () => {
          while (!socket.destroyed && sent < 2 ** 31) {
            sent += zeros.length;
            if (!socket.write(zeros)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
    });
    await new Promise<void>((r) => flood.listen(0, '127.0.0.1', r));
    const { port } = flood.address() as { port: number };
    const table = new AtomikTable(4, { group: 'add' });
    const before = process.memoryUsage().rss;
    await expect(replicate(table, { redis: `redis://127.0.0.1:${port}`, name: fresh('flood'), startTimeoutMs: 1500 })).rejects.toMatchObject({
      code: 'ERR_ATOMIK_CONNECT',
      message: expect.stringContaining('the server sent a reply of 2147483648 bytes (at most 67108912 are expected)'),
    });
    // Each attempt is cut at the reply's first bytes: far less than 2 GiB ever reached the process.
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
    await new Promise((r) => flood.close(r));
  });

  it('a network pause (traffic held, no reset) longer than timeoutMs: health says stalled, then every promise settles after the heal', async () => {
    const name = fresh('pause');
    const proxy = await startRedisProxy(redis.server.port);
    const r = await replicate(new AtomikTable(8, { group: 'add' }), { redis: proxy.url, name, timeoutMs: 300 });
    const states: ReplicaHealth['state'][] = [];
    r.on('health', (h: ReplicaHealth) => states.push(h.state));
    r.accum(1, 1n);
    await r.flush();
    proxy.pause();
    r.accum(1, 1n);
    const flushed = r.flush();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(r.health.state).toBe('stalled');
    expect(r.health.unacknowledged).toBe(1);
    proxy.resume();
    const healed = Date.now();
    await flushed;
    await r.caughtUp();
    expect(Date.now() - healed).toBeLessThan(5000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([r.health.state, r.health.unacknowledged]).toEqual(['ok', 0]);
    expect(states).toEqual(['stalled', 'ok']);
    const late = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name });
    expect(late.read(1)).toBe(2n);
    await Promise.all([r.close(), late.close(), proxy.close()]);
    expect(r.health.state).toBe('closed');
    await expect(r.caughtUp()).rejects.toMatchObject({ code: 'ERR_ATOMIK_REPLICA_CLOSED' });
  });

  it('with authKey, entries and snapshots written without the key are skipped or refused; keyed replicas stay exact', async () => {
    const name = fresh('auth');
    const key = 'a shared secret of the fleet';
    const a = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name, authKey: key });
    const b = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name, authKey: Buffer.from(key) });
    const skipped: string[] = [];
    b.on('skipped', (err: ReplicationError) => skipped.push(err.message.replace(/^.* skipped: /, '')));
    a.accum(1, 5n);
    await a.flush();
    // A valid entry from a client without the key, and one from a replica with another key.
    await redis.admin.xadd(`atomik:{${name}:0}:log`, '*', 'd', entry(500n, 1n, [2], [9n]));
    const stranger = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name, authKey: 'another secret, not the fleet' });
    stranger.accum(3, 7n);
    await stranger.flush();
    a.accum(1, 1n);
    await a.flush();
    await b.caughtUp();
    expect(skipped).toEqual(["it is not authenticated with this table's key", "it is not authenticated with this table's key"]);
    expect(Array.from(b.table.states())).toEqual([0n, 6n, 0n, 0n, 0n, 0n, 0n, 0n]);
    await b.snapshot();
    const late = await replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name, authKey: key });
    expect(Array.from(late.table.states())).toEqual([0n, 6n, 0n, 0n, 0n, 0n, 0n, 0n]);
    // A snapshot stored by a client without the key (newer: after one more entry) is refused by keyed replicas.
    const k = partitionKeys('atomik', name, 0);
    const position = (await redis.admin.xadd(k.log, '*', 'd', entry(501n, 1n, [4], [1n])))!;
    const blob = encodeSnapshot({ group: 'add', partition: 0, partitions: 1, position, record: new Map(), states: new BigUint64Array(8) });
    const forged = Buffer.concat([blob, new Authenticator(Buffer.from('another secret, not the fleet')).tag('snapshot', blob)]);
    expect(
      await redis.admin.eval(SNAPSHOT_SCRIPT, 5, k.ids, k.blobs, k.records, k.trim, k.log, position, forged, Buffer.from(encodeRecord(new Map())), 2),
    ).toBe(1);
    await expect(replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name, authKey: key })).rejects.toMatchObject({
      code: 'ERR_ATOMIK_BAD_SNAPSHOT',
      message: expect.stringContaining("it is not authenticated with this table's key"),
    });
    await expect(replicate(new AtomikTable(8, { group: 'add' }), { redis: redis.server.url, name, authKey: 'short' })).rejects.toMatchObject({
      code: 'ERR_ATOMIK_OUT_OF_RANGE',
      message: 'options.authKey must be at least 16 bytes, got 5',
    });
    await Promise.all([a.close(), b.close(), late.close(), stranger.close()]);
  });
});
