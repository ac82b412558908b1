// Serial benchmarks on the virtual boards:
//  - official dialect on the host board paced at 115200 baud: accumulates
//    per second against the line-rate ceiling (11,520 bytes/s / 9 bytes per A);
//  - framed dialect paced at 115200: useful delta bytes per line byte for
//    batches of 1, 16 and 256 deltas, and the measured delta rate;
//  - unpaced over the PTY: round-trip latency (median, p99) and pipelined
//    operations per second, host board and Cortex-M3 board (QEMU);
//  - through the fault-injecting line: accumulates awaited one by one and
//    issued all at once, on a clean line and with 0.05% and 0.2% of bytes
//    each dropped, duplicated and bit-flipped, side by side in one run,
//    unpaced and at 115200; every state is checked.
//
//   npm run bench:serial            writes bench/results/serial.json
//   npm run bench:serial -- --quick fewer operations, nothing written
//   npm run bench:serial -- --faults-only   the fault-line table alone, nothing written
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { open } from '../dist/index.js';
import { startBoard, startFaultLine } from '../dist/board.js';
import { machine } from './harness.mjs';

const quick = process.argv.includes('--quick');
/** Only the fault-line comparison (it is what protocol changes move). */
const faultsOnly = process.argv.includes('--faults-only');
const BAUD = 115200;
const LINE_BYTES_PER_S = BAUD / 10;
const FRAME_OVERHEAD = 11;
const rows = [];
const have = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const seconds = (t0) => (performance.now() - t0) / 1000;
const deltas = (n) => BigUint64Array.from({ length: n }, (_, i) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n) % (1n << 64n));

// ---- official dialect at line rate -------------------------------------------------
if (!faultsOnly) {
  const board = await startBoard({ legacy: true, baud: BAUD });
  const acc = await open({ backend: 'serial', port: board.port, lock: false, baudRate: BAUD });
  const n = quick ? 300 : 3000;
  await acc.load(0, 0n);
  const t0 = performance.now();
  await acc.accumMany(0, deltas(n)); // A commands streamed back to back
  await acc.read(0); // returns once the board has taken every A (and 'R' + 8 reply bytes)
  const s = seconds(t0) - 9 / LINE_BYTES_PER_S; // the read's own 9 bytes on the line
  const ceiling = LINE_BYTES_PER_S / 9;
  rows.push({ bench: 'official dialect, host board at 115200', what: `${n} A commands`, value: n / s, unit: 'accum/s', ceiling, ofCeiling: n / s / ceiling });
  await acc.close();
  await board.stop();
}

// ---- framed dialect at line rate ------------------------------------------------------
if (!faultsOnly) {
  const board = await startBoard({ baud: BAUD });
  const acc = await open({ backend: 'serial', port: board.port, lock: false, baudRate: BAUD });
  const cases = [
    { batch: 1, calls: 'one call at a time, each awaited', frames: quick ? 20 : 200, concurrent: false },
    { batch: 1, calls: 'concurrent calls, packed into frames by the client', frames: quick ? 50 : 1000, concurrent: true },
    { batch: 16, calls: 'accumMany', frames: quick ? 4 : 40, concurrent: true },
    { batch: 256, calls: 'accumMany', frames: quick ? 2 : 8, concurrent: true },
  ];
  for (const { batch, calls, frames, concurrent } of cases) {
    // One delta alone is an ACCUM op; a batch is one ACCUM_RUN.
    const lineBytes = FRAME_OVERHEAD + (batch === 1 ? 11 : 5 + 8 * batch);
    const data = deltas(batch);
    await acc.read(0);
    const t0 = performance.now();
    const pending = [];
    for (let f = 0; f < frames; f++) {
      const call = batch === 1 ? acc.accum(0, data[0]) : acc.accumMany(0, data);
      if (concurrent) pending.push(call);
      else await call;
    }
    await Promise.all(pending);
    const s = seconds(t0);
    rows.push({
      bench: 'framed dialect, host board at 115200',
      what: `batches of ${batch} (${calls})`,
      value: (frames * batch) / s,
      unit: 'deltas/s',
      ceiling: LINE_BYTES_PER_S / 8,
      ofCeiling: (frames * batch) / s / (LINE_BYTES_PER_S / 8),
      usefulBytesPerLineByte: concurrent && batch === 1 ? undefined : (8 * batch) / lineBytes,
    });
  }
  await acc.close();
  await board.stop();
}

// ---- unpaced: latency and pipelined rate ----------------------------------------------
const boards = faultsOnly ? [] : [['host board', { board: 'host' }]];
if (!faultsOnly && have('qemu-system-arm') && have('arm-none-eabi-gcc') && have('socat')) boards.push(['Cortex-M3 board (QEMU)', { board: 'cortex-m3' }]);
for (const [name, options] of boards) {
  const board = await startBoard(options);
  const acc = await open({ backend: 'serial', port: board.port, lock: false });
  const trips = quick ? 50 : 1000;
  const samples = [];
  for (let i = 0; i < trips; i++) {
    const t0 = performance.now();
    await acc.read(0);
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  rows.push({
    bench: `unpaced PTY, ${name}`,
    what: `${trips} sequential reads`,
    value: samples[samples.length >> 1],
    unit: 'µs median round trip',
    p99: samples[Math.floor(samples.length * 0.99)],
  });
  const n = quick ? 2000 : name.startsWith('host') ? 100_000 : 20_000;
  const data = deltas(1024);
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < n; i++) pending.push(acc.accum(i % acc.contexts, data[i % 1024]));
  await Promise.all(pending);
  rows.push({ bench: `unpaced PTY, ${name}`, what: `${n} concurrent accums (packed into frames)`, value: n / seconds(t0), unit: 'ops/s' });
  await acc.close();
  await board.stop();
}

// ---- through a faulty line --------------------------------------------------------------
const FAULT_RATES = [0, 0.0005, 0.002, 0.01];
const faultRows = [];
if (have('socat')) {
  // Unpaced, the PTY is far faster than any baud rate: the host is told 4 Mbaud (as in the tests).
  for (const [line, baud, n] of [
    ['unpaced PTY', null, quick ? 300 : 3000],
    ['115200 baud', BAUD, quick ? 60 : 600],
  ]) {
    const board = await startBoard(baud ? { baud, contexts: 64 } : { contexts: 64 });
    const proxy = await startFaultLine(board.port, { seed: 20261126 });
    for (const rate of FAULT_RATES) {
      const acc = await open({ backend: 'serial', port: proxy.port, lock: false, baudRate: baud ?? 4_000_000 });
      await acc.batch(Array.from({ length: 8 }, (_, index) => ({ op: 'load', index, value: 0n })));
      const expected = new Array(8).fill(0n);
      const data = deltas(2 * n);
      proxy.faults = { drop: rate, duplicate: rate, flip: rate, delayMs: 0 };
      let t0 = performance.now();
      for (let k = 0; k < n; k++) {
        expected[k % 8] ^= data[k];
        await acc.accum(k % 8, data[k]);
      }
      const sequential = n / seconds(t0);
      t0 = performance.now();
      const pending = [];
      for (let k = n; k < 2 * n; k++) {
        expected[k % 8] ^= data[k];
        pending.push(acc.accum(k % 8, data[k]));
      }
      await Promise.all(pending);
      const pipelined = n / seconds(t0);
      proxy.faults = { drop: 0, duplicate: 0, flip: 0, delayMs: 0 };
      const states = await acc.gather(Uint32Array.from({ length: 8 }, (_, i) => i));
      if (states.some((v, i) => v !== expected[i])) throw new Error(`wrong states after the ${rate * 100}% line (${line})`);
      faultRows.push({ line, rate, n, sequential, pipelined, link: acc.backend.link });
      await acc.close();
    }
    await proxy.stop();
    await board.stop();
  }
  for (const r of faultRows) {
    const clean = faultRows.find((c) => c.line === r.line && c.rate === 0);
    r.sequentialOfClean = r.sequential / clean.sequential;
    r.pipelinedOfClean = r.pipelined / clean.pipelined;
  }
}

const fmt = (v) => (v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(2));
const m = machine();
console.log(`machine: ${m.cpu} (${m.cores} cores), ${m.os}, node ${m.node}\n`);
console.log('| benchmark | workload | result | vs ceiling | note |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const vs = r.ofCeiling !== undefined ? `${(r.ofCeiling * 100).toFixed(1)}% of ${fmt(r.ceiling)}` : '';
  const note =
    r.usefulBytesPerLineByte !== undefined
      ? `${(r.usefulBytesPerLineByte * 100).toFixed(1)}% useful bytes per line byte`
      : r.p99 !== undefined
        ? `p99 ${fmt(r.p99)} µs`
        : '';
  console.log(`| ${r.bench} | ${r.what} | ${fmt(r.value)} ${r.unit} | ${vs} | ${note} |`);
}
if (faultRows.length) {
  console.log('\nhost board through the fault-injecting line (0.05% / 0.2% / 1%: that share of bytes each dropped, duplicated and bit-flipped):\n');
  console.log('| line | damage | awaited one by one | vs clean | issued at once | vs clean | resent (fast / timeout) | reframed |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of faultRows) {
    const pct = (x) => `${(x * 100).toFixed(0)}%`;
    console.log(
      `| ${r.line} | ${r.rate ? `${(r.rate * 100).toFixed(2)}%` : 'clean'} | ${fmt(r.sequential)} ops/s | ${pct(r.sequentialOfClean)} | ${fmt(r.pipelined)} ops/s | ${pct(r.pipelinedOfClean)} | ` +
        `${r.link.fastRetransmissions} / ${r.link.timeouts} | ${r.link.reframed} |`,
    );
  }
}
if (!quick && !faultsOnly) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('./results/serial.json', import.meta.url),
    JSON.stringify({ date: new Date().toISOString(), machine: m, rows, faultRows }, null, 2) + '\n',
  );
  console.log('\nwritten: bench/results/serial.json');
}
