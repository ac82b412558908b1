// Replication under endless operation: one long-lived replica writes at a
// steady pace while replica processes start, write, flush and then close
// cleanly or are killed with SIGKILL, hundreds of times. Every 10 s it
// samples Redis's memory and key sizes and the long-lived process's heap;
// at the end the long-lived replica and a fresh reader must hold exactly
// every acknowledged update.
//   npm run soak:replication            (10 minutes)
//   ATOMIK_SOAK_MINUTES=1 npm run soak:replication
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { AtomikTable, replicate } from '../dist/index.js';
import { startRedisServer } from '../dist/testing.js';
import { expectedStates, update } from '../test/fixtures/replica-worker.mjs';
import { machine } from './harness.mjs';

const SIZE = 4096;
const OPTIONS = { partitions: 2, snapshotBytes: 256 * 1024, keepSnapshots: 2 };
const CHILD_UPDATES = 5000;

/** A short-lived replica: writes its updates, flushes, says so, and waits to be closed or killed. */
async function child(cfg) {
  const replica = await replicate(new AtomikTable(SIZE, { group: 'add' }), { redis: cfg.url, name: cfg.name, ...OPTIONS });
  for (let j = 0; j < CHILD_UPDATES; j++) replica.accum(...update('add', cfg.seed, j, SIZE));
  await replica.flush();
  process.stdout.write('flushed\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'close') break;
  }
  await replica.close();
  process.exit(0);
}

/** Starts a child replica; resolves with how it ended ('closed' or 'killed') once its updates are acknowledged and it is gone. */
function restart(url, name, seed, kill) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child', JSON.stringify({ url, name, seed })], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) =>
      signal === 'SIGKILL' || code === 0 ? resolve(kill ? 'killed' : 'closed') : reject(new Error(`replica ${seed} exited with ${code ?? signal}`)),
    );
    createInterface({ input: proc.stdout }).once('line', () => {
      if (kill) proc.kill('SIGKILL');
      else proc.stdin.write('close\n');
    });
  });
}

async function main() {
  const minutes = Number(process.env.ATOMIK_SOAK_MINUTES ?? 10);
  const server = await startRedisServer({ fsync: 'everysec' });
  const admin = new Redis(server.url);
  const name = 'soak';
  const long = await replicate(new AtomikTable(SIZE, { group: 'add' }), { redis: server.url, name, ...OPTIONS });
  let written = 0;
  let writing = true;
  // The long-lived writer: 200 updates every 10 ms (20,000 a second), a flush every 10,000.
  const writer = (async () => {
    while (writing) {
      for (let k = 0; k < 200; k++) long.accum(...update('add', 0, written++, SIZE));
      if (written % 10_000 === 0) await long.flush();
      await new Promise((r) => setTimeout(r, 10));
    }
    await long.flush();
  })();

  const samples = [];
  const sample = async (t) => {
    globalThis.gc?.();
    const info = await admin.info('memory');
    const keys = async (suffix, cmd) => {
      let n = 0;
      for (let p = 0; p < OPTIONS.partitions; p++) n += Number(await admin[cmd](`atomik:{${name}:${p}}:${suffix}`));
      return n;
    };
    samples.push({
      seconds: Math.round(t / 1000),
      redisUsedBytes: Number(/^used_memory:(\d+)/m.exec(info)[1]),
      logEntries: await keys('log', 'xlen'),
      heads: await keys('heads', 'hlen'),
      retired: await keys('retired-origins', 'hlen'),
      heartbeats: Number(await admin.hlen(`atomik:{${name}}:replicas`)),
      heapUsedBytes: process.memoryUsage().heapUsed,
      rssBytes: process.memoryUsage().rss,
      originsHeld: long.health.origins,
    });
    const s = samples.at(-1);
    console.log(
      `${String(s.seconds).padStart(5)} s  redis ${(s.redisUsedBytes / 2 ** 20).toFixed(1)} MiB, log ${s.logEntries} entries, heads ${s.heads}, retired ${s.retired}, heartbeats ${s.heartbeats}; heap ${(s.heapUsedBytes / 2 ** 20).toFixed(1)} MiB, origins held ${s.originsHeld}; restarts ${restarts}`,
    );
  };

  const began = Date.now();
  let restarts = 0;
  const ended = { closed: 0, killed: 0 };
  let nextSample = 0;
  while (Date.now() - began < minutes * 60_000) {
    if (Date.now() - began >= nextSample) {
      await sample(Date.now() - began);
      nextSample += 10_000;
    }
    ended[await restart(server.url, name, 1000 + restarts, restarts % 2 === 1)]++;
    restarts++;
  }
  writing = false;
  await writer;
  await long.caughtUp();
  await sample(Date.now() - began);
  const want = expectedStates('add', SIZE, [[0, written], ...Array.from({ length: restarts }, (_, k) => [1000 + k, CHILD_UPDATES])]);
  const fresh = await replicate(new AtomikTable(SIZE, { group: 'add' }), { redis: server.url, name, ...OPTIONS });
  const exact = (table) => table.states().every((v, i) => v === want[i]);
  const result = {
    machine: machine(),
    minutes,
    restarts,
    ended,
    updates: written + restarts * CHILD_UPDATES,
    exact: { longLived: exact(long.table), freshReader: exact(fresh.table) },
    samples,
  };
  await Promise.all([long.close(), fresh.close()]);
  admin.disconnect();
  await server.dispose();
  // After the first minute (warm-up), how much each figure grew by the end.
  const warm = samples.find((s) => s.seconds >= 60) ?? samples[0];
  const last = samples.at(-1);
  console.log(
    `\n${restarts} restarts (${ended.closed} closed, ${ended.killed} killed), ${result.updates} updates; exact: long-lived ${result.exact.longLived}, fresh reader ${result.exact.freshReader}`,
  );
  console.log(
    `from ${warm.seconds} s to the end: Redis used memory ${(warm.redisUsedBytes / 2 ** 20).toFixed(1)} -> ${(last.redisUsedBytes / 2 ** 20).toFixed(1)} MiB; heap ${(warm.heapUsedBytes / 2 ** 20).toFixed(1)} -> ${(last.heapUsedBytes / 2 ** 20).toFixed(1)} MiB; log ${warm.logEntries} -> ${last.logEntries} entries`,
  );
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('results/soak-replication.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
  if (!result.exact.longLived || !result.exact.freshReader) process.exitCode = 1;
}

if (process.argv[2] === 'child') await child(JSON.parse(process.argv[3]));
else await main();
