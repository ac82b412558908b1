// Replicated tables against a real redis-server started by the tests: many
// replica processes, killed replicas, a restarted server, lost replies,
// trimmed logs and late joiners, foreign entries in the stream. Every
// result is compared with states computed independently.
import { expect, it } from 'vitest';
import { AtomikTable, replicate, ReplicationError, type Group, type Replica } from '../../lib/index.js';
import { encodeLogEntry } from '../../lib/engine/log-entry.js';
import { expectedStates, update } from '../fixtures/replica-worker.mjs';
import { dump, redisSkipReason, startRedisProxy, startWorker, useRedisServer, type Worker } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';

const skip = redisSkipReason();
const redis = useRedisServer({ fsync: 'always' });
let names = 0;
const fresh = (what: string) => `${what}-${process.pid}-${names++}`;

/** Replays sequence `seed` (first `count` updates) into a replica. */
function play(replica: Replica, group: Group, size: number, seed: number, count: number): void {
  for (let j = 0; j < count; j++) {
    const [i, d] = update(group, seed, j, size);
    replica.accum(i, d);
  }
}

function statesOf(table: AtomikTable): bigint[] {
  return Array.from(table.states());
}

/** Origin -> sum of its deltas in the log, decoded here independently of the library. */
async function logTotals(name: string, partition = 0): Promise<Map<string, bigint>> {
  const entries = (await redis.admin.xrangeBuffer(`atomik:{${name}:${partition}}:log`, '-', '+')) as unknown as [Buffer, Buffer[]][];
  const totals = new Map<string, bigint>();
  for (const [, fields] of entries) {
    const e = fields[1]!;
    const n = e.readUInt32LE(8);
    const origin = e.readBigUInt64LE(16).toString();
    let sum = totals.get(origin) ?? 0n;
    if (e[4] === 1) {
      const at = 48 + ((n * 4 + 7) & ~7);
      for (let k = 0; k < n; k++) sum += e.readBigUInt64LE(at + 8 * k);
    } else {
      // Version 2: the deltas are zigzag varints after the index column.
      let at = 48 + e.readUInt32LE(12);
      for (let k = 0; k < n; k++) {
        let v = 0n;
        for (let shift = 0n; ; shift += 7n) {
          const byte = e[at++]!;
          v |= BigInt(byte & 0x7f) << shift;
          if (byte < 0x80) break;
        }
        sum += (v >> 1n) ^ -(v & 1n);
      }
    }
    totals.set(origin, sum);
  }
  return totals;
}

describeUnless(skip, 'replicated tables on redis-server', () => {
  for (const group of ['add', 'xor'] as const) {
    it(`3 replica processes x 20,000 updates each (${group}): every replica holds the exact combined states`, async () => {
      const name = fresh(`procs-${group}`);
      const size = 5000;
      const workers = [11, 12, 13].map((seed) => startWorker({ url: redis.server.url, name, group, size, seed, count: 20_000, flushEvery: 1000 }));
      await Promise.all(workers.map((w) => w.waitFor((m) => 'published' in m)));
      const expected = expectedStates(group, size, [
        [11, 20_000],
        [12, 20_000],
        [13, 20_000],
      ]);
      for (const w of workers) expect(await dump(w)).toEqual(expected);
      // A replica started afterwards in this process reads the whole log.
      const table = new AtomikTable(size, { group });
      const late = await replicate(table, { redis: redis.server.url, name });
      expect(statesOf(table)).toEqual(expected);
      expect(late.stats.duplicates).toBe(0);
      await late.close();
    });
  }

  it('kill -9 of a replica mid-publish, then a restart: nothing acknowledged is lost, nothing is applied twice', async () => {
    const name = fresh('kill');
    const size = 2000;
    const group = 'add';
    const base = { url: redis.server.url, name, group, size, flushEvery: 250 } as const;
    const steady = startWorker({ ...base, seed: 21, count: 30_000 });
    const victim = startWorker({ ...base, seed: 22, count: 10_000_000, flushEvery: 97 });
    const victimOrigin = (await victim.waitFor((m) => 'origin' in m)).origin as string;
    const acked = (await victim.waitFor((m) => typeof m.acked === 'number' && m.acked >= 5000)).acked as number;
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const lastAcked = Math.max(...victim.messages.filter((m) => typeof m.acked === 'number').map((m) => m.acked as number));
    expect(lastAcked).toBeGreaterThanOrEqual(acked);
    // The restarted process gets a new origin and goes on with a sequence of its own.
    const restarted = startWorker({ ...base, seed: 23, count: 20_000 });
    expect((await restarted.waitFor((m) => 'origin' in m)).origin).not.toBe(victimOrigin);
    await Promise.all([steady, restarted].map((w) => w.waitFor((m) => 'published' in m)));
    // The log holds a prefix of the victim's sequence (each flush publishes
    // everything accumulated before it). Its length is pinned by the total of
    // the victim's deltas in the log and by the replicas' states below.
    const victimTotal = BigInt.asIntN(64, (await logTotals(name)).get(victimOrigin)!);
    const candidates: number[] = [];
    let sum = 0n;
    for (let j = 0; j < lastAcked + 1000; j++) {
      if (j >= lastAcked && sum === victimTotal) candidates.push(j);
      sum += update(group, 22, j, size)[1];
    }
    expect(candidates.length).toBeGreaterThan(0);
    const states = await Promise.all([steady, restarted].map(dump));
    // Exactly one prefix length explains the replicas' states.
    const matches = candidates.filter((n) => {
      const want = expectedStates(group, size, [
        [21, 30_000],
        [22, n],
        [23, 20_000],
      ]);
      return states.every((s) => s.every((v, i) => v === want[i]));
    });
    expect(matches.length).toBeGreaterThanOrEqual(1);
    expect(matches[0]).toBeGreaterThanOrEqual(lastAcked);
  });

  it('redis-server killed and restarted (appendfsync always): every update whose flush resolved survives', async () => {
    const name = fresh('restart');
    const size = 1000;
    const a = new AtomikTable(size, { group: 'add' });
    const ra = await replicate(a, { redis: redis.server.url, name });
    play(ra, 'add', size, 31, 5000);
    await ra.flush();
    await ra.close(); // gone before the crash: only Redis holds its updates now
    const b = new AtomikTable(size, { group: 'add' });
    const rb = await replicate(b, { redis: redis.server.url, name });
    play(rb, 'add', size, 32, 3000);
    const acked = rb.flush();
    await acked;
    await redis.server.stop('SIGKILL');
    play(rb, 'add', size, 33, 2000); // published while Redis is down: retried until it is back
    const pending = rb.flush();
    await redis.server.restart();
    await pending;
    const c = new AtomikTable(size, { group: 'add' });
    const rc = await replicate(c, { redis: redis.server.url, name });
    const want = expectedStates('add', size, [
      [31, 5000],
      [32, 3000],
      [33, 2000],
    ]);
    expect(statesOf(c)).toEqual(want);
    await rb.caughtUp();
    expect(statesOf(b)).toEqual(want);
    await Promise.all([rb.close(), rc.close()]);
  });

  it('a publish whose reply is lost is retried and applied once', async () => {
    const name = fresh('lost-reply');
    const proxy = await startRedisProxy(redis.server.port);
    const size = 64;
    const t = new AtomikTable(size, { group: 'xor' });
    const r = await replicate(t, { redis: proxy.url, name });
    r.accum(1, 0xf0n);
    await r.flush(); // the script is now cached on the server
    proxy.armLoseReply(':heads');
    r.accum(2, 0x0fn);
    r.accum(1, 0x01n);
    await r.flush();
    expect(proxy.cuts).toBe(1);
    expect(await redis.admin.xlen(`atomik:{${name}:0}:log`)).toBe(2);
    const other = new AtomikTable(size, { group: 'xor' });
    const ro = await replicate(other, { redis: redis.server.url, name });
    expect([other.read(1), other.read(2)]).toEqual([0xf1n, 0x0fn]);
    expect(ro.stats.appliedEntries).toBe(2);
    await Promise.all([r.close(), ro.close(), proxy.close()]);
  });

  it('Redis forgetting acknowledged batches that the publisher no longer holds stops it with ERR_ATOMIK_LOG_LOST', async () => {
    const name = fresh('log-lost');
    const t = new AtomikTable(8, { group: 'add' });
    const r = await replicate(t, { redis: redis.server.url, name });
    const errors: string[] = [];
    r.on('error', (err: ReplicationError) => errors.push(err.code));
    r.accum(1, 1n);
    await r.flush();
    await r.caughtUp(); // read back: the publisher keeps nothing of batch 1 now
    await redis.admin.del(`atomik:{${name}:0}:heads`); // as after a crash with appendfsync everysec
    r.accum(2, 1n);
    await expect(r.flush()).rejects.toMatchObject({ code: 'ERR_ATOMIK_LOG_LOST', message: expect.stringContaining('Redis lost batch 1 of origin') });
    expect(errors).toEqual(['ERR_ATOMIK_LOG_LOST']);
    expect(r.failure?.code).toBe('ERR_ATOMIK_LOG_LOST');
    expect(() => r.accum(0, 1n)).toThrow(expect.objectContaining({ code: 'ERR_ATOMIK_REPLICA_CLOSED' }));
  });

  it('snapshots trim the log; a late joiner catches up from the snapshot exactly; Redis memory stays bounded', async () => {
    const name = fresh('trim');
    const size = 65536;
    const opts = { redis: redis.server.url, name, snapshotBytes: 256 * 1024, keepSnapshots: 2, maxBatch: 1024 };
    const a = new AtomikTable(size, { group: 'add' });
    const ra = await replicate(a, opts);
    const b = new AtomikTable(size, { group: 'add' });
    const rb = await replicate(b, opts);
    const memory: number[] = [];
    const rounds = 30;
    for (let round = 0; round < rounds; round++) {
      play(ra, 'add', size, 1000 + round, 20_000);
      play(rb, 'add', size, 2000 + round, 20_000);
      await Promise.all([ra.flush(), rb.flush()]);
      await Promise.all([ra.caughtUp(), rb.caughtUp()]);
      const info = await redis.admin.info('memory');
      memory.push(Number(/used_memory:(\d+)/.exec(info)![1]));
    }
    const sequences: [number, number][] = [];
    for (let round = 0; round < rounds; round++) sequences.push([1000 + round, 20_000], [2000 + round, 20_000]);
    const want = expectedStates('add', size, sequences);
    expect(statesOf(a)).toEqual(want);
    expect(statesOf(b)).toEqual(want);
    expect(ra.stats.snapshots + rb.stats.snapshots).toBeGreaterThan(3);
    // Trimmed: the log no longer starts at the first entry ever written.
    const log = `atomik:{${name}:0}:log`;
    const published = ra.stats.publishedEntries + rb.stats.publishedEntries;
    expect(await redis.admin.xlen(log)).toBeLessThan(published / 2);
    // Memory: each round adds ~35,000 coalesced updates (~400 KB) to the log,
    // so an untrimmed log would grow by ~6 MB over the second half of the run.
    // Trimmed, it holds at most about two snapshot intervals plus two
    // snapshots (512 KiB each).
    const half = memory.slice(rounds / 2);
    expect(Math.max(...half) - Math.min(...half)).toBeLessThan(2.5 * 1024 * 1024);
    const c = new AtomikTable(size, { group: 'add' });
    const rc = await replicate(c, { redis: redis.server.url, name });
    expect(statesOf(c)).toEqual(want);
    expect(rc.stats.appliedEntries).toBeLessThan(published / 2);
    await Promise.all([ra.close(), rb.close(), rc.close()]);
  });

  it('a replica cut off while the log is trimmed past it reloads the newest snapshot and keeps its own updates', async () => {
    const name = fresh('partitioned');
    const size = 8192;
    const opts = { name, snapshotBytes: 64 * 1024, keepSnapshots: 1, maxBatch: 512 };
    const proxy = await startRedisProxy(redis.server.port);
    const lag = new AtomikTable(size, { group: 'xor' });
    const rl = await replicate(lag, { ...opts, redis: proxy.url });
    const resyncs: string[] = [];
    rl.on('resync', (e: { reason: string }) => resyncs.push(e.reason));
    const a = new AtomikTable(size, { group: 'xor' });
    const ra = await replicate(a, { ...opts, redis: redis.server.url });
    play(rl, 'xor', size, 51, 3000);
    await rl.flush();
    proxy.pause();
    play(rl, 'xor', size, 52, 3000); // local updates while cut off
    for (let round = 0; round < 10; round++) {
      play(ra, 'xor', size, 60 + round, 5000);
      await ra.flush();
      await ra.caughtUp();
    }
    expect(ra.stats.snapshots).toBeGreaterThan(1);
    proxy.resume();
    await rl.flush();
    await Promise.all([rl.caughtUp(), ra.caughtUp()]);
    const sequences: [number, number][] = [
      [51, 3000],
      [52, 3000],
    ];
    for (let round = 0; round < 10; round++) sequences.push([60 + round, 5000]);
    const want = expectedStates('xor', size, sequences);
    expect(statesOf(lag)).toEqual(want);
    expect(statesOf(a)).toEqual(want);
    expect(rl.stats.resyncs).toBeGreaterThanOrEqual(1);
    expect(resyncs.some((r) => r.startsWith('loaded snapshot'))).toBe(true);
    await Promise.all([rl.close(), ra.close(), proxy.close()]);
  });

  it('own batches trimmed before the writer read them back stay in every snapshot it writes (a fresh replica holds all 10)', async () => {
    const name = fresh('own-trimmed');
    const opts = { name, keepSnapshots: 1 };
    const proxy = await startRedisProxy(redis.server.port);
    proxy.pauseWhere('XREAD'); // W publishes, but reads nothing back
    const w = await replicate(new AtomikTable(4, { group: 'add' }), { ...opts, redis: proxy.url });
    const a = await replicate(new AtomikTable(4, { group: 'add' }), { ...opts, redis: redis.server.url });
    for (let k = 0; k < 8; k++) {
      w.accum(0, 1n);
      await w.flush();
    }
    await a.caughtUp();
    await a.snapshot(); // trims W's first 8 batches before W ever read them
    for (let k = 0; k < 2; k++) {
      w.accum(0, 1n);
      await w.flush();
    }
    proxy.resume();
    await w.caughtUp();
    await w.snapshot();
    await a.caughtUp();
    const late = await replicate(new AtomikTable(4, { group: 'add' }), { ...opts, redis: redis.server.url });
    expect([w.read(0), a.read(0), late.read(0)]).toEqual([10n, 10n, 10n]);
    await Promise.all([w.close(), a.close(), late.close(), proxy.close()]);
  });

  it('a flush settles when reading back own batches lagged behind the acknowledgements (outbox full, then drained)', async () => {
    const name = fresh('outbox-full');
    const proxy = await startRedisProxy(redis.server.port);
    proxy.pauseWhere('XREAD');
    const w = await replicate(new AtomikTable(16, { group: 'add' }), { name, redis: proxy.url, window: 1, maxBatch: 1 });
    for (let k = 0; k < 10; k++) w.accum(k, BigInt(k + 1));
    const flushed = w.flush();
    let settled = false;
    void flushed.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false); // the outbox (4 x window) waits for its entries to be read back
    expect(await redis.admin.xlen(`atomik:{${name}:0}:log`)).toBe(4);
    proxy.resume();
    await flushed;
    await w.caughtUp();
    expect(await redis.admin.xlen(`atomik:{${name}:0}:log`)).toBe(10);
    const r = await replicate(new AtomikTable(16, { group: 'add' }), { name, redis: redis.server.url });
    expect(Array.from(r.table.states()).slice(0, 10)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    await Promise.all([w.close(), r.close(), proxy.close()]);
  });

  it('own batches read back just before a snapshot reload that lacks them are applied again when read anew (nothing of the writer lost)', async () => {
    const name = fresh('own-past-reload');
    const opts = { name, keepSnapshots: 1 };
    const proxy = await startRedisProxy(redis.server.port);
    proxy.pauseWhere('XREAD');
    const w = await replicate(new AtomikTable(4, { group: 'add' }), { ...opts, redis: proxy.url });
    const a = await replicate(new AtomikTable(4, { group: 'add' }), { ...opts, redis: redis.server.url });
    a.accum(1, 10n);
    await a.flush();
    await a.caughtUp();
    await a.snapshot(); // trims A's first batch before W read it
    w.accum(0, 1n);
    await w.flush(); // W's own batch, after that snapshot
    a.accum(1, 10n);
    await a.flush(); // A's second batch: W will see A's counters jump, and reload the snapshot, which lacks W's batch
    proxy.resume();
    await w.caughtUp();
    await a.caughtUp();
    expect([w.read(0), w.read(1), a.read(0), a.read(1)]).toEqual([1n, 20n, 1n, 20n]);
    w.accum(0, 1n);
    await w.flush();
    await w.caughtUp();
    await w.snapshot();
    const late = await replicate(new AtomikTable(4, { group: 'add' }), { ...opts, redis: redis.server.url });
    expect([late.read(0), late.read(1)]).toEqual([2n, 20n]);
    await Promise.all([w.close(), a.close(), late.close(), proxy.close()]);
  });

  it('a replica cut off while a whole origin came and went and was trimmed away notices the trim and reloads', async () => {
    const name = fresh('trimmed-origin');
    const size = 256;
    const opts = { name, keepSnapshots: 1 };
    const proxy = await startRedisProxy(redis.server.port);
    const lag = new AtomikTable(size, { group: 'add' });
    const rl = await replicate(lag, { ...opts, redis: proxy.url });
    proxy.pause();
    // X publishes five batches, snapshots (trimming them all away) and leaves.
    const x = await replicate(new AtomikTable(size, { group: 'add' }), { ...opts, redis: redis.server.url });
    for (let k = 0; k < 5; k++) {
      play(x, 'add', size, 70 + k, 100);
      await x.flush();
    }
    await x.caughtUp();
    await x.snapshot();
    await x.close();
    // Y starts from that snapshot and publishes one batch of its own.
    const y = await replicate(new AtomikTable(size, { group: 'add' }), { ...opts, redis: redis.server.url });
    play(y, 'add', size, 80, 100);
    await y.flush();
    expect(await redis.admin.xlen(`atomik:{${name}:0}:log`)).toBe(1);
    proxy.resume();
    await rl.caughtUp();
    const want = expectedStates(
      'add',
      size,
      [70, 71, 72, 73, 74, 80].map((seed) => [seed, 100] as [number, number]),
    );
    expect(statesOf(lag)).toEqual(want);
    expect(rl.stats.resyncs).toBe(1);
    await Promise.all([rl.close(), y.close(), proxy.close()]);
  });

  it('two partitions: separate hash-tagged streams, exact results', async () => {
    const name = fresh('parts');
    const size = 1000;
    const a = new AtomikTable(size, { group: 'xor' });
    const ra = await replicate(a, { redis: redis.server.url, name, partitions: 2 });
    const b = new AtomikTable(size, { group: 'xor' });
    const rb = await replicate(b, { redis: redis.server.url, name, partitions: 2 });
    play(ra, 'xor', size, 41, 5000);
    play(rb, 'xor', size, 42, 5000);
    await Promise.all([ra.flush(), rb.flush()]);
    await Promise.all([ra.caughtUp(), rb.caughtUp()]);
    const want = expectedStates('xor', size, [
      [41, 5000],
      [42, 5000],
    ]);
    expect(statesOf(a)).toEqual(want);
    expect(statesOf(b)).toEqual(want);
    expect(await redis.admin.xlen(`atomik:{${name}:0}:log`)).toBeGreaterThan(0);
    expect(await redis.admin.xlen(`atomik:{${name}:1}:log`)).toBeGreaterThan(0);
    // A partition's entries carry partition-local indices (< 500).
    const [first] = (await redis.admin.xrangeBuffer(`atomik:{${name}:1}:log`, '-', '+', 'COUNT', 1)) as unknown as [Buffer, Buffer[]][];
    const fields = first![1];
    expect(fields[1]!.readUInt16LE(6)).toBe(1);
    // Another layout under the same name is refused before anything is read or written.
    for (const [table, partitions] of [
      [new AtomikTable(size, { group: 'xor' }), 3],
      [new AtomikTable(size + 1, { group: 'xor' }), 2],
      [new AtomikTable(size, { group: 'add' }), 2],
    ] as const) {
      await expect(replicate(table, { redis: redis.server.url, name, partitions })).rejects.toMatchObject({ code: 'ERR_ATOMIK_LAYOUT_MISMATCH' });
    }
    await Promise.all([ra.close(), rb.close()]);
  });

  it("a replica writing entryEncoding 'columns' and one writing compact entries share a table", async () => {
    const name = fresh('mixed');
    const [a, b] = [new AtomikTable(1000, { group: 'add' }), new AtomikTable(1000, { group: 'add' })];
    const ra = await replicate(a, { redis: redis.server.url, name, entryEncoding: 'columns' });
    const rb = await replicate(b, { redis: redis.server.url, name });
    for (let i = 0; i < 1000; i += 3) ra.accum(i, 1n);
    for (let i = 0; i < 1000; i += 2) rb.accum(i, -1n);
    await Promise.all([ra.flush(), rb.flush()]);
    await Promise.all([ra.caughtUp(), rb.caughtUp()]);
    const expected = Array.from({ length: 1000 }, (_, i) => BigInt.asUintN(64, (i % 3 === 0 ? 1n : 0n) - (i % 2 === 0 ? 1n : 0n)));
    expect(Array.from(a.states())).toEqual(expected);
    expect(Array.from(b.states())).toEqual(expected);
    const entries = (await redis.admin.xrangeBuffer(`atomik:{${name}:0}:log`, '-', '+')).map(([, fields]) => fields[1]!);
    // Version 1: 48 + 8 * 167 + 8 * 334 bytes; version 2: 1 byte of gap and 1 of zigzag delta (-1 -> 1) per update.
    expect(entries.map((e) => [e[4], e.length]).sort()).toEqual([
      [1, 48 + 8 * 167 + 8 * 334],
      [2, 48 + 500 + 500],
    ]);
    await Promise.all([ra.close(), rb.close()]);
  });

  it('foreign and malformed entries in the stream are skipped with a reported error, never applied', async () => {
    const name = fresh('bad');
    const size = 16;
    const t = new AtomikTable(size, { group: 'add' });
    const r = await replicate(t, { redis: redis.server.url, name });
    const skipped: [string, string][] = [];
    r.on('skipped', (err: ReplicationError, id: string) => skipped.push([err.code, err.message.replace(id, 'ID')]));
    const log = `atomik:{${name}:0}:log`;
    const good = (origin: bigint, counter: bigint, idx: number[], deltas: bigint[], group: Group = 'add', partition = 0) =>
      Buffer.from(encodeLogEntry(group, partition, origin, counter, counter, Uint32Array.from(idx), BigUint64Array.from(deltas)));
    const bad: [string, Buffer | string][] = [];
    const wrongMagic = good(900n, 1n, [1], [5n]);
    wrongMagic[0] = 0x58;
    bad.push(['d', wrongMagic]);
    bad.push(['d', good(900n, 1n, [1], [5n]).subarray(0, 40)]);
    const flipped = good(900n, 1n, [1], [5n]);
    flipped[flipped.length - 1]! ^= 1;
    bad.push(['d', flipped]);
    const v3 = good(900n, 1n, [1], [5n]);
    v3[4] = 3;
    bad.push(['d', v3]);
    bad.push(['d', good(900n, 1n, [1], [5n], 'xor')]);
    bad.push(['d', good(900n, 1n, [1], [5n], 'add', 3)]);
    bad.push(['d', good(900n, 1n, [16], [5n])]);
    bad.push(['x', good(900n, 1n, [1], [5n])]);
    bad.push(['d', 'hello']);
    for (const [field, value] of bad) await redis.admin.xadd(log, '*', field, value);
    await redis.admin.xadd(log, '*', 'd', good(900n, 1n, [1, 2], [5n, 7n]));
    await redis.admin.xadd(log, '*', 'd', good(900n, 1n, [1, 2], [5n, 7n])); // the same batch twice
    // A log written by publishers of both formats (a fleet mid-upgrade): both apply.
    const columns = encodeLogEntry('add', 0, 901n, 1n, 1n, Uint32Array.of(3), BigUint64Array.of(4n), undefined, 'columns');
    expect([columns[4], good(900n, 1n, [1, 2], [5n, 7n])[4]]).toEqual([1, 2]);
    await redis.admin.xadd(log, '*', 'd', Buffer.from(columns));
    await r.caughtUp();
    expect([t.read(1), t.read(2), t.read(3)]).toEqual([5n, 7n, 4n]);
    expect(r.stats.skipped).toBe(9);
    expect(r.stats.duplicates).toBe(1);
    expect(skipped.map(([code]) => code)).toEqual(Array(9).fill('ERR_ATOMIK_BAD_BATCH'));
    expect(skipped.map(([, m]) => m.replace(/^log entry ID of \S+ skipped: /, ''))).toEqual([
      'not a batch entry (magic, flags, partition or length)',
      'not a batch entry (magic, flags, partition or length)',
      'the checksum does not match',
      'a batch format version this library does not read',
      "the batch's group is not the table's",
      'it belongs to partition 3',
      'an index is outside the partition',
      'not a batch entry (magic, flags, partition or length)',
      'not a batch entry (magic, flags, partition or length)',
    ]);
    await r.close();
  });

  it('bad arguments and options are named errors; local changes are validated before anything is applied', async () => {
    const t = new AtomikTable(8, { group: 'add' });
    await expect(replicate(t, { redis: redis.server.url, name: 'has space' })).rejects.toMatchObject({
      code: 'ERR_ATOMIK_INVALID_ARG_VALUE',
      message: expect.stringMatching(/^options.name must be a string of 1-200/),
    });
    await expect(replicate(t, { redis: redis.server.url, name: 'x', partitions: 0 })).rejects.toThrow(/options.partitions must be in \[1, 8\], got 0/);
    await expect(replicate(t, { redis: redis.server.url, name: 'x', flushMs: -1 })).rejects.toThrow(/options.flushMs/);
    await expect(replicate({} as AtomikTable, { redis: redis.server.url, name: 'x' })).rejects.toMatchObject({
      code: 'ERR_ATOMIK_INVALID_ARG_TYPE',
      message: 'table must be an AtomikTable, got object',
    });
    await expect(replicate(t, undefined as never)).rejects.toThrow('options must be an object');
    await expect(replicate(t, { name: 'x' } as never)).rejects.toMatchObject({
      code: 'ERR_ATOMIK_INVALID_ARG_TYPE',
      message: 'options.redis must be a redis:// URL, ioredis options, an ioredis client or Cluster, or a list of cluster nodes, got undefined',
    });
    await expect(replicate(t, { redis: redis.server.url, name: 'x', maxBatch: 1.5 })).rejects.toMatchObject({ code: 'ERR_ATOMIK_INVALID_ARG_TYPE' });
    await expect(replicate(t, { redis: redis.server.url, name: 'x', window: 0 })).rejects.toMatchObject({ code: 'ERR_ATOMIK_OUT_OF_RANGE' });
    await expect(replicate(t, { redis: redis.server.url, name: 'x', entryEncoding: 'packed' as never })).rejects.toMatchObject({
      code: 'ERR_ATOMIK_INVALID_ARG_VALUE',
      message: "options.entryEncoding must be one of 'compact', 'columns', got \"packed\"",
    });
    const r = await replicate(t, { redis: redis.server.url, name: fresh('args') });
    expect(() => r.accum(8, 1n)).toThrow(expect.objectContaining({ code: 'ERR_ATOMIK_INDEX_OUT_OF_RANGE' }));
    expect(() => r.accum(0, 1 as never)).toThrow(expect.objectContaining({ code: 'ERR_ATOMIK_INVALID_ARG_TYPE' }));
    expect(() => r.accumMany(Uint32Array.of(0), BigUint64Array.of(1n, 2n))).toThrow(expect.objectContaining({ code: 'ERR_ATOMIK_LENGTH_MISMATCH' }));
    expect(() => r.accumMany([0] as never, BigUint64Array.of(1n))).toThrow(expect.objectContaining({ code: 'ERR_ATOMIK_INVALID_ARG_TYPE' }));
    expect(() => r.accum(0, -(1n << 63n) - 1n)).toThrow(/delta must be in \[-2\^63, 2\^64\)/);
    expect(() => r.accumMany(Uint32Array.of(0, 9), BigUint64Array.of(1n, 1n))).toThrow(/indices\[1\]/);
    expect(t.read(0)).toBe(0n);
    r.accum(3, -5n);
    expect(r.readSigned(3)).toBe(-5n);
    r.accumMany(Uint32Array.of(3, 3), BigInt64Array.of(-1n, 10n));
    expect(r.readSigned(3)).toBe(4n);
    await r.close();
    expect(() => r.accum(0, 1n)).toThrow(expect.objectContaining({ code: 'ERR_ATOMIK_REPLICA_CLOSED' }));
    await expect(r.flush()).rejects.toMatchObject({ code: 'ERR_ATOMIK_REPLICA_CLOSED' });
    const x = new AtomikTable(8, { group: 'xor' });
    const rx = await replicate(x, { redis: redis.server.url, name: fresh('xor-args') });
    expect(() => rx.accum(0, -1n)).toThrow(/in the 'xor' group/);
    await rx.close();
  });
});

export type { Worker };
