// ATOMiK against CRDT libraries on two scenarios, a counter and a register: N replicas (3, 16,
// 128) share 10,000 updates to one counter and one register, then converge
// through a hub: every update goes to the hub (measured one by one), then
// the hub sends its full state back to every replica.
//
// Libraries: atomik-node (js and native engines), @automerge/automerge
// (Counter, LWW field), yjs (Y.Map: a per-replica G-counter, an LWW key),
// delta-crdts (pncounter, lwwreg; deltas serialised with v8.serialize, as it
// has no wire format of its own).
//
//   npm run bench:crdt [-- --quick]   writes bench/results/crdt.json and crdt.svg (not in quick mode)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { AtomikContext, DeltaMessage, packSeq } from '../dist/index.js';
import { machine } from './harness.mjs';
import { renderChart } from './chart.mjs';

const require = createRequire(import.meta.url);
const A = require('@automerge/automerge');
const Y = require('yjs');
const CRDT = require('delta-crdts');

const quick = process.argv.includes('--quick');
const UPDATES = quick ? 1000 : 10_000;
const REPLICAS = quick ? [3, 16] : [3, 16, 128];
const MINUS_ONE = (1n << 64n) - 1n;
const gc = globalThis.gc ?? (() => {});

/** Update k of the scenario: a counter step (+1, or -1 every fifth) or a register write. */
const step = (k) => (k % 5 === 4 ? -1 : 1);
const written = (k) => 1000 + k;

// ---- adapters: one replica set per (library, scenario, N) -------------------------

function atomik(engineName) {
  const engine = engineName;
  return (kind, n) => {
    const group = kind === 'counter' ? 'add' : 'xor';
    const make = () => ({ ctx: new AtomikContext({ group, engine }) });
    const replicas = Array.from({ length: n }, make);
    const hub = make();
    return {
      update(r, k) {
        const rep = replicas[r];
        const delta = kind === 'counter' ? (step(k) > 0 ? 1n : MINUS_ONE) : BigInt(written(k)) ^ rep.ctx.read();
        rep.ctx.accum(delta);
        return new DeltaMessage(0, delta, 0, packSeq(r % 256, 1 + Math.floor(k / n))).encode();
      },
      apply(bytes) {
        hub.ctx.accum(DeltaMessage.decode(bytes).delta);
      },
      /** The hub decodes a whole batch into one array and accumulates it with one engine call. */
      applyBatch(messages) {
        const deltas = new BigUint64Array(messages.length);
        messages.forEach((m, i) => (deltas[i] = new DataView(m.buffer, m.byteOffset).getBigUint64(4)));
        hub.ctx.accumMany(deltas);
      },
      snapshot() {
        const out = new Uint8Array(8);
        new DataView(out.buffer).setBigUint64(0, hub.ctx.read());
        return out;
      },
      sync(r, bytes) {
        replicas[r].ctx.load(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0));
      },
      value: (r) => String((r === 'hub' ? hub : replicas[r]).ctx.read()),
      stateBytes: () => 16,
    };
  };
}

function automerge(kind, n) {
  const base = A.from(kind === 'counter' ? { c: new A.Counter(0) } : { r: 0 });
  const replicas = Array.from({ length: n }, () => A.clone(base));
  let hub = A.clone(base);
  return {
    update(r, k) {
      replicas[r] = A.change(replicas[r], (d) => (kind === 'counter' ? d.c.increment(step(k)) : (d.r = written(k))));
      return A.getLastLocalChange(replicas[r]);
    },
    apply(bytes) {
      [hub] = A.applyChanges(hub, [bytes]);
    },
    snapshot: () => A.save(hub),
    sync(r, bytes) {
      replicas[r] = A.merge(replicas[r], A.load(bytes));
    },
    value: (r) => String(kind === 'counter' ? (r === 'hub' ? hub : replicas[r]).c.value : (r === 'hub' ? hub : replicas[r]).r),
    stateBytes: () => A.save(hub).length,
  };
}

function yjs(kind, n) {
  const doc = (id) => {
    const d = new Y.Doc();
    d.clientID = id + 1;
    return d;
  };
  const replicas = Array.from({ length: n }, (_, r) => doc(r));
  const hub = doc(100_000);
  const counts = new Array(n).fill(0);
  const value = (d) => {
    const m = d.getMap('m');
    if (kind === 'register') return String(m.get('r') ?? 0);
    let total = 0;
    for (const [, v] of m) total += v; // a G-counter per replica, summed
    return String(total);
  };
  return {
    update(r, k) {
      let out;
      const listener = (u) => (out = u);
      replicas[r].on('update', listener);
      const m = replicas[r].getMap('m');
      if (kind === 'counter') m.set(String(r), (counts[r] += step(k)));
      else m.set('r', written(k));
      replicas[r].off('update', listener);
      return out;
    },
    apply(bytes) {
      Y.applyUpdate(hub, bytes);
    },
    snapshot: () => Y.encodeStateAsUpdate(hub),
    sync(r, bytes) {
      Y.applyUpdate(replicas[r], bytes);
    },
    value: (r) => value(r === 'hub' ? hub : replicas[r]),
    stateBytes: () => Y.encodeStateAsUpdate(hub).length,
  };
}

function deltaCrdts(kind, n) {
  const type = CRDT(kind === 'counter' ? 'pncounter' : 'lwwreg');
  const replicas = Array.from({ length: n }, (_, r) => type(`r${r}`));
  const hub = type('hub');
  return {
    update(r, k) {
      const delta = kind === 'counter' ? (step(k) > 0 ? replicas[r].inc() : replicas[r].dec()) : replicas[r].write(k + 1, written(k));
      return v8.serialize(delta);
    },
    apply(bytes) {
      hub.apply(v8.deserialize(bytes));
    },
    snapshot: () => v8.serialize(hub.state()),
    sync(r, bytes) {
      replicas[r].apply(v8.deserialize(bytes));
    },
    value: (r) => String((r === 'hub' ? hub : replicas[r]).value()),
    stateBytes: () => v8.serialize(hub.state()).length,
  };
}

function nativeAvailable() {
  try {
    new AtomikContext({ engine: 'native' });
    return true;
  } catch {
    return false;
  }
}

const libraries = [['atomik (js)', atomik('js')]];
if (nativeAvailable()) libraries.push(['atomik (native)', atomik('native')]);
libraries.push(['automerge', automerge], ['yjs', yjs], ['delta-crdts', deltaCrdts]);

// ---- the scenario -------------------------------------------------------------------

function run(name, adapter, kind, n, updates = UPDATES) {
  gc();
  const lib = adapter(kind, n);
  const messages = [];
  for (let k = 0; k < updates; k++) messages.push(lib.update(k % n, k)); // replica k mod n does update k
  const wire = messages.reduce((b, m) => b + m.length, 0);

  // The hub takes the updates in arrival order, one call each (timed one by one).
  const applyTimes = [];
  const history = [];
  const t0 = performance.now();
  messages.forEach((m, i) => {
    const s = performance.now();
    lib.apply(m);
    applyTimes.push(performance.now() - s);
    if ((i + 1) % (updates / 4) === 0) history.push({ updates: i + 1, stateBytes: lib.stateBytes() });
  });
  const hubDone = performance.now();
  const snapshot = lib.snapshot();
  for (let r = 0; r < n; r++) lib.sync(r, snapshot);
  const converged = performance.now();

  const hubValue = lib.value('hub');
  const agree = Array.from({ length: n }, (_, r) => lib.value(r)).every((v) => v === hubValue);
  let batchMs = null;
  if (lib.applyBatch) {
    const again = adapter(kind, n);
    const msgs = [];
    for (let k = 0; k < updates; k++) msgs.push(again.update(k % n, k));
    const s = performance.now();
    again.applyBatch(msgs);
    batchMs = performance.now() - s;
  }
  applyTimes.sort((a, b) => a - b);
  return {
    library: name,
    scenario: kind,
    replicas: n,
    updates: updates,
    medianApplyUs: applyTimes[applyTimes.length >> 1] * 1000,
    hubApplyMs: hubDone - t0,
    convergeMs: converged - t0,
    batchApplyMs: batchMs,
    bytesPerUpdate: wire / updates,
    bytesPerFullSync: snapshot.length,
    history,
    value: hubValue,
    agree,
  };
}

/**
 * Memory as history grows, in a fresh process per library so that nothing
 * else lives in its heap: the hub's heap plus external memory (wasm, buffers)
 * after a full GC, at each quarter of the updates, above what it used before
 * the first update.
 */
function memoryGrowth(name, adapter, kind, n) {
  const lib = adapter(kind, n);
  const messages = [];
  for (let k = 0; k < UPDATES; k++) messages.push(lib.update(k % n, k));
  const used = () => {
    gc(); // twice: the first may leave objects that only the second can free
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const base = used();
  const samples = [];
  messages.forEach((m, i) => {
    lib.apply(m);
    if ((i + 1) % (UPDATES / 4) === 0) samples.push({ updates: i + 1, bytes: used() - base });
  });
  return samples;
}

const child = process.argv.indexOf('--memory');
if (child >= 0) {
  const [index, kind, n] = process.argv.slice(child + 1, child + 4);
  const [name, adapter] = libraries[Number(index)];
  console.log(JSON.stringify(memoryGrowth(name, adapter, kind, Number(n))));
  process.exit(0);
}

/** Runs memoryGrowth in a child process (node --expose-gc). */
function measureMemory(index, kind, n) {
  const args = ['--expose-gc', fileURLToPath(import.meta.url), '--memory', String(index), kind, String(n)];
  if (quick) args.push('--quick');
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

// Warm up every library (JIT, wasm) on a small run that is not reported.
for (const [name, adapter] of libraries) for (const kind of ['counter', 'register']) run(name, adapter, kind, 3, 1000);

const results = [];
for (const kind of ['counter', 'register']) {
  for (const n of REPLICAS) {
    for (const [name, adapter] of libraries) {
      const r = run(name, adapter, kind, n);
      results.push(r);
      process.stderr.write(`${kind} n=${n} ${name}: ${r.convergeMs.toFixed(1)} ms\n`);
    }
  }
}
const MEMORY_N = 16;
const memory = [];
for (const kind of ['counter', 'register']) {
  libraries.forEach(([name], index) => memory.push({ library: name, scenario: kind, replicas: MEMORY_N, samples: measureMemory(index, kind, MEMORY_N) }));
}

// ---- report -------------------------------------------------------------------------------

const fmt = (v, d = 1) => (v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(d));
const m = machine();
console.log(`machine: ${m.cpu} (${m.cores} cores), ${m.os}, node ${m.node}; ${UPDATES.toLocaleString('en')} updates per scenario\n`);
console.log(
  '| scenario | N | library | median apply (µs) | hub apply + full sync (ms) | bytes / update | bytes / full sync | state after 10k | replicas agree | value |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.scenario} | ${r.replicas} | ${r.library} | ${fmt(r.medianApplyUs, 2)} | ${fmt(r.convergeMs)}${r.batchApplyMs !== null ? ` (batched: ${fmt(r.batchApplyMs, 2)})` : ''} | ${fmt(r.bytesPerUpdate)} | ${r.bytesPerFullSync.toLocaleString('en')} | ${r.history.at(-1).stateBytes.toLocaleString('en')} B | ${r.agree ? 'yes' : 'NO'} | ${r.value} |`,
  );
}

const largest = REPLICAS.at(-1);
console.log(`\nencoded state of the hub as history grows (counter, N=${largest}; bytes after each quarter of the updates):`);
for (const r of results.filter((x) => x.scenario === 'counter' && x.replicas === largest)) {
  console.log(`  ${r.library.padEnd(16)} ${r.history.map((h) => h.stateBytes.toLocaleString('en').padStart(8)).join(' ')}`);
}

console.log(`\nhub memory (heap + external after GC) above its start, N=${MEMORY_N}, after each quarter of the updates`);
console.log('(V8 itself moves these figures by about +-150 KiB: smaller changes are noise):');
for (const r of memory) {
  console.log(`  ${r.scenario.padEnd(8)} ${r.library.padEnd(16)} ${r.samples.map((x) => `${fmt(x.bytes / 1024)} KiB`.padStart(12)).join(' ')}`);
}

console.log('\nratios (library / atomik; higher means atomik is ahead):');
const ratios = [];
for (const r of results.filter((x) => !x.library.startsWith('atomik'))) {
  for (const base of results.filter((x) => x.library.startsWith('atomik') && x.scenario === r.scenario && x.replicas === r.replicas)) {
    const row = {
      library: r.library,
      versus: base.library,
      scenario: r.scenario,
      replicas: r.replicas,
      medianApply: r.medianApplyUs / base.medianApplyUs,
      converge: r.convergeMs / base.convergeMs,
      bytesPerUpdate: r.bytesPerUpdate / base.bytesPerUpdate,
      bytesPerFullSync: r.bytesPerFullSync / base.bytesPerFullSync,
    };
    ratios.push(row);
    console.log(
      `  ${r.scenario} N=${r.replicas} ${r.library} vs ${base.library}: apply ${fmt(row.medianApply)}x, converge ${fmt(row.converge)}x, bytes/update ${fmt(row.bytesPerUpdate)}x, full sync ${fmt(row.bytesPerFullSync)}x`,
    );
  }
}
if (!quick) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const doc = { date: new Date().toISOString(), machine: m, updates: UPDATES, results, memory, ratios };
  writeFileSync(new URL('./results/crdt.json', import.meta.url), JSON.stringify(doc, null, 2) + '\n');
  writeFileSync(new URL('./results/crdt.svg', import.meta.url), renderChart(doc));
  console.log('\nwritten: bench/results/crdt.json, bench/results/crdt.svg');
}
