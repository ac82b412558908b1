// The PN-counter pattern: replicas count +1 and -1 events and
// exchange the deltas in any order. With the ATOMiK group (xor) the
// replicas agree, but on a value that is not the count: +1 twice is 0.
// With group 'add' (integers mod 2^64) they count, in any order, and any
// event can be rolled back later.
//   node examples/counter.mjs
import { AtomikContext, DeltaMessage, inverse } from '../dist/index.js';

const MINUS_ONE = (1n << 64n) - 1n; // -1 modulo 2^64
const events = { A: [1, 1, 1, -1], B: [1, 1], C: [-1, 1, 1, 1, 1] };
const names = Object.keys(events);
const truth = Object.values(events)
  .flat()
  .reduce((a, b) => a + b, 0);
const show = (v) => (v > 1n << 63n ? -((1n << 64n) - v) : v); // read as a signed count

function run(group) {
  const replicas = Object.fromEntries(names.map((n) => [n, new AtomikContext({ group })]));
  const wire = []; // 16-byte messages: [from, bytes]
  for (const [name, list] of Object.entries(events)) {
    list.forEach((e, seq) => {
      const delta = e === 1 ? 1n : MINUS_ONE;
      replicas[name].accum(delta);
      wire.push([name, new DeltaMessage(0, delta, 0, seq + 1).encode()]);
    });
  }
  // Each replica hears the others in its own order: A forwards, B backwards, C rotated.
  const orders = { A: wire, B: [...wire].reverse(), C: [...wire.slice(5), ...wire.slice(0, 5)] };
  for (const name of names) {
    for (const [from, bytes] of orders[name]) if (from !== name) replicas[name].accum(DeltaMessage.decode(bytes).delta);
  }
  return replicas;
}

const line = (replicas) => names.map((n) => `${n}=${show(replicas[n].read())}`).join(' ');
console.log(`events: ${names.map((n) => `${n} ${events[n].map((e) => (e > 0 ? '+1' : '-1')).join(' ')}`).join(' | ')}  (true count ${truth})`);
console.log(`group xor:                   ${line(run('xor'))}  <- the replicas agree, but XOR does not count`);
const counted = run('add');
console.log(`group add:                   ${line(counted)}`);
// Undo: B's last +1 was a mistake. B rolls it back and sends the inverse delta.
counted.B.rollback(1n);
const undo = new DeltaMessage(0, inverse('add', 1n), 0, 3).encode();
for (const n of ['A', 'C']) counted[n].accum(DeltaMessage.decode(undo).delta);
console.log(`after B rolls back one +1:   ${line(counted)}`);
