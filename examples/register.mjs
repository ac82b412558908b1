// The last-writer-wins register pattern: a value updated with (new ^ old) deltas.
// One writer at a time converges everywhere, in any delivery order. Two
// writers at once also converge, but on the XOR of both writes: a value
// neither wrote. The remedy shown: one context per writer, and a rule
// chosen by the application to pick among the writers' values.
//   node examples/register.mjs
import { AtomikContext, AtomikTable } from '../dist/index.js';

const replicas = () => ['A', 'B', 'C'].map((name) => ({ name, reg: new AtomikContext() }));
const states = (rs) => rs.map((r) => `${r.name}=${r.reg.read()}`).join(' ');

// 1. One writer: A writes 10, 20, 30; B and C get the deltas in different orders.
{
  const rs = replicas();
  for (const r of rs) r.reg.load(10n);
  const deltas = [];
  for (const next of [20n, 30n]) {
    const d = next ^ rs[0].reg.read(); // delta = new ^ old
    rs[0].reg.accum(d);
    deltas.push(d);
  }
  rs[1].reg.accum(deltas[0]);
  rs[1].reg.accum(deltas[1]);
  rs[2].reg.accum(deltas[1]); // the same two deltas, the other order
  rs[2].reg.accum(deltas[0]);
  console.log(`one writer, 10 -> 20 -> 30:        ${states(rs)}`);
}

// 2. Two writers at once: A writes 40 and B writes 50, both starting from 30.
{
  const rs = replicas();
  for (const r of rs) r.reg.load(30n);
  const fromA = 40n ^ 30n;
  const fromB = 50n ^ 30n;
  for (const r of rs) {
    r.reg.accum(fromA);
    r.reg.accum(fromB);
  }
  console.log(`A writes 40 while B writes 50:      ${states(rs)}  <- agreed, but 30^40^50 = ${30n ^ 40n ^ 50n}: nobody wrote it`);
}

// 3. One context per writer: each replica keeps a 3-context table, a writer
//    only updates its own context, and readers apply one rule (here: the
//    highest writer that has written wins) to pick the register's value.
{
  const writers = ['A', 'B', 'C'];
  const tables = writers.map(() => new AtomikTable(writers.length));
  for (const t of tables) t.loadMany(Uint32Array.of(0, 1, 2), BigUint64Array.of(30n, 0n, 0n));
  const updates = [
    [0, 40n ^ 30n], // A: 30 -> 40 in A's context
    [1, 50n ^ 0n], //  B: (nothing) -> 50 in B's context, at the same time
  ];
  for (const t of tables) for (const [i, d] of [...updates].reverse()) t.accum(i, d);
  const pick = (t) => {
    const values = writers.map((_, i) => t.read(i));
    const winner = values.findLastIndex((v) => v !== 0n);
    return `${values.join('/')} -> ${values[winner]}`;
  };
  console.log(`a context per writer (A/B/C -> rule): ${tables.map((t, k) => `${writers[k]}=${pick(t)}`).join(' ')}`);
}
console.log('Concurrent writers of one value need an owner per context, or a CRDT register with a real merge rule.');
