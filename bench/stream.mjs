// Exactly-once receiving of 16-byte DeltaMessages, side by side in one run:
// receive() per message, receiveMany() per batch on the js and native
// engines, and a hand-rolled plain-JS exactly-once loop over the same bytes.
// Workload: 4 senders, 64K contexts (xor), every tenth message duplicated,
// the channel reordered within blocks of 64 messages.
//
//   npm run bench:stream            1M messages; writes bench/results/stream.json
//   npm run bench:stream -- --quick 20K messages, nothing written (CI smoke run)
import { mkdirSync, writeFileSync } from 'node:fs';

import { AtomikTable, DeltaMessage, DeltaStream } from '../dist/index.js';
import { createEngines, machine } from './harness.mjs';

const quick = process.argv.includes('--quick');
const MESSAGES = quick ? 20_000 : 1_000_000;
const CONTEXTS = 65536;
const SENDERS = 4;
const BATCH = 4096;
const REPS = quick ? 3 : 9;
const { engines } = createEngines();

// ---- the wire: unique messages, plus copies, locally reordered ----------------
let seed = 12345;
const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const senders = Array.from({ length: SENDERS }, (_, k) => new DeltaStream({ origin: k + 1, engine: 'js' }));
const reference = new AtomikTable(CONTEXTS, { engine: 'js' });
const frames = [];
for (let i = 0; frames.length < MESSAGES; i++) {
  const addr = Math.floor(rand() * CONTEXTS);
  const delta = (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  const bytes = senders[i % SENDERS].accum(addr, delta).encode();
  reference.accum(addr, delta);
  frames.push(bytes);
  if (i % 10 === 9 && frames.length < MESSAGES) frames.push(bytes);
}
for (let start = 0; start < frames.length; start += 64) {
  for (let i = Math.min(frames.length, start + 64) - 1; i > start; i--) {
    const j = start + Math.floor(rand() * (i - start + 1));
    [frames[i], frames[j]] = [frames[j], frames[i]];
  }
}
const wire = Buffer.concat(frames);
const decoded = frames.map((f) => DeltaMessage.decode(f));
const unique = MESSAGES - Math.floor(MESSAGES / 11);

// ---- variants: setup() is not timed, run() is ----------------------------------
function streamOn(table) {
  return () => new DeltaStream({ table });
}

const tables = Object.fromEntries(engines.map(({ name, engine }) => [name, new AtomikTable(CONTEXTS, { engine })]));
const variants = [];
const per = (make, run) => ({ make, run });

variants.push({
  name: 'receive(msg), js table',
  ...per(streamOn(tables.js), (s) => {
    for (let i = 0; i < decoded.length; i++) s.receive(decoded[i]);
  }),
});
variants.push({
  name: "receive(msg), the stream's own contexts",
  ...per(
    () => new DeltaStream({ engine: 'js' }),
    (s) => {
      for (let i = 0; i < decoded.length; i++) s.receive(decoded[i]);
    },
  ),
});
variants.push({
  name: 'decode + receive(msg), js table',
  ...per(streamOn(tables.js), (s) => {
    for (let i = 0; i < frames.length; i++) s.receive(DeltaMessage.decode(frames[i]));
  }),
});
for (const { name } of engines) {
  variants.push({
    name: `receiveMany(bytes), ${name} table, batches of ${BATCH}`,
    ...per(streamOn(tables[name]), (s) => {
      for (let at = 0; at < wire.length; at += BATCH * 16) s.receiveMany(wire.subarray(at, at + BATCH * 16));
    }),
  });
}

// The baseline: what a user would write by hand over the same bytes: a
// dense seen-flag per (origin, counter), no reordering window, no checks,
// XOR into 32-bit lanes of a plain table.
const baselineAcc = new Uint32Array(CONTEXTS * 2);
variants.push({
  name: 'baseline: plain-JS exactly-once loop',
  make: () => Array.from({ length: SENDERS + 1 }, () => new Uint8Array(MESSAGES + 2)),
  run: (seen) => {
    const view = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
    for (let at = 0; at < wire.length; at += 16) {
      const seq = view.getUint32(at + 12, false);
      const flags = seen[seq >>> 24];
      const c = seq & 0xffffff;
      if (flags[c] !== 0) continue;
      flags[c] = 1;
      const k = view.getUint32(at, false) * 2;
      baselineAcc[k] ^= view.getUint32(at + 8, false);
      baselineAcc[k + 1] ^= view.getUint32(at + 4, false);
    }
  },
});

// ---- check once, then time round-robin ----------------------------------------
for (const v of variants.slice(0, -1)) {
  const fresh = v.name.includes('own contexts')
    ? new DeltaStream({ engine: 'js' })
    : new DeltaStream({ table: new AtomikTable(CONTEXTS, { engine: v.name.includes('native') ? 'native' : 'js' }) });
  v.run(fresh);
  const s = fresh.table ?? fresh;
  for (let i = 0; i < CONTEXTS; i += 997) if (s.read(i) !== reference.read(i)) throw new Error(`${v.name}: context ${i} differs from the reference`);
  if (fresh.gaps().size !== 0) throw new Error(`${v.name}: gaps left`);
}

const samples = variants.map(() => []);
for (let r = 0; r < REPS; r++) {
  variants.forEach((v, k) => {
    const state = v.make();
    const t0 = process.hrtime.bigint();
    v.run(state);
    samples[k].push(Number(process.hrtime.bigint() - t0));
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const nsPerMessage = samples.map((xs) => median(xs) / MESSAGES);
const baseline = nsPerMessage[nsPerMessage.length - 1];

const m = machine();
console.log(
  `DeltaStream exactly-once receiving: ${MESSAGES.toLocaleString('en-US')} messages (${unique.toLocaleString('en-US')} unique) from ${SENDERS} senders into ${CONTEXTS} contexts, median of ${REPS}`,
);
console.log(`${m.cpu}, ${m.cores} cores, ${m.os}, Node ${m.node}\n`);
const rows = variants.map((v, k) => ({
  variant: v.name,
  nsPerMessage: Number(nsPerMessage[k].toFixed(2)),
  vsBaseline: Number((nsPerMessage[k] / baseline).toFixed(2)),
}));
const width = Math.max(...rows.map((r) => r.variant.length));
for (const r of rows)
  console.log(`${r.variant.padEnd(width)}  ${r.nsPerMessage.toFixed(2).padStart(8)} ns/message  ${r.vsBaseline.toFixed(2).padStart(6)}x baseline`);

if (!quick) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/stream.json', import.meta.url),
    JSON.stringify({ machine: m, messages: MESSAGES, unique, senders: SENDERS, contexts: CONTEXTS, batch: BATCH, results: rows }, null, 2) + '\n',
  );
}
