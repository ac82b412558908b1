// `npm start`: three patterns of delta-state accumulation, run in this
// process and then on a board, which must end in the same states:
//  - a PN-counter: +1 and -1 events from several replicas, applied in any
//    order (group 'add'; group 'xor' shows why XOR cannot count);
//  - a last-writer-wins register: a value replaced by (new ^ old) deltas;
//  - state sync: many contexts updated by one scatter, read by one gather.
// The board is the one ATOMIK_PORT names, else a virtual host board started
// here (nothing else is probed). The in-process half always runs in process.
import { open } from 'atomik-node';
import { startBoard } from 'atomik-node/board';

const hex = (v) => '0x' + v.toString(16).padStart(16, '0');
const failure = (err) => (err.code ? `${err.code}: ${err.message}` : err.message);

let board = null;
let port = process.env.ATOMIK_PORT;
if (!port) {
  try {
    board = await startBoard();
    port = board.port;
    console.log(`no ATOMIK_PORT set: started a virtual host board on ${port}\n`);
  } catch (err) {
    console.log(`no ATOMIK_PORT set, and no virtual board here (${failure(err)}): in process only\n`);
  }
}

// In process: the C engine when the addon loads, else the JS one; never a serial port, whatever ATOMIK_PORT says.
const inProcess = (options) => open({ ...options, backend: 'native' }).catch(() => open({ ...options, backend: 'js' }));
const targets = [{ label: 'in process', open: inProcess }];
if (port) targets.push({ label: `board ${port}`, open: (options) => open({ ...options, backend: 'serial', port, lock: !board }) });

async function patterns(label, openOn) {
  const xor = await openOn({ contexts: 64, group: 'xor' });
  const where = `${xor.info.backend}${xor.info.serial ? `, ${xor.info.serial.dialect} dialect` : ''}`;
  console.log(`=== ${label} (${where}): ${xor.info.reason}`);
  const started = performance.now();

  // 1. PN-counter: replicas send their +1s to context 0, in any order.
  const increments = [1n, 1n, 1n, 1n, 1n]; // five +1s from three replicas
  await xor.load(0, 0n);
  await Promise.all(increments.map((d) => xor.accum(0, d)));
  const xorCount = await xor.read(0);
  let addCount = 'n/a (the official protocol has only xor)';
  const framed = !xor.info.serial || xor.info.serial.dialect === 'framed';
  await xor.close();
  if (framed) {
    const add = await openOn({ contexts: 64, group: 'add' });
    await add.load(0, 0n);
    await Promise.all(increments.map((d) => add.accum(0, d)));
    await add.accum(0, -1n); // a decrement
    addCount = `${await add.read(0)} after one decrement`;
    await add.close();
  }
  console.log(`counter:  five +1 -> xor group reads ${xorCount} (XOR cannot count); add group reads ${addCount}`);

  const acc = await openOn({ contexts: 64, group: 'xor' });
  // 2. Last-writer-wins register: each write travels as (new ^ old); every replica ends on the last value.
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
  await acc.close();
  return [xorCount, addCount, register, ...states].join(',');
}

const summaries = [];
let failed = false;
for (const { label, open: openOn } of targets) {
  try {
    summaries.push(await patterns(label, openOn));
  } catch (err) {
    failed = true;
    const hint = board ? '' : ' (ATOMIK_PORT names it: set it to a board, or unset it for a virtual one)';
    console.error(`${label}: ${failure(err)}${hint}`);
  }
}

if (summaries.length > 1) {
  const same = summaries.every((s) => s === summaries[0]);
  console.log(same ? 'Same operations, same states: in process and on the board.' : 'MISMATCH between the in-process engine and the board!');
  failed ||= !same;
}
process.exitCode = failed ? 1 : 0;
if (board) await board.stop();
