// The rtl board (our Verilog under Verilator), on the official dialect and
// on the framed protocol: how fast the simulation moves accumulates
// against the real line they model, at 115200 baud (234 clocks a bit from
// 27 MHz, as on the board) and at 3 Mbaud (9 clocks a bit). The official
// design takes bytes back to back, so in simulated time it runs at the
// line rate; the framed design's runs of deltas (ACCUM_RUN, 8 bytes a
// delta plus frame overhead) at nearly the line rate. What this measures
// is how the simulation keeps up in wall time.
//
//   npm run bench:rtl            writes bench/results/rtl.json
//   npm run bench:rtl -- --quick fewer commands, nothing written
import { writeFileSync } from 'node:fs';
import { open } from '../dist/index.js';
import { startBoard } from '../dist/board.js';
import { machine } from './harness.mjs';

const quick = process.argv.includes('--quick');
const rows = [];
for (const [design, baud] of [
  ['legacy', 115_200],
  ['legacy', 3_000_000],
  ['framed', 115_200],
  ['framed', 3_000_000],
]) {
  const legacy = design === 'legacy';
  const board = await startBoard({ board: 'rtl', legacy, baud }); // builds on first use
  // A generous timeout: on a busy machine the simulation can fall behind the line it models. The framed
  // client derives its timeouts from the line rate, so it is told a line 8 times slower than the board's.
  const acc = await open({ backend: 'serial', port: board.port, lock: false, baudRate: legacy ? baud : baud / 8, timeoutMs: 10_000 });
  const n = quick ? 500 : baud > 1e6 ? 100_000 : 10_000;
  const deltas = BigUint64Array.from({ length: n }, (_, i) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n) % (1n << 64n));
  await acc.load(0, 0n);
  const t0 = performance.now();
  await acc.accumMany(0, deltas);
  const state = await acc.read(0); // answers once every A has been taken
  const s = (performance.now() - t0) / 1000;
  let want = 0n;
  for (const d of deltas) want ^= d;
  if (state !== want) throw new Error(`the rtl board holds ${state}, expected ${want}`);
  // Bytes a delta on the line: an A and 8 bytes; framed, 8 bytes of a run (frames of many deltas).
  const ceiling = baud / 10 / (legacy ? 9 : 8);
  rows.push({ design, baud, clocksPerBit: Math.round(27e6 / baud), commands: n, seconds: s, accumPerS: n / s, lineCeiling: ceiling, ofLine: n / s / ceiling });
  await acc.close();
  await board.stop();
}
const m = machine();
console.log(`machine: ${m.cpu} (${m.cores} cores), ${m.os}, node ${m.node}\n`);
console.log('| design | line | clocks a bit | deltas | accum/s (wall time) | the real line carries at most | simulation vs line |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.design} | ${r.baud.toLocaleString('en')} baud | ${r.clocksPerBit} | ${r.commands.toLocaleString('en')} | ${Math.round(r.accumPerS).toLocaleString('en')} | ${Math.round(r.lineCeiling).toLocaleString('en')} | ${r.ofLine.toFixed(2)}x |`,
  );
}
if (!quick) {
  writeFileSync(new URL('./results/rtl.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), machine: m, rows }, null, 2) + '\n');
  console.log('\nwritten: bench/results/rtl.json');
}
