// The designs a Redis user builds without atomik-node, for bench/replication.mjs.
// Every one coalesces: a writer adds its increments per counter into a local
// array and every `FLUSH_MS` (or when idle) sends one change per touched counter.
//   hincrby-coalesced   pipelined HINCRBY into one hash; replicas poll HGETALL
//   lua-coalesced       one EVALSHA per 4,096 changes running HINCRBY; replicas poll HGETALL
//   bitfield-coalesced  BITFIELD INCRBY i64 on one string; replicas poll GET into a typed array
//   lua-hash-stream     EVALSHA: HINCRBY into per-partition hashes (65,536 fields each) and
//                       XADD the packed changes to a change stream in the same script;
//                       replicas read the stream (works at any table size)
//   xadd-stream         XADD of the packed changes only; replicas read the stream
//                       (no state of record in Redis, no exactly-once: the fastest
//                       possible shape of the stream design, as a ceiling)
// The poll designs read the whole table, so they run at 65,536 counters only.
import { setImmediate as tick } from 'node:timers/promises';
import { Redis } from 'ioredis';

const FLUSH_MS = 10;
const POLL_MS = 10;
const BATCH = 4096;
const WINDOW = 16;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Packs changes as (u32 index, f64 delta) pairs, 12 bytes each. */
function pack(idx, deltas, from, to) {
  const out = Buffer.allocUnsafe(12 * (to - from));
  for (let i = from; i < to; i++) {
    out.writeUInt32LE(idx[i], 12 * (i - from));
    out.writeDoubleLE(deltas[i], 12 * (i - from) + 4);
  }
  return out;
}

/**
 * The writer loop shared by every coalesced design: it runs the workload,
 * sends coalesced changes through `send`, stamps probes, and ends once every
 * process has published and `finish` says its view is complete.
 */
async function coalescedWriter(cfg, io) {
  const { updates, idx, ready, probe, now, n, probes } = cfg;
  const size = n + probes;
  const counts = new Float64Array(size);
  let dirty = new Uint32Array(1024);
  let dirtyCount = 0;
  const add = (i, d) => {
    if (counts[i] === 0) {
      if (dirtyCount === dirty.length) {
        const grown = new Uint32Array(dirty.length * 2);
        grown.set(dirty);
        dirty = grown;
      }
      dirty[dirtyCount++] = i;
    }
    counts[i] += d;
  };
  const inflight = [];
  let bytes = 0;
  let sent = 0;
  const flush = async () => {
    if (dirtyCount === 0) return;
    const ix = dirty.slice(0, dirtyCount);
    const ds = new Float64Array(dirtyCount);
    for (let j = 0; j < dirtyCount; j++) {
      ds[j] = counts[ix[j]];
      counts[ix[j]] = 0;
    }
    dirtyCount = 0;
    sent += ix.length;
    for (let from = 0; from < ix.length; from += BATCH) {
      const to = Math.min(ix.length, from + BATCH);
      const p = io.send(ix, ds, from, to);
      bytes += 12 * (to - from);
      inflight.push(p);
      if (inflight.length >= WINDOW) await inflight.shift();
    }
  };
  let last = 0;
  const stamp = (i, clock) => {
    const v = Number(clock);
    add(i, v - last);
    last = v;
  };
  await ready('start');
  io.start();
  const t0 = now();
  let flushed = t0;
  for (let off = 0; off < updates; off += BATCH) {
    const end = Math.min(updates, off + BATCH);
    for (let i = off; i < end; i++) add(idx[i], 1);
    probe.stamp(stamp);
    if (now() - flushed >= FLUSH_MS) {
      flushed = now();
      await flush();
    }
    await tick();
  }
  await flush();
  await Promise.all(inflight);
  await io.end();
  const published = now();
  await ready('published');
  await io.finish();
  const done = now();
  const states = io.states(n);
  await io.close();
  return { t0, published, done, ages: probe.ages, states, bytes, entries: sent, local: updates };
}

/** A replica that polls the whole table every POLL_MS; `read` fetches it, `view` answers reads. */
function pollingReplica(cfg, fetch) {
  const { probe } = cfg;
  let view = { read: () => 0 };
  let stopped = false;
  let loop = null;
  const poll = async () => {
    view = await fetch();
    probe.observe((i) => view.read(i));
  };
  return {
    start() {
      loop = (async () => {
        while (!stopped) {
          await poll();
          await sleep(POLL_MS);
        }
      })();
    },
    async end() {},
    async finish() {
      stopped = true;
      await loop;
      await poll(); // every process has published: one last read holds everything
    },
    states(n) {
      return Array.from({ length: n }, (_, i) => view.read(i));
    },
  };
}

function hashView(flat) {
  const values = new Map();
  for (let j = 0; j < flat.length; j += 2) values.set(Number(flat[j]), Number(flat[j + 1]));
  return { read: (i) => values.get(i) ?? 0 };
}

const HINCRBY_SCRIPT = `for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end return 0`;
// ARGV[1] origin, ARGV[2] packed changes, then index/delta pairs; hash per 65,536 counters.
const HASH_STREAM_SCRIPT = `
for i = 3, #ARGV, 2 do
  local c = tonumber(ARGV[i])
  redis.call('HINCRBY', KEYS[1] .. ':' .. math.floor(c / 65536), c % 65536, ARGV[i + 1])
end
return redis.call('XADD', KEYS[2], '*', 'o', ARGV[1], 'd', ARGV[2])`;

/** A replica that keeps the table locally from a change stream of packed changes. */
function streamReplica(cfg, log) {
  const { k, replicas, url, probe, n, probes } = cfg;
  const table = new Float64Array(n + probes);
  const reader = new Redis(url);
  let position = '0-0';
  let ended = 0;
  let stopped = false;
  let loop = null;
  const drain = async () => {
    const res = await reader.xreadBuffer('COUNT', 64, 'BLOCK', 50, 'STREAMS', log, position);
    if (!res) return;
    for (const [id, fields] of res[0][1]) {
      position = id.toString();
      if (Number(fields[1].toString()) === k) continue; // own change: already in the table
      if (fields[2].toString() === 'end') {
        ended++;
        continue;
      }
      const data = fields[3];
      for (let at = 0; at < data.length; at += 12) table[data.readUInt32LE(at)] += data.readDoubleLE(at + 4);
    }
    probe.observe((i) => table[i]);
  };
  return {
    table,
    start() {
      loop = (async () => {
        while (!stopped && ended < replicas - 1) await drain();
      })();
    },
    async finish() {
      await loop;
      stopped = true;
    },
    states(size) {
      return Array.from(table.subarray(0, size));
    },
    async close() {
      reader.disconnect();
    },
  };
}

function streamDesign(cfg, log, sendChanges) {
  const { k } = cfg;
  const replica = streamReplica(cfg, log);
  // The local updates go straight into the local table, as replicate() does.
  const local = async (ix, ds, from, to) => {
    for (let i = from; i < to; i++) replica.table[ix[i]] += ds[i];
    await sendChanges(ix, ds, from, to);
  };
  return {
    ...replica,
    send: local,
    async end() {
      await cfg.admin.xadd(log, '*', 'o', String(k), 'end', '1');
    },
  };
}

export const nativeVariants = {
  async 'hincrby-coalesced'(cfg) {
    const r = new Redis(cfg.url);
    const hash = `${cfg.name}:counts`;
    const replica = pollingReplica(cfg, async () => hashView(await r.call('HGETALL', hash)));
    return coalescedWriter(cfg, {
      ...replica,
      send(ix, ds, from, to) {
        const p = r.pipeline();
        for (let i = from; i < to; i++) p.hincrby(hash, String(ix[i]), ds[i]);
        return p.exec();
      },
      close: async () => r.disconnect(),
    });
  },

  async 'lua-coalesced'(cfg) {
    const r = new Redis(cfg.url);
    r.defineCommand('coalesced', { numberOfKeys: 1, lua: HINCRBY_SCRIPT });
    const hash = `${cfg.name}:counts`;
    const replica = pollingReplica(cfg, async () => hashView(await r.call('HGETALL', hash)));
    return coalescedWriter(cfg, {
      ...replica,
      send(ix, ds, from, to) {
        const args = new Array(2 * (to - from));
        for (let i = from; i < to; i++) {
          args[2 * (i - from)] = ix[i];
          args[2 * (i - from) + 1] = ds[i];
        }
        return r.coalesced(hash, ...args);
      },
      close: async () => r.disconnect(),
    });
  },

  async 'bitfield-coalesced'(cfg) {
    const r = new Redis(cfg.url);
    const key = `${cfg.name}:words`;
    const replica = pollingReplica(cfg, async () => {
      const buf = (await r.getBuffer(key)) ?? Buffer.alloc(0);
      return { read: (i) => (8 * i + 8 <= buf.length ? Number(buf.readBigInt64BE(8 * i)) : 0) };
    });
    return coalescedWriter(cfg, {
      ...replica,
      send(ix, ds, from, to) {
        const args = ['OVERFLOW', 'WRAP'];
        for (let i = from; i < to; i++) args.push('INCRBY', 'i64', `#${ix[i]}`, ds[i]);
        return r.call('BITFIELD', key, ...args);
      },
      close: async () => r.disconnect(),
    });
  },

  async 'lua-hash-stream'(cfg) {
    const r = new Redis(cfg.url);
    r.defineCommand('hashStream', { numberOfKeys: 2, lua: HASH_STREAM_SCRIPT });
    const log = `${cfg.name}:changes`;
    const design = streamDesign(cfg, log, (ix, ds, from, to) => {
      const args = [String(cfg.k), pack(ix, ds, from, to)];
      for (let i = from; i < to; i++) args.push(ix[i], ds[i]);
      return r.hashStream(`${cfg.name}:h`, log, ...args);
    });
    const close = design.close;
    return coalescedWriter(cfg, { ...design, close: async () => (await close(), r.disconnect()) });
  },

  async 'xadd-stream'(cfg) {
    const r = new Redis(cfg.url);
    const log = `${cfg.name}:changes`;
    const design = streamDesign(cfg, log, (ix, ds, from, to) => r.xaddBuffer(log, '*', 'o', String(cfg.k), 'd', pack(ix, ds, from, to)));
    const close = design.close;
    return coalescedWriter(cfg, { ...design, close: async () => (await close(), r.disconnect()) });
  },
};
