// The state-sync pattern, with real concurrency: worker threads each
// own a replica of a 16-context table and exchange 16-byte DeltaMessages
// through a channel (this thread) that reorders, delays and duplicates them.
// Without protection a duplicate undoes a XOR delta (and counts twice with
// add); DeltaStream.receive() applies every message exactly once, so every
// replica ends on exactly the expected state.
//   node examples/state-sync.mjs [workers] [updates-per-worker]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { DeltaMessage, DeltaStream } from '../dist/index.js';

const CONTEXTS = 16;

/** Deterministic per-message choices, so the output does not depend on thread timing. */
function hash(a, b) {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 15;
  return (Math.imul(h, 0x2c1b3c6d) >>> 0) / 4294967296;
}

if (!isMainThread) {
  // A replica: makes its updates, then applies what the channel delivers twice
  // over, once naively (apply) and once exactly once (receive).
  const { origin, group, updates } = workerData;
  const own = new DeltaStream({ group, origin }); // origins 1..255: 0 is the numbering of a stream without one
  const naive = new DeltaStream({ group });
  const once = new DeltaStream({ group });
  for (let k = 0; k < updates; k++) {
    const addr = Math.floor(hash(origin, k) * CONTEXTS);
    const delta = BigInt(Math.floor(hash(k, origin) * 2 ** 32)) * 0x10001n + 1n;
    const msg = own.accum(addr, delta);
    naive.apply(msg);
    once.receive(msg);
    parentPort.postMessage({ bytes: msg.encode() });
  }
  parentPort.on('message', ({ bytes, done }) => {
    if (done) {
      const read = (s) => Array.from({ length: CONTEXTS }, (_, a) => String(s.read(a)));
      parentPort.postMessage({ naive: read(naive), once: read(once), gaps: once.gaps().size });
      return;
    }
    const msg = DeltaMessage.decode(bytes);
    naive.apply(msg);
    once.receive(msg);
  });
} else {
  const workers = Number(process.argv[2] ?? 4);
  const updates = Number(process.argv[3] ?? 250);
  if (!(Number.isInteger(workers) && workers >= 2 && workers <= 255) || !(Number.isInteger(updates) && updates >= 1 && updates <= 1e7)) {
    console.error('usage: node examples/state-sync.mjs [workers: 2..255] [updates-per-worker: 1..10000000]');
    process.exit(2);
  }
  for (const group of ['xor', 'add']) {
    const expected = new DeltaStream({ group });
    const replicas = Array.from(
      { length: workers },
      (_, origin) => new Worker(new URL(import.meta.url), { workerData: { origin: origin + 1, group, updates } }),
    );
    let duplicated = 0;
    let inFlight = 0;
    let drained = () => {};
    const allDelivered = new Promise((resolve) => (drained = resolve));
    let received = 0;
    replicas.forEach((w, from) =>
      w.on('message', ({ bytes }) => {
        if (!bytes) return;
        received++;
        const msg = DeltaMessage.decode(bytes);
        expected.accum(msg.addr, msg.delta);
        const copies = hash(msg.seq, 1) < 0.1 ? 2 : 1; // one message in ten is duplicated
        duplicated += copies - 1;
        replicas.forEach((to, k) => {
          if (k === from) return;
          for (let c = 0; c < copies; c++) {
            inFlight++;
            // A random delay per copy reorders the channel.
            setTimeout(
              () => {
                to.postMessage({ bytes });
                if (--inFlight === 0 && received === workers * updates) drained();
              },
              hash(msg.seq, k * 7 + c) * 20,
            );
          }
        });
      }),
    );
    await allDelivered;
    const reports = await Promise.all(
      replicas.map(
        (w) =>
          new Promise((resolve) => {
            w.on('message', (m) => m.once && resolve(m));
            w.postMessage({ done: true });
          }),
      ),
    );
    await Promise.all(replicas.map((w) => w.terminate()));
    const want = Array.from({ length: CONTEXTS }, (_, a) => String(expected.read(a)));
    const exact = (key) => reports.filter((r) => r[key].every((v, a) => v === want[a])).length;
    console.log(
      `${group}: ${workers} replicas x ${updates} updates, ${duplicated} messages duplicated, every message reordered; ` +
        `apply(): ${exact('naive')}/${workers} replicas exact; receive(): ${exact('once')}/${workers} exact, ${reports.filter((r) => r.gaps).length} with gaps`,
    );
  }
}
