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

/** A seeded 32-bit linear congruential generator: the same seed, the same numbers, on every run. */
export function lcg(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return {
    next,
    /** An integer in [0, n). */
    int: (n: number) => next() % n,
    /** A number in [0, 1). */
    unit: () => next() / 2 ** 32,
    u64: () => (BigInt(next()) << 32n) | BigInt(next()),
  };
}

/** Seeded Fisher-Yates shuffle of `items` in place; returns `items`. */
export function shuffle<T>(items: T[], seed: number): T[] {
  const { next } = lcg(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** `n` indices in [0, size). */
export function indices(n: number, size: number, seed = 7): Uint32Array {
  const { int } = lcg(seed);
  return Uint32Array.from({ length: n }, () => int(size));
}

/** Lower-case hex of the bytes. */
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** The bytes of a hex string. */
export const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

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
