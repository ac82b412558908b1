// A tour of atomik-node on the best engine this machine has: `npm start`.
import { AtomikContext, AtomikTable, DeltaMessage, Fingerprint, open } from '../dist/index.js';

const hex = (v) => '0x' + v.toString(16).padStart(16, '0');

const acc = await open({ contexts: 1024 });
console.log(`engine: ${acc.info.backend} (${acc.info.reason})`);
for (const [name, why] of Object.entries(acc.info.rejected)) console.log(`  not ${name}: ${why}`);

// 1. One context: state = reference XOR accumulator, deltas in any order.
const ctx = new AtomikContext();
ctx.load(0xcafen);
for (const d of [0x0fn, 0xf0n, 0x100n]) ctx.accum(d);
console.log(`\ncontext: load 0xcafe, accum 0x0f 0xf0 0x100 -> ${hex(ctx.read())}`);
ctx.rollback(0x100n);
console.log(`         rollback 0x100                   -> ${hex(ctx.read())}`);
console.log(`         swap() returns ${hex(ctx.swap())}, new reference ${hex(ctx.reference)}`);

// 2. Counters: XOR cannot count (+1 twice is 0); the 'add' group can.
const xorCounter = new AtomikContext({ group: 'xor' });
const addCounter = new AtomikContext({ group: 'add' });
for (let i = 0; i < 5; i++) {
  xorCounter.accum(1n);
  addCounter.accum(1n);
}
console.log(`\ncounter: five +1 -> xor group ${xorCounter.read()}, add group ${addCounter.read()}`);
addCounter.rollback(1n);
console.log(`         rollback one +1 in the add group -> ${addCounter.read()}`);

// 3. A table of contexts, updated with one batch call (scatter) and read with another (gather).
const n = 1_000_000;
const indices = new Uint32Array(n);
const deltas = new BigUint64Array(n);
const lanes = new Uint32Array(deltas.buffer); // fill the 64-bit deltas 32 bits at a time
let seed = 1;
for (let i = 0; i < 2 * n; i++) lanes[i] = seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
for (let i = 0; i < n; i++) indices[i] = lanes[2 * i] % 1024;
const started = process.hrtime.bigint();
await acc.scatter(indices, deltas);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
const firstFour = await acc.gather(new Uint32Array([0, 1, 2, 3]));
console.log(`\ntable: ${n.toLocaleString('en')} deltas scattered over 1024 contexts in ${ms.toFixed(1)} ms`);
console.log(`       contexts 0..3: ${[...firstFour].map(hex).join(' ')}`);
const batch = await acc.batch([
  { op: 'load', index: 7, value: 40n },
  { op: 'accum', index: 7, delta: 2n },
  { op: 'read', index: 7 },
  { op: 'status', index: 7 },
]);
console.log(`       batch [load 40, accum 2, read, status] on context 7 -> [${batch.map(String).join(', ')}]`);

// 4. The reference 16-byte wire form of a delta.
const msg = new DeltaMessage(7, 0xdeadbeefn, 0, 1);
console.log(`\nmessage: addr 7, delta 0xdeadbeef, seq 1 -> ${Buffer.from(msg.encode()).toString('hex')}`);

// 5. Fingerprints: the reference fold misses swapped chunks; the positional mode does not.
const data = Buffer.from('first 8bsecond8b');
const swapped = Buffer.concat([data.subarray(8), data.subarray(0, 8)]);
for (const mode of ['xor-fold', 'positional']) {
  const fp = new Fingerprint({ mode });
  fp.load(data);
  fp.update(swapped);
  console.log(`fingerprint ${mode.padEnd(10)}: swapped halves detected? ${fp.changed}`);
}

// Synchronous access for in-process engines: the same contexts, no promises.
const table = acc.table ?? new AtomikTable(1024);
console.log(`\nsync read of context 7: ${table.read(7)}`);
await acc.close();
