// Benchmarks: the js and native engines side by side in one run, with
// baselines measured by the same harness (plain JS bigint loops, and a plain
// C loop reading the same buffer: the machine's memory-read ceiling).
//
//   npm run bench            full run; writes bench/results/latest.json
//   npm run bench -- --quick small sizes, nothing written (CI smoke run)
import { mkdirSync, writeFileSync } from 'node:fs';

import { AtomikContext, AtomikTable, Fingerprint, open } from '../dist/index.js';
import { createEngines, machine } from './harness.mjs';

const quick = process.argv.includes('--quick');
const { engines, unavailable, baselines } = createEngines();
const results = [];

/** Median wall time of fn over `reps` runs after one warm-up, in seconds. */
function time(fn, reps) {
  fn();
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

/**
 * Median times of several variants measured round-robin (one run of each per
 * round), so that drift in the machine's speed affects them all alike.
 */
function timeSideBySide(fns, reps) {
  fns.forEach((fn) => fn());
  const samples = fns.map(() => []);
  for (let r = 0; r < reps; r++) {
    fns.forEach((fn, k) => {
      const t0 = process.hrtime.bigint();
      fn();
      samples[k].push(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  }
  return samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]);
}

function record(group, name, variant, seconds, items, bytes) {
  const row = { group, name, variant, seconds, itemsPerSecond: items / seconds };
  if (bytes) row.gigabytesPerSecond = bytes / seconds / 1e9;
  results.push(row);
  return row;
}

function fill(n, seed = 1) {
  const out = new BigUint64Array(n);
  const lanes = new Uint32Array(out.buffer);
  let s = seed >>> 0;
  for (let i = 0; i < lanes.length; i++) lanes[i] = s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  return out;
}

function randomIndices(n, size, seed = 7) {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = size === 2 ** 32 ? s : s % size;
  }
  return out;
}

let sink = 0n; // keeps results alive so no loop is optimised away

// ---- scalar: synchronous path vs a plain bigint ^= -------------------------
{
  const n = quick ? 200_000 : 5_000_000;
  const reps = quick ? 3 : 9;
  const pool = Array.from(fill(1024, 3));
  record(
    'scalar',
    `${n.toLocaleString('en')} accum`,
    'plain JS x ^= d on a local (baseline)',
    time(() => {
      let x = 0n;
      for (let i = 0; i < n; i++) x ^= pool[i & 1023];
      sink ^= x;
    }, reps),
    n,
  );
  const state = { x: 0n };
  const baseline = record(
    'scalar',
    `${n.toLocaleString('en')} accum`,
    'plain JS o.x ^= d on an object (baseline)',
    time(() => {
      for (let i = 0; i < n; i++) state.x ^= pool[i & 1023];
      sink ^= state.x;
    }, reps),
    n,
  );
  const ctx = new AtomikContext({ engine: 'js' });
  const sync = record(
    'scalar',
    `${n.toLocaleString('en')} accum`,
    'AtomikContext.accum (sync, both engines)',
    time(() => {
      for (let i = 0; i < n; i++) ctx.accum(pool[i & 1023]);
      sink ^= ctx.read();
    }, reps),
    n,
  );
  sync.vsBaseline = sync.seconds / baseline.seconds;
  const table = new AtomikTable(1024, { engine: 'js' });
  record(
    'scalar',
    `${n.toLocaleString('en')} accum`,
    'AtomikTable.accum(i, d) (sync)',
    time(() => {
      for (let i = 0; i < n; i++) table.accum(i & 1023, pool[i & 1023]);
    }, reps),
    n,
  );
  const acc = await open({ backend: 'js', contexts: 1024 });
  const m = quick ? 20_000 : 500_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < m; i++) await acc.accum(i & 1023, pool[i & 1023]);
  record('scalar', `${m.toLocaleString('en')} accum`, 'await Accumulator.accum (a Promise per op)', Number(process.hrtime.bigint() - t0) / 1e9, m);
}

// ---- reduce many deltas into one context ------------------------------------
for (const n of quick ? [1 << 20] : [1 << 20, 64 << 20]) {
  const label = n === 1 << 20 ? '1M deltas' : '64M deltas';
  const reps = n > 1 << 20 ? 5 : 15;
  const deltas = fill(n, 5);
  const bytes = n * 8;
  const variants = [];
  if (baselines)
    variants.push([
      'memory-read ceiling (plain C loop)',
      () => {
        sink ^= baselines.readSum(deltas);
      },
    ]);
  for (const { name, engine } of engines) {
    for (const group of ['xor', 'add'])
      variants.push([
        `${name} ${group}`,
        () => {
          sink ^= engine.reduce(group, deltas);
        },
      ]);
  }
  const times = timeSideBySide(
    variants.map((v) => v[1]),
    reps,
  );
  const rows = variants.map(([variant], k) => record('reduce', label, variant, times[k], n, bytes));
  const ceiling = baselines ? rows[0] : null;
  if (ceiling) for (const row of rows.slice(1)) row.ofCeiling = ceiling.seconds / row.seconds;
  if (n === 1 << 20) {
    record(
      'reduce',
      label,
      'plain JS bigint loop (baseline)',
      time(() => {
        let x = 0n;
        for (let i = 0; i < n; i++) x ^= deltas[i];
        sink ^= x;
      }, 5),
      n,
      bytes,
    );
  }
}

// ---- table scatter and gather ------------------------------------------------
const find = (group, name, variant) => results.find((r) => r.group === group && r.name === name && r.variant === variant);
for (const size of quick ? [1024, 65536] : [1024, 65536, 16 << 20]) {
  const label = size === 1024 ? '1K contexts' : size === 65536 ? '64K contexts' : '16M contexts';
  const n = quick ? 1 << 18 : 1 << 22;
  const reps = quick ? 3 : 7;
  const idx = randomIndices(n, size, 11);
  const deltas = fill(n, 13);
  const out = new BigUint64Array(n);
  const tables = engines.map(({ name, engine }) => [name, new AtomikTable(size, { engine })]);
  const fns = tables.flatMap(([, t]) => [() => t.scatter(idx, deltas), () => t.gather(idx, out)]);
  // The plain C loop over the same arrays (no checks), for native scatter's share of it.
  const plain = new BigUint64Array(size);
  if (baselines) fns.push(() => baselines.scatter(false, plain, idx, deltas));
  const times = timeSideBySide(fns, reps);
  tables.forEach(([name], k) => {
    record('scatter', label, name, times[2 * k], n);
    record('gather', label, name, times[2 * k + 1], n);
  });
  if (baselines) {
    const loop = record('scatter', label, 'plain C loop (baseline)', times[fns.length - 1], n);
    const native = find('scatter', label, 'native');
    if (native) native.ofPlainLoop = loop.seconds / native.seconds;
  }
  if (size === 65536) {
    const t = new AtomikTable(size, { engine: 'js' });
    const m = n >> 2;
    record(
      'scatter',
      label,
      'plain JS bigint loop (baseline)',
      time(() => {
        for (let k = 0; k < m; k++) t.accum(idx[k], deltas[k]);
      }, 3),
      m,
    );
  }
}

// ---- fingerprint of 1 MiB ------------------------------------------------------
{
  const data = new Uint8Array(fill(1 << 17, 17).buffer);
  for (const { name, engine } of engines) {
    for (const mode of ['xor-fold', 'positional']) {
      const f = new Fingerprint({ mode, engine });
      record(
        'fingerprint',
        '1 MiB',
        `${name} ${mode}`,
        time(
          () => {
            sink ^= f.compute(data);
          },
          quick ? 5 : 25,
        ),
        data.length,
        data.length,
      );
    }
  }
}

// ---- report ----------------------------------------------------------------------
/** How many times faster a is than b, per item. */
const ratio = (a, b) => (a && b ? a.itemsPerSecond / b.itemsPerSecond : null);
const local = results.find((r) => r.variant.startsWith('plain JS x ^= d on a local'));
const summary = {
  'scalar sync accum time vs plain JS o.x ^= d (target <= 1.2)': results.find((r) => r.vsBaseline)?.vsBaseline ?? null,
  'scalar sync accum time vs plain JS x ^= d on a local': local ? local.itemsPerSecond / results.find((r) => r.vsBaseline).itemsPerSecond : null,
  'native reduce 64M xor, fraction of memory-read ceiling (target >= 0.70)': find('reduce', '64M deltas', 'native xor')?.ofCeiling ?? null,
  'native reduce 1M xor vs js': ratio(find('reduce', '1M deltas', 'native xor'), find('reduce', '1M deltas', 'js xor')),
  'native scatter 64K vs js engine (target >= 10)': ratio(find('scatter', '64K contexts', 'native'), find('scatter', '64K contexts', 'js')),
  'native scatter 64K vs plain JS bigint loop': ratio(
    find('scatter', '64K contexts', 'native'),
    find('scatter', '64K contexts', 'plain JS bigint loop (baseline)'),
  ),
  'native scatter 1K, share of the plain C loop (target >= 0.90)': find('scatter', '1K contexts', 'native')?.ofPlainLoop ?? null,
  'native scatter 64K, share of the plain C loop (target >= 0.90)': find('scatter', '64K contexts', 'native')?.ofPlainLoop ?? null,
  'native scatter 16M, share of the plain C loop (target >= 0.90)': find('scatter', '16M contexts', 'native')?.ofPlainLoop ?? null,
  'native gather 64K vs js engine': ratio(find('gather', '64K contexts', 'native'), find('gather', '64K contexts', 'js')),
  'native positional fingerprint vs js': ratio(find('fingerprint', '1 MiB', 'native positional'), find('fingerprint', '1 MiB', 'js positional')),
};

const fmt = (v, digits = 2) => (v === null || v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(digits));
console.log(`machine: ${machine().cpu} (${machine().cores} cores, ${machine().memoryGiB} GiB), ${machine().os}, node ${process.version}`);
console.log(`engines: ${engines.map((e) => e.name).join(', ')}${unavailable ? ` (native unavailable: ${unavailable})` : ''}\n`);
console.log('| group | size | variant | time | M items/s | GB/s | note |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  const t = r.seconds < 1e-3 ? `${fmt(r.seconds * 1e6)} µs` : `${fmt(r.seconds * 1e3)} ms`;
  const note = r.ofCeiling
    ? `${fmt(r.ofCeiling * 100, 0)}% of ceiling`
    : r.ofPlainLoop
      ? `${fmt(r.ofPlainLoop * 100, 0)}% of the plain C loop`
      : r.vsBaseline
        ? `${fmt(r.vsBaseline)}x baseline time`
        : '';
  console.log(`| ${r.group} | ${r.name} | ${r.variant} | ${t} | ${fmt(r.itemsPerSecond / 1e6)} | ${fmt(r.gigabytesPerSecond)} | ${note} |`);
}
console.log('\nsummary:');
for (const [k, v] of Object.entries(summary)) console.log(`  ${k}: ${fmt(v)}`);

if (!quick) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL('./results/latest.json', import.meta.url);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: machine(), summary, results }, null, 2) + '\n');
  console.log(`\nwritten: bench/results/latest.json`);
}
if (sink === 0x5a5a5a5an) console.log(''); // consumes sink
