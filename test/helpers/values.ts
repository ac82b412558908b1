import type { BatchOp, BatchResult, Group } from '../../lib/index.js';
import { mix64 } from '../../lib/engine/js.js';

export const MAX = (1n << 64n) - 1n;

/** Deterministic 64-bit values (SplitMix64) for sizeable inputs. */
export function words(n: number, seed = 1n): BigUint64Array {
  const out = new BigUint64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = BigInt.asUintN(64, s + 0x9e3779b97f4a7c15n);
    out[i] = mix64(s);
  }
  return out;
}

export function indices(n: number, size: number, seed = 7): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s % size;
  }
  return out;
}

export const xorAll = (values: Iterable<bigint>) => [...values].reduce((a, b) => a ^ b, 0n);
export const addAll = (values: Iterable<bigint>) =>
  BigInt.asUintN(
    64,
    [...values].reduce((a, b) => a + b, 0n),
  );

/** A mixed batch on context i (every op kind, swaps both ways) and its exact results. */
export function mixedBatch(group: Group, i: number): { ops: BatchOp[]; results: BatchResult[] } {
  const op = (a: bigint, b: bigint) => (group === 'xor' ? a ^ b : BigInt.asUintN(64, a + b));
  const s = op(0x10n, 0x3n);
  return {
    ops: [
      { op: 'load', index: i, value: 0x10n },
      { op: 'accum', index: i, delta: 0x3n },
      { op: 'status', index: i },
      { op: 'read', index: i },
      { op: 'swap', index: i },
      { op: 'status', index: i },
      { op: 'accum', index: i, delta: 1n },
      { op: 'swap', index: i, reference: MAX },
      { op: 'read', index: i },
    ],
    results: [null, null, false, s, s, true, null, op(s, 1n), MAX],
  };
}
