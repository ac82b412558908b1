// Undo without a snapshot stack: any past delta can be rolled back at any
// time, in any order, because the group has inverses (XOR: the delta itself;
// add: its negation). The context stays 16 bytes however long the history.
//   node examples/undo.mjs
import { AtomikContext } from 'atomik-node';

const hex = (v) => '0x' + v.toString(16).padStart(4, '0');

// Feature flags in one 64-bit word, edited by XOR deltas.
const flags = new AtomikContext();
flags.load(0x0001n);
const edits = [0x0010n, 0x0100n, 0x1000n, 0x0002n];
for (const e of edits) flags.accum(e);
console.log(`flags: load 0x0001, edits ${edits.map(hex).join(' ')} -> ${hex(flags.read())}`);
flags.rollback(0x0100n); // undo the second edit, long after the fact
console.log(`undo edit 2 (0x0100):                     -> ${hex(flags.read())}`);
flags.rollback(0x0010n);
console.log(`undo edit 1 (0x0010):                     -> ${hex(flags.read())}`);

// A balance in the add group: undo one transfer out of many.
const balance = new AtomikContext({ group: 'add' });
balance.load(1000n);
const transfers = [250n, 75n, 40n, 5n];
for (const t of transfers) balance.accum(t);
console.log(`balance: 1000 + ${transfers.join(' + ')} = ${balance.read()}`);
balance.rollback(75n);
console.log(`undo the 75 transfer:                     ${balance.read()}`);
console.log(`deltas applied: ${balance.deltaCount}, memory: reference + accumulator = 16 bytes, no history kept`);
