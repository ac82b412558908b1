// Replication through one local redis-server: R processes on this machine
// each make U counter updates (+1 to a key) and end holding everyone's.
// Side by side in one run, same Redis, same workloads:
//   atomik      replicate(): coalesced batches in compact entries (version 2), native apply
//   atomik-columns  the same with entryEncoding 'columns' (version 1 entries, 12 bytes an update)
//   stream      the per-message path: DeltaStream's 16-byte messages (4,096 per XADD), receive() one by one
//   yjs         Yjs updates in the stream: one Y.Map of per-replica counts (key/replica -> n, a G-counter), one transaction per 4,096 updates
//   hincrby     the Redis-native way: pipelined HINCRBY from every process, HGETALL to read
//   hincrby-coalesced, lua-coalesced, bitfield-coalesced, lua-hash-stream, xadd-stream:
//               what a Redis user builds with coalescing (bench/replication-native.mjs)
// Workloads: uniform and Zipf(1.1) over 64K keys; atomik and the stream designs
// also over 16,777,216 keys (not in --quick).
// Also: applying one received batch (4,086 updates into 64K contexts) on
// each engine, beside a plain JS loop over the same columns.
//   npm run bench:replication [-- --quick]   writes bench/results/replication.json and replication.svg (not in quick mode)
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setImmediate as tick } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { AtomikTable, DeltaMessage, DeltaStream, replicate } from '../dist/index.js';
import { encodeLogEntry } from '../dist/replicate.js';
import { startRedisServer } from '../dist/testing.js';
import { createEngines, machine, rng } from './harness.mjs';
import { renderReplicationChart } from './chart.mjs';
import { nativeVariants } from './replication-native.mjs';

const require = createRequire(import.meta.url);
const KEYS = 65536;
const PROBES = 3; // contexts after the keys: replica k stamps KEYS + k with its clock, others read it
const CHUNK = 4096;
const now = () => performance.timeOrigin + performance.now();

// ---- workloads ---------------------------------------------------------------

/** The keys process `k` updates, in order. */
function keys(workload, k, count, n = KEYS) {
  const random = rng(0x9e3779b1 * (k + 1) + (workload === 'zipf' ? 7 : 0));
  const out = new Uint32Array(count);
  if (workload === 'uniform') {
    for (let i = 0; i < count; i++) out[i] = Math.floor(random() * n);
    return out;
  }
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) cdf[r] = total += 1 / (r + 1) ** 1.1;
  for (let i = 0; i < count; i++) {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
}

// ---- one process of one variant ------------------------------------------------

async function child(cfg) {
  const { variant, workload, k, replicas, updates, url, name, n } = cfg;
  const idx = keys(workload, k, updates, n);
  const admin = new Redis(url);
  const ready = async (stage) => {
    await admin.incr(`${name}:${stage}`);
    while (Number(await admin.get(`${name}:${stage}`)) < replicas) await new Promise((r) => setTimeout(r, 1));
  };
  const probe = probes(n, k, replicas);
  const run = variants[variant] ?? nativeVariants[variant];
  const { states, ...result } = await run({ ...cfg, idx, admin, ready, probe, now, probes: PROBES });
  admin.disconnect();
  // Only a digest of the states crosses the pipe: 16M of them would not.
  process.stdout.write(JSON.stringify({ ...result, digest: digest(states, n) }) + '\n', () => process.exit(0));
}

/** An order-free digest of the first n states (the sum, and a sum of mixed index/value pairs). */
function digest(states, n) {
  let sum = 0;
  let mixed = 0;
  for (let i = 0; i < n; i++) {
    const v = Number(states[i]);
    if (v === 0) continue;
    sum += v;
    mixed = (mixed + (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(v, 0x85ebca6b))) >>> 0;
  }
  return `${sum}/${mixed}`;
}

/**
 * Visibility probes: every 10 ms a replica stamps its probe context (after the
 * n counters) with its clock; the others note the age of what they read.
 */
function probes(n, k, replicas) {
  const seen = new Array(replicas).fill(0);
  const ages = [];
  let next = 0;
  const probe = {
    ages,
    stamp(stamp) {
      const t = now();
      if (t >= next) {
        stamp(n + k, BigInt(Math.round(t * 1000)));
        next = t + 10;
      }
    },
    observe(read) {
      const t = now();
      for (let j = 0; j < replicas; j++) {
        if (j === k) continue;
        const v = Number(read(n + j)) / 1000;
        if (v > seen[j]) {
          if (seen[j] !== 0) ages.push(t - v);
          seen[j] = v;
        }
      }
    },
    step(stamp, read) {
      probe.stamp(stamp);
      probe.observe(read);
    },
  };
  return probe;
}

/** The measured span in the CPU profile's clock (microseconds of the monotonic clock), for bench/profile-summary.mjs. */
function profileWindow(cfg, t0, done) {
  const mono = Number(process.hrtime.bigint() / 1000n) - (now() - t0) * 1000;
  const file = `${process.env.ATOMIK_BENCH_PROFILE}/${profileName(cfg)}.window.json`;
  writeFileSync(file, JSON.stringify({ start: mono, end: mono + (done - t0) * 1000 }));
}

function profileName(cfg) {
  return `${cfg.variant}${cfg.rate ? '-paced' : ''}-${cfg.workload}-${cfg.n}-${cfg.k}`;
}

const variants = {
  'atomik-columns': (cfg) => variants.atomik(cfg),
  async atomik(cfg) {
    const { updates, url, name, idx, ready, rate, probe, n } = cfg;
    const table = new AtomikTable(n + PROBES, { group: 'add' });
    const replica = await replicate(table, { redis: url, name, entryEncoding: cfg.variant === 'atomik-columns' ? 'columns' : 'compact' });
    const read = (i) => table.read(i);
    let last = 0n;
    const stamp = (i, v) => {
      replica.accum(i, BigInt.asUintN(64, v - last));
      last = v;
    };
    await ready('start');
    const t0 = now();
    // Paced runs work in chunks of about a millisecond, so probes are read that often.
    const chunk = rate ? Math.max(64, Math.round(rate / 1000)) : CHUNK;
    for (let off = 0; off < updates; off += chunk) {
      const end = Math.min(updates, off + chunk);
      for (let i = off; i < end; i++) replica.accum(idx[i], 1n);
      probe.step(stamp, read);
      // Paced runs wait for the next chunk's time; unpaced ones only yield.
      const due = rate ? t0 + (end / rate) * 1000 : 0;
      if (due > now()) await new Promise((r) => setTimeout(r, due - now()));
      else await tick();
    }
    await replica.flush();
    const published = now();
    await ready('published');
    // Keep probing while the others finish, so visibility is measured under load.
    await replica.caughtUp();
    const done = now();
    if (process.env.ATOMIK_BENCH_PROFILE) profileWindow(cfg, t0, done);
    const states = table.states().subarray(0, n);
    const s = replica.stats;
    await replica.close();
    return {
      t0,
      published,
      done,
      ages: probe.ages,
      states,
      bytes: s.publishedBytes,
      entries: s.publishedUpdates,
      local: s.localUpdates,
    };
  },

  async stream({ k, replicas, updates, url, name, idx, admin, ready }) {
    const sender = new DeltaStream({ group: 'add', origin: k + 1 });
    const receiver = new DeltaStream({ group: 'add' });
    const log = `${name}:log`;
    const reader = new Redis(url);
    let position = '0-0';
    let received = 0;
    const expected = updates * (replicas - 1);
    let bytes = 0;
    const drain = async (block) => {
      const res = await reader.xreadBuffer('COUNT', 64, ...(block ? ['BLOCK', 50] : []), 'STREAMS', log, position);
      if (!res) return;
      for (const [id, fields] of res[0][1]) {
        position = id.toString();
        const data = fields[1];
        if (data.readUInt8(0) === k) continue; // own entry (first byte: origin)
        for (let at = 1; at < data.length; at += 16) {
          receiver.receive(DeltaMessage.decode(data.subarray(at, at + 16)));
          received++;
        }
      }
    };
    await ready('start');
    const t0 = now();
    const pending = [];
    for (let off = 0; off < updates; off += CHUNK) {
      const end = Math.min(updates, off + CHUNK);
      const out = Buffer.alloc(1 + 16 * (end - off));
      out[0] = k;
      for (let i = off; i < end; i++) {
        out.set(sender.accum(idx[i], 1n).encode(), 1 + 16 * (i - off)); // no outbox: the message is sent here
        receiver.apply(new DeltaMessage(idx[i], 1n)); // the local update, in the replica's own state
      }
      bytes += out.length;
      pending.push(admin.xaddBuffer(log, '*', 'd', out));
      if (pending.length >= 16) await pending.shift();
      await drain(false);
    }
    await Promise.all(pending);
    const published = now();
    while (received < expected) await drain(true);
    const done = now();
    reader.disconnect();
    const states = Array.from({ length: KEYS }, (_, i) => receiver.read(i));
    return { t0, published, done, ages: [], states, bytes, entries: updates, local: updates };
  },

  async yjs({ k, replicas, updates, url, name, idx, admin, ready }) {
    const Y = require('yjs');
    const doc = new Y.Doc();
    doc.clientID = k + 1;
    // Each replica writes only its own entries (key/replica), so concurrent writers never conflict.
    const counts = doc.getMap('counts');
    const log = `${name}:log`;
    const reader = new Redis(url);
    let position = '0-0';
    let outgoing = [];
    let bytes = 0;
    doc.on('update', (update, origin) => {
      if (origin !== 'remote') outgoing.push(update);
    });
    let remoteOps = 0;
    const expected = updates * (replicas - 1);
    const drain = async (block) => {
      const res = await reader.xreadBuffer('COUNT', 64, ...(block ? ['BLOCK', 50] : []), 'STREAMS', log, position);
      if (!res) return;
      for (const [id, fields] of res[0][1]) {
        position = id.toString();
        if (fields[1].toString() === String(k)) continue;
        Y.applyUpdate(doc, fields[3], 'remote');
        remoteOps += Number(fields[5].toString());
      }
    };
    await ready('start');
    const t0 = now();
    const me = String(k);
    for (let off = 0; off < updates; off += CHUNK) {
      const end = Math.min(updates, off + CHUNK);
      doc.transact(() => {
        for (let i = off; i < end; i++) {
          const key = `${idx[i]}/${me}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      });
      for (const u of outgoing) {
        bytes += u.length;
        await admin.xaddBuffer(log, '*', 'from', me, 'u', Buffer.from(u), 'ops', String(end - off));
      }
      outgoing = [];
      await drain(false);
    }
    const published = now();
    while (remoteOps < expected) await drain(true);
    const done = now();
    reader.disconnect();
    const states = new Array(KEYS).fill(0);
    counts.forEach((v, key) => (states[Number(key.split('/')[0])] += v));
    return { t0, published, done, ages: [], states, bytes, entries: updates, local: updates };
  },

  async hincrby({ updates, url, name, idx, ready }) {
    const r = new Redis(url);
    const hash = `${name}:counts`;
    await ready('start');
    const t0 = now();
    const inflight = [];
    for (let off = 0; off < updates; off += 1000) {
      const p = r.pipeline();
      for (let i = off; i < Math.min(updates, off + 1000); i++) p.hincrby(hash, String(idx[i]), 1);
      inflight.push(p.exec());
      if (inflight.length >= 16) await inflight.shift();
    }
    await Promise.all(inflight);
    const published = now();
    await ready('published');
    const all = await r.hgetall(hash);
    const done = now();
    r.disconnect();
    const states = new Array(KEYS).fill(0);
    for (const [key, v] of Object.entries(all)) states[Number(key)] = Number(v);
    return { t0, published, done, ages: [], states, bytes: null, entries: updates, local: updates };
  },
};

// ---- the parent: one run per (workload, variant) ----------------------------------

function runChild(cfg) {
  return new Promise((resolve, reject) => {
    // ATOMIK_BENCH_PROFILE=<dir>: every process writes a V8 CPU profile there (see bench/profile-summary.mjs).
    const profile = process.env.ATOMIK_BENCH_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ATOMIK_BENCH_PROFILE}`, `--cpu-prof-name=${profileName(cfg)}.cpuprofile`]
      : [];
    const p = spawn(process.execPath, [...profile, fileURLToPath(import.meta.url), '--child', JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${cfg.variant} replica ${cfg.k} exited with ${code}`))));
  });
}

async function runVariant(server, admin, variant, workload, replicas, updates, rate = 0, n = KEYS) {
  const name = `bench-${variant}-${workload}-${Date.now()}`;
  const results = await Promise.all(
    Array.from({ length: replicas }, (_, k) => runChild({ variant, workload, k, replicas, updates, url: server.url, name, rate, n })),
  );
  const expected = new Float64Array(n);
  for (let k = 0; k < replicas; k++) for (const i of keys(workload, k, updates, n)) expected[i]++;
  const want = digest(expected, n);
  const exact = results.every((r) => r.digest === want);
  const t0 = Math.min(...results.map((r) => r.t0));
  const total = updates * replicas;
  const perReplica = results.map((r) => total / ((r.done - t0) / 1000));
  const ages = results.flatMap((r) => r.ages).sort((a, b) => a - b);
  const bytes = results.reduce((a, r) => a + (r.bytes ?? 0), 0);
  const entries = results.reduce((a, r) => a + r.entries, 0);
  const memory = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))[1]);
  return {
    variant: rate ? `${variant} paced at ${rate / 1e6} M/s` : variant,
    workload,
    counters: n,
    replicas,
    pacedUpdatesPerSecond: rate || null,
    updatesPerReplica: updates,
    exact,
    updatesPerSecondPerReplica: Math.min(...perReplica),
    bytesPerUpdate: results[0].bytes === null ? null : bytes / total,
    bytesPerEntry: results[0].bytes === null ? null : bytes / entries,
    visibilityP50Ms: percentile(ages, 0.5),
    visibilityP99Ms: percentile(ages, 0.99),
    probes: ages.length,
    redisUsedMemory: memory,
  };
}

/** Applying one received entry of 4,086 updates into 64K contexts, per engine, beside a plain loop. */
function applyMicro(quick) {
  const n = 4086;
  const random = rng(99);
  const picked = new Set();
  while (picked.size < n) picked.add(Math.floor(random() * KEYS));
  const idx = Uint32Array.from(picked).sort(); // distinct and ascending, as the publisher cuts them
  const deltas = BigUint64Array.from({ length: n }, () => 1n);
  const entries = ['columns', 'compact'].map((encoding) => {
    const entry = Buffer.from(encodeLogEntry('add', 0, 1n, 1n, 1n, idx, deltas, undefined, encoding));
    const unalignedEntry = Buffer.alloc(entry.length + 3).subarray(3);
    entry.copy(unalignedEntry);
    return { label: encoding === 'columns' ? 'version 1 columns' : 'version 2 compact', entry, unalignedEntry };
  });
  const rounds = quick ? 2000 : 20000;
  const rows = [];
  const time = (label, fn) => {
    for (let i = 0; i < 200; i++) fn();
    const t = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    const s = (performance.now() - t) / 1000;
    rows.push({ label, updatesPerSecond: (rounds * n) / s });
  };
  const ref = new BigUint64Array(KEYS);
  const acc = new BigUint64Array(KEYS);
  const { engines } = createEngines();
  for (let pass = 0; pass < 2; pass++) {
    rows.length = 0;
    for (const { name, engine } of engines) {
      for (const { label, entry, unalignedEntry } of entries) {
        time(`${name} engine applyBatch, ${label} (aligned entry)`, () => engine.applyBatch('add', ref, acc, 0, entry));
        time(`${name} engine applyBatch, ${label} (at an odd offset, as Redis clients hand it out)`, () =>
          engine.applyBatch('add', ref, acc, 0, unalignedEntry),
        );
      }
    }
    // The baseline: a plain JS loop over already-decoded columns, no checks.
    time('plain JS loop over the columns (no checksum, no checks)', () => {
      for (let i = 0; i < n; i++) acc[idx[i]] += deltas[i];
    });
  }
  return rows;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const replicas = 3;
  const server = await startRedisServer({ fsync: 'everysec' });
  const admin = new Redis(server.url);
  // Updates per writer process, per variant; the Redis-native designs are the coalesced ones.
  const sizes = quick
    ? { atomik: 300_000, stream: 100_000, yjs: 5_000, hincrby: 20_000, coalesced: 40_000, huge: 100_000 }
    : { atomik: 6_000_000, stream: 1_000_000, yjs: 40_000, hincrby: 200_000, coalesced: 1_000_000, huge: 1_000_000 };
  const NATIVE_SMALL = ['hincrby-coalesced', 'lua-coalesced', 'bitfield-coalesced', 'lua-hash-stream', 'xadd-stream'];
  const NATIVE_HUGE = ['lua-hash-stream', 'xadd-stream'];
  const HUGE = 16_777_216;
  const runs = [];
  function report(r) {
    runs.push(r);
    const f = (v, d = 1) => (v === null ? '-' : v.toFixed(d));
    console.log(
      `${r.workload.padEnd(8)} ${String(r.counters).padStart(8)} ${r.variant.padEnd(24)} ${(r.updatesPerSecondPerReplica / 1e6).toFixed(3).padStart(8)} M updates/s per replica  ` +
        `${f(r.bytesPerUpdate, 2).padStart(6)} B/update  ${f(r.bytesPerEntry, 2).padStart(6)} B/entry  ` +
        `visibility p50 ${f(r.visibilityP50Ms)} ms p99 ${f(r.visibilityP99Ms)} ms  ${r.exact ? 'exact' : 'NOT EXACT'}`,
    );
    if (!r.exact) process.exitCode = 1;
  }
  // --only=a,b runs just those variants, --updates=N makes each writer do N (for profiling one design).
  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',');
  const run = async (variant, workload, updates, rate = 0, n = KEYS) => {
    if (only && !only.includes(variant)) return;
    const fixed = process.argv.find((a) => a.startsWith('--updates='));
    if (fixed && !rate) updates = Number(fixed.slice(10));
    await admin.config('RESETSTAT');
    const r = await runVariant(server, admin, variant, workload, replicas, updates, rate, n);
    // Where Redis spent its time: microseconds per command kind over the run.
    r.redisCommands = Object.fromEntries(
      [...(await admin.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)].map(([, c, calls, usec]) => [
        c,
        { calls: Number(calls), usec: Number(usec) },
      ]),
    );
    if (only) console.log(JSON.stringify(r.redisCommands));
    await admin.flushall();
    report(r);
  };
  try {
    for (const workload of ['uniform', 'zipf']) {
      for (const variant of ['atomik', 'atomik-columns', 'stream', 'yjs', 'hincrby'])
        await run(variant, workload, sizes[variant === 'atomik-columns' ? 'atomik' : variant]);
      // --quick stays a short smoke test: one poll design and the two stream designs, on the uniform workload.
      const natives = quick ? ['bitfield-coalesced', 'lua-hash-stream', 'xadd-stream'] : NATIVE_SMALL;
      if (!quick || workload === 'uniform') for (const variant of natives) await run(variant, workload, sizes.coalesced);
      // Visibility below saturation: the same replicas paced at a fixed rate each.
      const paced = quick ? 500_000 : 1_000_000;
      await run('atomik', workload, paced * (quick ? 1 : 3), paced);
      // 16,777,216 counters: only designs that never read the whole table (not in --quick).
      if (!quick && !process.argv.includes('--small'))
        for (const variant of ['atomik', 'atomik-columns', ...NATIVE_HUGE]) await run(variant, workload, sizes.huge, 0, HUGE);
    }
  } finally {
    admin.disconnect();
    await server.dispose();
  }
  const ratios = {};
  for (const workload of ['uniform', 'zipf']) {
    ratios[workload] = {};
    for (const n of [KEYS, HUGE]) {
      const at = runs.filter((r) => r.workload === workload && r.counters === n && !r.pacedUpdatesPerSecond);
      const ours = at.find((r) => r.variant === 'atomik');
      const natives = at.filter((r) => nativeVariants[r.variant] || r.variant === 'hincrby');
      if (!ours || natives.length === 0) continue;
      const strongest = natives.reduce((a, r) => (r.updatesPerSecondPerReplica > a.updatesPerSecondPerReplica ? r : a));
      const rate = (v) => at.find((r) => r.variant === v)?.updatesPerSecondPerReplica;
      const row = { strongest: strongest.variant, vsStrongest: ours.updatesPerSecondPerReplica / strongest.updatesPerSecondPerReplica };
      for (const r of at) if (r !== ours) row[`vs ${r.variant}`] = ours.updatesPerSecondPerReplica / rate(r.variant);
      ratios[workload][n] = row;
      console.log(
        `${workload}, ${n} counters: atomik is ${row.vsStrongest.toFixed(2)}x the strongest Redis-native design (${strongest.variant}); ` +
          Object.entries(row)
            .filter(([key]) => key.startsWith('vs '))
            .map(([key, v]) => `${v.toFixed(v < 10 ? 2 : 0)}x ${key.slice(3)}`)
            .join(', '),
      );
    }
  }
  const apply = applyMicro(quick);
  for (const row of apply) console.log(`apply one entry: ${row.label}: ${(row.updatesPerSecond / 1e6).toFixed(0)} M updates/s`);
  const doc = {
    date: new Date().toISOString(),
    machine: machine(),
    quick,
    replicas,
    redis: 'redis-server 7 (Debian), appendonly yes, appendfsync everysec, loopback',
    runs,
    ratios,
    apply,
  };
  if (!quick) {
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./results/replication.json', import.meta.url), JSON.stringify(doc, null, 2) + '\n');
    writeFileSync(new URL('./results/replication.svg', import.meta.url), renderReplicationChart(doc));
  }
}

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await main();
