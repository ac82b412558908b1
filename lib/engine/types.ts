import type { Group } from '../core/group.js';

/**
 * The batch kernels behind AtomikContext, AtomikTable and Fingerprint.
 * Both engines (js, native) implement the same contract over the same
 * memory layout: a table is two BigUint64Arrays (reference, accumulator).
 * Callers validate types and lengths first. The indexed kernels check the
 * index range themselves (one pass, cheaper than a second scan in front) and
 * return false without changing anything when an index is out of range.
 */
export interface Engine {
  readonly name: 'js' | 'native';
  /** Combines all deltas into one value (0 for an empty array). */
  reduce(group: Group, deltas: BigUint64Array): bigint;
  /** accumulator[indices[i]] (+)= deltas[i]. */
  scatter(group: Group, reference: BigUint64Array, accumulator: BigUint64Array, indices: Uint32Array, deltas: BigUint64Array): boolean;
  /** out[i] = state of context indices[i]. */
  gather(group: Group, reference: BigUint64Array, accumulator: BigUint64Array, indices: Uint32Array, out: BigUint64Array): boolean;
  /** reference[indices[i]] = values[i]; accumulator[indices[i]] = 0. */
  load(reference: BigUint64Array, accumulator: BigUint64Array, indices: Uint32Array, values: BigUint64Array): boolean;
  /** out[i] = state of context i, for every context. */
  states(group: Group, reference: BigUint64Array, accumulator: BigUint64Array, out: BigUint64Array): void;
  /** Runs encoded ops (see ops.ts) in order, writing results back. */
  exec(group: Group, reference: BigUint64Array, accumulator: BigUint64Array, ops: BigUint64Array): void;
  /**
   * Checks one replication entry whole (lib/replicate/BATCH-FORMAT.md) and
   * applies it to the accumulator, all or nothing; returns a ENTRY_STATUS code.
   */
  applyBatch(group: Group, reference: BigUint64Array, accumulator: BigUint64Array, partition: number, entry: Uint8Array): number;
  /** Reference fingerprint: XOR of little-endian 64-bit chunks, last one zero-padded. */
  foldXor(data: Uint8Array): bigint;
  /** Position-aware fingerprint (see native/atomik.h). */
  foldPositional(data: Uint8Array): bigint;
}
