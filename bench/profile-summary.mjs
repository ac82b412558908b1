// Where a replica's time goes: sums the self time of V8 CPU profiles
// (npm run bench:replication with ATOMIK_BENCH_PROFILE=<dir>) by stage,
// over the measured span only (from the start barrier until the replica
// holds every update), and lists the heaviest functions.
//   node bench/profile-summary.mjs <dir>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// First match wins: a function name or file pattern, and the stage it belongs to.
const STAGES = [
  [/^\(idle\) /, 'idle (waiting on Redis or a timer)'],
  [/^\(garbage collector\) /, 'garbage collection'],
  [/^\(program\) /, 'V8 itself (compiling, runtime)'],
  [/ node:(internal\/)?(timers|process\/task_queues|async_hooks)|^(wrappedFn|emitAfterScript) /, 'event loop: timers, immediates, promises'],
  [/^(atomik|probes|step|stamp|observe|read|now) bench\//, 'the application: its update loop and the probes'],
  [/^(accum|cut|flushAll|flush|queue|coalesce\w*|publish\w*|send\w*|pump\w*) dist\//, 'coalescing and publishing (replicate)'],
  [/^(encodeLogEntry|logEntryColumns|batchChecksum|asBuffer|checksum\w*|crc\w*|fnv\w*|encode\w*) /, 'encoding entries and their checksum (both sides)'],
  [/^(applyBatch|applyEntry|apply\w*|entryStatus|decode\w*|verify\w*|follow\w*|drain\w*|readLoop\w*) /, 'decoding and applying entries'],
  [
    /node_modules\/(ioredis|redis-parser|@ioredis)|^(writeBuffer|writeUtf8String|writev|_copyActual|createUnsafeBuffer|allocUnsafe|concat|parseBulkString|parseArray|\w+) (node:net|node:stream|node:buffer|node:internal\/stream|lib\/parser)|^(writeBuffer|writeUtf8String|writev|readBuffer|onStreamRead|createUnsafeBuffer) /,
    'Redis client: commands, socket, reply parsing',
  ],
];

function stageOf(key) {
  for (const [re, stage] of STAGES) if (re.test(key)) return stage;
  return 'other';
}

const dir = process.argv[2];
const runs = new Map(); // one run (every process of it) -> stage -> microseconds
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()) {
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const windowFile = join(dir, file.replace(/\.cpuprofile$/, '.window.json'));
  const span = existsSync(windowFile) ? JSON.parse(readFileSync(windowFile, 'utf8')) : { start: -Infinity, end: Infinity };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = prof.startTime;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    const d = prof.timeDeltas[i + 1] ?? 0;
    if (t < span.start || t > span.end) continue;
    const { functionName, url } = byId.get(prof.samples[i]).callFrame;
    const where = url.replace(/^.*\/(node_modules\/[^/]+|dist|bench|lib)\//, '$1/') || '(native)';
    const key = `${functionName || '(anonymous)'} ${where}`;
    self.set(key, (self.get(key) ?? 0) + d);
    total += d;
  }
  const stages = new Map();
  for (const [key, us] of self) stages.set(stageOf(key), (stages.get(stageOf(key)) ?? 0) + us);
  const run = file.replace(/-\d+\.cpuprofile$/, '');
  if (!runs.has(run)) runs.set(run, new Map());
  for (const [stage, us] of stages) runs.get(run).set(stage, (runs.get(run).get(stage) ?? 0) + us);
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms in the measured span`);
  for (const [stage, us] of [...stages].sort((a, b) => b[1] - a[1])) console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${stage}`);
  console.log('  heaviest functions:');
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`    ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}  [${stageOf(key)}]`);
}

console.log('\nEvery process of a run together (share of sampled time):');
for (const [run, stages] of runs) {
  const total = [...stages.values()].reduce((a, b) => a + b, 0);
  console.log(`${run}: ${(total / 1000).toFixed(0)} ms`);
  for (const [stage, us] of [...stages].sort((a, b) => b[1] - a[1])) console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${stage}`);
}
