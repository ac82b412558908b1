// The rtl board (our Verilog under Verilator) on the official dialect:
// how fast the simulation moves A commands against the real line they
// model, at 115200 baud (234 clocks a bit from 27 MHz, as on the board)
// and at 3 Mbaud (9 clocks a bit). The design takes bytes back to back
// with no gaps, so in simulated time it always runs at exactly the line
// rate; what this measures is how the simulation keeps up in wall time.
//
//   npm run bench:rtl            writes bench/results/rtl.json
//   npm run bench:rtl -- --quick fewer commands, nothing written
import { writeFileSync } from 'node:fs';
import { open } from '../dist/index.js';
import { startBoard } from '../dist/board.js';
import { machine } from './harness.mjs';

const quick = process.argv.includes('--quick');
const rows = [];
for (const baud of [115_200, 3_000_000]) {
  const board = await startBoard({ board: 'rtl', legacy: true, baud }); // builds on first use
  // A generous timeout: on a busy machine the simulation can fall behind the line it models.
  const acc = await open({ backend: 'serial', port: board.port, lock: false, baudRate: baud, timeoutMs: 10_000 });
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
  const ceiling = baud / 10 / 9;
  rows.push({ baud, clocksPerBit: Math.round(27e6 / baud), commands: n, seconds: s, accumPerS: n / s, lineCeiling: ceiling, ofLine: n / s / ceiling });
  await acc.close();
  await board.stop();
}
const m = machine();
console.log(`machine: ${m.cpu} (${m.cores} cores), ${m.os}, node ${m.node}\n`);
console.log('| line | clocks a bit | A commands | accum/s (wall time) | the real line carries | simulation vs line |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.baud.toLocaleString('en')} baud | ${r.clocksPerBit} | ${r.commands.toLocaleString('en')} | ${Math.round(r.accumPerS).toLocaleString('en')} | ${Math.round(r.lineCeiling).toLocaleString('en')} | ${r.ofLine.toFixed(2)}x |`,
  );
}
if (!quick) {
  writeFileSync(new URL('./results/rtl.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), machine: m, rows }, null, 2) + '\n');
  console.log('\nwritten: bench/results/rtl.json');
}
