// Mixed batches of operations on a table of contexts: the shape shared by
// AtomikTable.batch() and every backend's batch(). A batch is validated as
// a whole before anything is applied.
import { types } from 'node:util';
import { AtomikTypeError } from '../core/errors.js';
import { describe, index, u64 } from '../core/validate.js';
import { OP_BYTES, opsView, valueAt, writeOp } from '../engine/ops.js';
import { OPERATIONS, toResult, type Op, type OpResult } from '../core/operations.js';

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
export type BatchResult = OpResult;

/**
 * Reads every op of a batch once into the internal shape (lib/core/operations.ts)
 * and checks it; throws naming the first bad one. What is returned is what
 * runs: getters or Proxies on the caller's ops are never consulted again.
 */
export function validateBatch(ops: unknown, size: number): Op[] {
  if (!Array.isArray(ops) || types.isProxy(ops)) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'ops must be an array of { op, index, ... } objects');
  }
  const count = ops.length; // an Array's own length: no getter can lie about it
  const valid: Op[] = [];
  for (let i = 0; i < count; i++) {
    const name = `ops[${i}]`;
    const o: unknown = ops[i];
    if (typeof o !== 'object' || o === null) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be an object`);
    const { op, index: at } = o as Record<string, unknown>;
    const k = index(at, size, `${name}.index`);
    switch (op) {
      case 'load':
        valid.push({ op, index: k, value: u64((o as Record<string, unknown>).value, `${name}.value`) });
        break;
      case 'accum':
        valid.push({ op, index: k, value: u64((o as Record<string, unknown>).delta, `${name}.delta`) });
        break;
      case 'swap': {
        const reference = (o as Record<string, unknown>).reference;
        valid.push(reference === undefined ? { op, index: k } : { op: 'swapTo', index: k, value: u64(reference, `${name}.reference`) });
        break;
      }
      case 'read':
      case 'status':
        valid.push({ op, index: k });
        break;
      default:
        throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `${name}.op must be one of 'load', 'accum', 'read', 'swap', 'status', got ${describe(op)}`);
    }
  }
  return valid;
}

/** Encodes validated ops as 16-byte records for the engines' executors. */
export function encodeOpRecords(ops: readonly Op[]): BigUint64Array {
  const words = new BigUint64Array((ops.length * OP_BYTES) / 8);
  const view = opsView(words);
  ops.forEach((o, i) => {
    const code = OPERATIONS[o.op].record;
    if (code === null) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `ops[${i}]: '${o.op}' has no batch record`);
    writeOp(view, i, code, o.index, 'value' in o ? o.value : 0n);
  });
  return words;
}

/** Reads the results an executor wrote back into encoded ops. */
export function readOpRecordResults(ops: readonly Op[], words: BigUint64Array): OpResult[] {
  const view = opsView(words);
  return ops.map((o, i) => toResult(o.op, valueAt(view, i)));
}
