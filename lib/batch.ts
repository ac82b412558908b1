// Mixed batches of operations on a table of contexts: the shape shared by
// AtomikTable.batch() and every backend's batch(). A batch is validated as
// a whole before anything is applied.
import { types } from 'node:util';
import { AtomikTypeError } from './errors.js';
import { describe, index, u64 } from './validate.js';
import { OP, OP_BYTES, opsView, valueAt, writeOp } from './engine/ops.js';

export type BatchOp =
  | { op: 'load'; index: number; value: bigint }
  | { op: 'accum'; index: number; delta: bigint }
  | { op: 'read'; index: number }
  | { op: 'swap'; index: number; reference?: bigint }
  | { op: 'status'; index: number };

/**
 * One result per op, in order: the state for read and swap (the state
 * before the swap), `true` for status when the context's accumulator is the
 * identity (no pending deltas), `null` for load and accum.
 */
export type BatchResult = bigint | boolean | null;

/**
 * Reads every op of a batch once into a fresh plain object and checks it;
 * throws naming the first bad one. What is returned is what runs: getters
 * or Proxies on the caller's ops are never consulted again.
 */
export function validateBatch(ops: unknown, size: number): BatchOp[] {
  if (!Array.isArray(ops) || types.isProxy(ops)) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'ops must be an array of { op, index, ... } objects');
  }
  const count = ops.length; // an Array's own length: no getter can lie about it
  const valid: BatchOp[] = [];
  for (let i = 0; i < count; i++) {
    const name = `ops[${i}]`;
    const o: unknown = ops[i];
    if (typeof o !== 'object' || o === null) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be an object`);
    const { op, index: at } = o as Record<string, unknown>;
    const k = index(at, size, `${name}.index`);
    switch (op) {
      case 'load': valid.push({ op, index: k, value: u64((o as Record<string, unknown>).value, `${name}.value`) }); break;
      case 'accum': valid.push({ op, index: k, delta: u64((o as Record<string, unknown>).delta, `${name}.delta`) }); break;
      case 'swap': {
        const reference = (o as Record<string, unknown>).reference;
        valid.push(reference === undefined ? { op, index: k } : { op, index: k, reference: u64(reference, `${name}.reference`) });
        break;
      }
      case 'read': case 'status': valid.push({ op, index: k }); break;
      default: throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `${name}.op must be one of 'load', 'accum', 'read', 'swap', 'status', got ${describe(op)}`);
    }
  }
  return valid;
}

/** Encodes validated ops in the 16-byte layout the engines execute. */
export function encodeBatch(ops: readonly BatchOp[]): BigUint64Array {
  const words = new BigUint64Array((ops.length * OP_BYTES) / 8);
  const view = opsView(words);
  ops.forEach((o, i) => {
    switch (o.op) {
      case 'load': return writeOp(view, i, OP.load, o.index, o.value);
      case 'accum': return writeOp(view, i, OP.accum, o.index, o.delta);
      case 'read': return writeOp(view, i, OP.read, o.index, 0n);
      case 'swap': return o.reference === undefined ? writeOp(view, i, OP.swap, o.index, 0n) : writeOp(view, i, OP.swapTo, o.index, o.reference);
      case 'status': return writeOp(view, i, OP.status, o.index, 0n);
    }
  });
  return words;
}

/** Reads the results an engine wrote back into encoded ops. */
export function decodeResults(ops: readonly BatchOp[], words: BigUint64Array): BatchResult[] {
  const view = opsView(words);
  return ops.map((o, i) => {
    if (o.op === 'read' || o.op === 'swap') return valueAt(view, i);
    if (o.op === 'status') return valueAt(view, i) === 1n;
    return null;
  });
}
