// Three server processes count requests per route in one replicated table
// (group 'add') through Redis. One of them is killed with SIGKILL mid-run
// and started again; at the end every live replica holds the same exact
// totals. Uses REDIS_URL, or starts a private redis-server when it is unset.
//   node examples/replicas.mjs
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AtomikTable, replicate } from 'atomik-node';
import { startRedisServer } from 'atomik-node/testing';

// One table name per run, so runs against a shared REDIS_URL do not mix.
const name = `requests-${process.pid}-${Date.now()}`;
const ROUTES = ['/', '/login', '/search', '/cart', '/checkout', '/api/items', '/api/user', '/health'];
// Contexts 0..7 count requests per route; 8 + k counts the requests served by process k.
const SERVED = ROUTES.length;

/** Route of request j served by process k: skewed, like real traffic. */
function route(k, j) {
  let h = Math.imul(k + 1, 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return Math.min(ROUTES.length - 1, Math.floor(-Math.log2(1 - h / 2 ** 32)));
}

async function serve(url, name, k, requests) {
  const table = new AtomikTable(SERVED + 4, { group: 'add' });
  const replica = await replicate(table, { redis: url, name });
  const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  for (let j = 0; j < requests; j++) {
    replica.accum(route(k, j), 1n);
    replica.accum(SERVED + k, 1n);
    if ((j + 1) % 500 === 0) {
      await replica.flush(); // acknowledged by Redis: these requests are counted everywhere, whatever happens next
      say({ acked: j + 1 });
    }
  }
  await replica.flush();
  say({ done: requests });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'report') continue;
    await replica.caughtUp();
    say({ states: Array.from(table.states(), String) });
    await replica.close();
    return;
  }
}

function start(url, k, requests) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', url, name, String(k), String(requests)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    const msg = JSON.parse(l);
    lines.push(msg);
    for (const w of waiting.splice(0)) (w.pick(msg) ? w.resolve : () => waiting.push(w))(msg);
  });
  const waitFor = (pick) => new Promise((resolve) => (lines.some(pick) ? resolve(lines.find(pick)) : waiting.push({ pick, resolve })));
  return { child, lines, waitFor, report: () => (child.stdin.end('report\n'), waitFor((m) => 'states' in m)) };
}

async function main() {
  let server = null;
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
    console.log('REDIS_URL not set: started a private redis-server (appendfsync always)');
  } else console.log(`using REDIS_URL ${url}`);
  try {
    const a = start(url, 0, 30_000);
    const b = start(url, 1, 1_000_000);
    const c = start(url, 2, 30_000);
    const acked = (await b.waitFor((m) => m.acked >= 5000)).acked;
    b.child.kill('SIGKILL');
    console.log(`killed process B (kill -9) after Redis had acknowledged ${acked.toLocaleString('en-US')} of its requests`);
    const b2 = start(url, 3, 20_000);
    console.log('started B again: it takes a new origin id and serves 20,000 more');
    await Promise.all([a, c, b2].map((p) => p.waitFor((m) => 'done' in m)));
    const reports = await Promise.all([a, c, b2].map((p) => p.report()));
    const states = reports.map((r) => r.states.map(BigInt));
    const same = states.every((s) => s.every((v, i) => v === states[0][i]));
    const [first] = states;
    const served = first.slice(SERVED);
    const perRoute = first.slice(0, SERVED);
    const total = perRoute.reduce((x, y) => x + y, 0n);
    console.log(
      `requests served, as every replica counts them: A ${served[0]}, B before the kill ${served[1]} (>= ${acked} acknowledged), C ${served[2]}, B again ${served[3]}`,
    );
    console.log(ROUTES.map((r, i) => `${r} ${perRoute[i]}`).join(', '));
    const exact =
      served[0] === 30_000n && served[2] === 30_000n && served[3] === 20_000n && served[1] >= BigInt(acked) && total === served.reduce((x, y) => x + y, 0n);
    console.log(
      `${same ? 'all 3 live replicas agree' : 'REPLICAS DISAGREE'}; per-route total ${total} = requests served ${served.reduce((x, y) => x + y, 0n)}: ${exact ? 'exact' : 'NOT EXACT'}`,
    );
    if (!same || !exact) process.exitCode = 1;
  } finally {
    await server?.dispose();
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3], process.argv[4], Number(process.argv[5]), Number(process.argv[6]));
else await main();
