// `npm start`: three patterns (PN-counter, LWW register, state sync) run
// on the in-process engine and on a board. The board is the one ATOMIK_PORT
// names, or else a virtual host board started here (nothing else is probed).
import { open } from '../dist/index.js';
import { startBoard } from '../dist/board.js';

const hex = (v) => '0x' + v.toString(16).padStart(16, '0');

let board = null;
let port = process.env.ATOMIK_PORT;
if (!port) {
  try {
    board = await startBoard();
    port = board.port;
    console.log(`no ATOMIK_PORT set: started a virtual host board on ${port}\n`);
  } catch (err) {
    console.log(`no ATOMIK_PORT set, and no virtual board here (${err.message}): in process only\n`);
  }
}

const targets = [{ label: 'in process', options: {} }];
if (port) targets.push({ label: `board ${port}`, options: { backend: 'serial', port, lock: !board } });

const summaries = [];
for (const { label, options } of targets) {
  const xor = await open({ ...options, contexts: 64, group: 'xor' });
  const where = `${xor.info.backend}${xor.info.serial ? `, ${xor.info.serial.dialect} dialect` : ''}`;
  console.log(`=== ${label} (${where}): ${xor.info.reason}`);
  const started = performance.now();

  // 1. Counter: three replicas each add their increments to context 0, in any order.
  const increments = [1n, 1n, 1n, 1n, 1n]; // five +1s from three replicas
  await xor.load(0, 0n);
  await Promise.all(increments.map((d) => xor.accum(0, d)));
  const xorCount = await xor.read(0);
  let addCount = 'n/a (the official protocol has only xor)';
  if (!xor.info.serial || xor.info.serial.dialect === 'framed') {
    await xor.close();
    const add = await open({ ...options, contexts: 64, group: 'add' });
    await add.load(0, 0n);
    await Promise.all(increments.map((d) => add.accum(0, d)));
    await add.accum(0, (1n << 64n) - 1n); // a decrement: -1 mod 2^64
    addCount = `${await add.read(0)} after one decrement`;
    await add.close();
  } else {
    await xor.close();
  }
  console.log(`counter:  five +1 -> xor group reads ${xorCount} (XOR cannot count); add group reads ${addCount}`);

  const acc = await open({ ...options, contexts: 64, group: 'xor' });
  // 2. Register: writes travel as (new ^ old) deltas; replicas converge on the last value.
  await acc.load(0, 100n);
  let value = 100n;
  for (const next of [250n, 7n, 42n]) {
    await acc.accum(0, next ^ value);
    value = next;
  }
  const register = await acc.read(0);
  console.log(`register: 100 -> 250 -> 7 -> 42 as deltas, reads ${register}; swap() snapshots ${await acc.swap(0)}`);

  // 3. State sync: a table of contexts updated by one scatter, read back by one gather.
  const contexts = Math.min(64, acc.contexts); // a legacy board has one
  const n = 2000;
  const indices = Uint32Array.from({ length: n }, (_, i) => (i * 7) % contexts);
  const deltas = BigUint64Array.from({ length: n }, (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n) % (1n << 64n));
  await acc.batch(Array.from({ length: contexts }, (_, index) => ({ op: 'load', index, value: 0n })));
  await acc.scatter(indices, deltas);
  const states = await acc.gather(Uint32Array.from({ length: contexts }, (_, i) => i));
  const digest = states.reduce((a, b) => a ^ b, 0n);
  console.log(`sync:     ${n} deltas over ${contexts} contexts; context 1 = ${hex(states[1 % contexts])}, XOR of all states = ${hex(digest)}`);
  console.log(`          (${(performance.now() - started).toFixed(0)} ms)\n`);
  summaries.push([xorCount, addCount, register, ...states].join(','));
  await acc.close();
}

const same = summaries.every((s) => s === summaries[0]);
if (targets.length > 1) {
  console.log(same ? 'Same operations, same states: in process and on the board.' : 'MISMATCH between the in-process engine and the board!');
}
process.exitCode = same ? 0 : 1;
if (board) await board.stop();
