// Log entries of version 1 (columns, 12 bytes an update) against version 2
// (compact varints), side by side in one run:
//   - bytes per update on the benchmark workloads, entries cut as the
//     publisher cuts them (4,086 distinct contexts, updates to one context
//     combined), and what bit-packing each column at its widest value in
//     the entry would take instead (the alternative to varints);
//   - applying one entry, per engine and version;
//   - Redis's time inside the publish script per entry (INFO commandstats).
//   node bench/compact-entries.mjs [--quick]
import { Redis } from 'ioredis';
import { encodeLogEntry } from '../dist/replicate.js';
import { readFileSync } from 'node:fs';
import { startRedisServer } from '../dist/testing.js';
import { createEngines, machine, rng } from './harness.mjs';

const quick = process.argv.includes('--quick');
// The publish script as replicate() sends it (its one definition is lib/replicate/scripts.ts).
const PUBLISH_SCRIPT_SOURCE = /export const PUBLISH_SCRIPT = `([^`]*)`/.exec(readFileSync(new URL('../lib/replicate/scripts.ts', import.meta.url), 'utf8'))[1];
const MAX_BATCH = 4086;

/** A generator of keys: uniform, or Zipf(1.1) by inverse CDF. */
function keySource(kind, n, seed) {
  const random = rng(seed);
  if (kind === 'uniform') return () => Math.floor(random() * n);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) cdf[r] = total += 1 / (r + 1) ** 1.1;
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Entries as the publisher cuts them under load: updates combined per context until 4,086 contexts wait. */
function* entries(kind, n, words, count) {
  const next = keySource(kind, n, 17 + n);
  const random = rng(5);
  let pending = new Map();
  for (let i = 0; i < count; i++) {
    const k = next();
    const d = words ? (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)) : 1n;
    const had = pending.get(k);
    pending.set(k, had === undefined ? d : words ? had ^ d : had + d);
    if (pending.size === MAX_BATCH) {
      yield pending;
      pending = new Map();
    }
  }
}

const bits = (v) => (v === 0n ? 0 : v.toString(2).length);
const zigzag = (d) => (d >> 63n ? ((~d & (2n ** 64n - 1n)) << 1n) | 1n : d << 1n) & (2n ** 64n - 1n);

function bytesPerUpdate(kind, n, words) {
  const group = words ? 'xor' : 'add';
  const total = { updates: 0, columns: 0, compact: 0, packed: 0 };
  for (const pending of entries(kind, n, words, quick ? 200_000 : 2_000_000)) {
    const idx = Uint32Array.from(pending.keys()).sort();
    const deltas = BigUint64Array.from(idx, (k) => pending.get(k));
    total.updates += idx.length;
    total.columns += encodeLogEntry(group, 0, 1n, 1n, 1n, idx, deltas, undefined, 'columns').length;
    total.compact += encodeLogEntry(group, 0, 1n, 1n, 1n, idx, deltas).length;
    // Bit-packed alternative: a width byte per column, every value at the widest width.
    let gapBits = 0;
    let deltaBits = 0;
    for (let i = 0; i < idx.length; i++) {
      gapBits = Math.max(gapBits, bits(BigInt(idx[i] - (i ? idx[i - 1] : 0))));
      deltaBits = Math.max(deltaBits, bits(words ? deltas[i] : zigzag(deltas[i])));
    }
    total.packed += 48 + 2 + Math.ceil((idx.length * gapBits) / 8) + Math.ceil((idx.length * deltaBits) / 8);
  }
  const per = (b) => b / total.updates;
  return {
    workload: `${words ? 'random words (xor)' : '+1 (add)'}, ${kind} over ${n}`,
    columns: per(total.columns),
    compact: per(total.compact),
    bitPacked: per(total.packed),
  };
}

/** One entry of the +1 uniform workload over 65,536 counters, as each version. */
function sampleEntry(n) {
  const pending = entries('uniform', n, false, 1e9).next().value;
  const idx = Uint32Array.from(pending.keys()).sort();
  const deltas = BigUint64Array.from(idx, (k) => pending.get(k));
  return {
    idx,
    deltas,
    columns: Buffer.from(encodeLogEntry('add', 0, 1n, 1n, 1n, idx, deltas, undefined, 'columns')),
    compact: Buffer.from(encodeLogEntry('add', 0, 1n, 1n, 1n, idx, deltas)),
  };
}

function applyRates(sample) {
  const n = sample.idx.length;
  const rounds = quick ? 2000 : 20000;
  const { engines } = createEngines();
  const acc = new BigUint64Array(65536);
  const ref = new BigUint64Array(65536);
  const rows = [];
  const time = (label, fn) => {
    for (let i = 0; i < 200; i++) fn();
    const t = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    rows.push({ label, updatesPerSecond: (rounds * n) / ((performance.now() - t) / 1000) });
  };
  // Interleaved, twice: the second pass is reported (the first warms up).
  for (let pass = 0; pass < 2; pass++) {
    rows.length = 0;
    for (const { name, engine } of engines) {
      for (const version of ['columns', 'compact']) {
        const entry = sample[version];
        time(`${name} applyBatch, ${version === 'columns' ? 'version 1 (columns)' : 'version 2 (compact)'}`, () => {
          if (engine.applyBatch('add', ref, acc, 0, entry) !== 0) throw new Error('entry refused');
        });
      }
    }
  }
  return rows;
}

/** Microseconds Redis spends per publish (EVALSHA of the publish script) and per plain XADD of the same bytes. */
async function luaCost(sample) {
  const server = await startRedisServer({ fsync: 'everysec' });
  const redis = new Redis(server.url);
  try {
    const sha = await redis.script('LOAD', PUBLISH_SCRIPT_SOURCE);
    const calls = quick ? 2000 : 20000;
    const rows = [];
    for (let pass = 0; pass < 2; pass++) {
      rows.length = 0;
      for (const version of ['columns', 'compact']) {
        const entry = sample[version];
        await redis.flushall();
        await redis.config('RESETSTAT');
        const pipe = [];
        for (let c = 1; c <= calls; c++) {
          pipe.push(redis.evalsha(sha, 2, '{t}:log', '{t}:heads', '1', String(c - 1), String(c), entry));
          if (pipe.length === 64) await Promise.all(pipe.splice(0));
          if (c % 1000 === 0) await redis.xtrim('{t}:log', 'MAXLEN', 0);
        }
        await Promise.all(pipe);
        for (let c = 1; c <= calls; c++) {
          pipe.push(redis.xadd('{t}:plain', '*', 'd', entry));
          if (pipe.length === 64) await Promise.all(pipe.splice(0));
          if (c % 1000 === 0) await redis.xtrim('{t}:plain', 'MAXLEN', 0);
        }
        await Promise.all(pipe);
        const stats = Object.fromEntries(
          [...(await redis.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)].map(([, c, n, usec]) => [c, Number(usec) / Number(n)]),
        );
        rows.push({ version, entryBytes: entry.length, usecPerPublish: stats.evalsha, usecPerPlainXadd: stats.xadd });
      }
    }
    return rows;
  } finally {
    redis.disconnect();
    await server.dispose();
  }
}

const sizes = [];
for (const n of [65536, 16_777_216]) for (const kind of ['uniform', 'zipf']) for (const words of [false, true]) sizes.push(bytesPerUpdate(kind, n, words));
console.log(JSON.stringify({ date: new Date().toISOString(), machine: machine(), quick }));
console.log('bytes per update (header included): version 1 | version 2 | bit-packed alternative');
for (const r of sizes)
  console.log(`  ${r.workload.padEnd(44)} ${r.columns.toFixed(2).padStart(6)} ${r.compact.toFixed(2).padStart(6)} ${r.bitPacked.toFixed(2).padStart(6)}`);
const sample = sampleEntry(65536);
console.log(
  `one entry, +1 uniform over 65,536: ${sample.idx.length} updates, ${sample.columns.length} bytes as version 1, ${sample.compact.length} as version 2`,
);
for (const r of applyRates(sample)) console.log(`  ${r.label.padEnd(40)} ${(r.updatesPerSecond / 1e6).toFixed(0).padStart(5)} M updates/s`);
for (const r of await luaCost(sample))
  console.log(
    `  redis: ${r.version.padEnd(8)} ${String(r.entryBytes).padStart(6)} B  publish script ${r.usecPerPublish.toFixed(1)} µs/entry, plain XADD ${r.usecPerPlainXadd.toFixed(1)} µs`,
  );
