import { decodeResults, encodeBatch, validateBatch, type BatchOp, type BatchResult } from './batch.js';
import { groupOption, inverse, type Group } from './group.js';
import { resolveEngine, type EngineChoice } from './engine/select.js';
import type { Engine } from './engine/types.js';
import { U64_MAX, bigU64Array, index, indicesInRange, integer, sameLength, u32Array, u64 } from './validate.js';

export interface TableOptions {
  /** 'xor' (ATOMiK, default) or 'add' (integers mod 2^64, for counters). */
  group?: Group;
  /** Kernels for batch calls: 'auto' (default), 'js', 'native', or an Engine. */
  engine?: EngineChoice | Engine;
}

/** Largest table: indices are 32-bit. */
export const MAX_TABLE_SIZE = 0xffffffff;

/**
 * `size` contexts addressed by index. References and accumulators live in
 * two BigUint64Arrays that the engine's batch kernels work on in place.
 * Out-of-range indices are RangeErrors; a rejected call changes nothing.
 */
export class AtomikTable {
  readonly size: number;
  readonly group: Group;
  readonly engine: Engine;
  private readonly ref: BigUint64Array;
  private readonly acc: BigUint64Array;
  private readonly additive: boolean;

  constructor(size: number, options: TableOptions = {}) {
    integer(size, 0, MAX_TABLE_SIZE, 'size');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.size = size;
    this.group = groupOption(options.group);
    this.additive = this.group === 'add';
    this.engine = resolveEngine(options.engine);
    this.ref = new BigUint64Array(size);
    this.acc = new BigUint64Array(size);
  }

  load(i: number, value: bigint): void {
    index(i, this.size, 'index');
    this.ref[i] = u64(value, 'value');
    this.acc[i] = 0n;
  }

  accum(i: number, delta: bigint): void {
    index(i, this.size, 'index');
    if (typeof delta !== 'bigint' || delta < 0n || delta > U64_MAX) u64(delta, 'delta');
    // BigUint64Array stores wrap modulo 2^64, which is exactly the add group.
    this.acc[i] = this.additive ? this.acc[i]! + delta : this.acc[i]! ^ delta;
  }

  /** Applies every delta of the array to context i (one engine call). */
  accumMany(i: number, deltas: BigUint64Array): void {
    index(i, this.size, 'index');
    bigU64Array(deltas, 'deltas');
    const d = this.engine.reduce(this.group, deltas);
    this.acc[i] = this.additive ? this.acc[i]! + d : this.acc[i]! ^ d;
  }

  read(i: number): bigint {
    index(i, this.size, 'index');
    return this.stateAt(i);
  }

  /** Returns the state before the swap; the new reference is `newReference` or that state. */
  swap(i: number, newReference?: bigint): bigint {
    index(i, this.size, 'index');
    if (newReference !== undefined) u64(newReference, 'newReference');
    const before = this.stateAt(i);
    this.ref[i] = newReference ?? before;
    this.acc[i] = 0n;
    return before;
  }

  rollback(i: number, delta: bigint): void {
    index(i, this.size, 'index');
    this.accum(i, inverse(this.group, u64(delta, 'delta')));
  }

  /** True when context i has no net pending delta. */
  isClean(i: number): boolean {
    index(i, this.size, 'index');
    return this.acc[i] === 0n;
  }

  reference(i: number): bigint {
    index(i, this.size, 'index');
    return this.ref[i]!;
  }

  accumulator(i: number): bigint {
    index(i, this.size, 'index');
    return this.acc[i]!;
  }

  /** Scatter-accumulate: context indices[k] receives deltas[k], for every k. */
  scatter(indices: Uint32Array, deltas: BigUint64Array): void {
    u32Array(indices, 'indices');
    bigU64Array(deltas, 'deltas');
    sameLength(indices, 'indices', deltas, 'deltas');
    if (!this.engine.scatter(this.group, this.ref, this.acc, indices, deltas)) this.rangeError(indices);
  }

  /** Gather-read: out[k] = state of context indices[k]. Returns `out` (new when omitted). */
  gather(indices: Uint32Array, out?: BigUint64Array): BigUint64Array {
    u32Array(indices, 'indices');
    if (out === undefined) out = new BigUint64Array(indices.length);
    bigU64Array(out, 'out');
    sameLength(indices, 'indices', out, 'out');
    if (!this.engine.gather(this.group, this.ref, this.acc, indices, out)) this.rangeError(indices);
    return out;
  }

  /** Batch load: context indices[k] gets reference values[k] and an empty accumulator. */
  loadMany(indices: Uint32Array, values: BigUint64Array): void {
    u32Array(indices, 'indices');
    bigU64Array(values, 'values');
    sameLength(indices, 'indices', values, 'values');
    if (!this.engine.load(this.ref, this.acc, indices, values)) this.rangeError(indices);
  }

  /** Every context's state, into `out` (new when omitted). */
  states(out?: BigUint64Array): BigUint64Array {
    if (out === undefined) out = new BigUint64Array(this.size);
    bigU64Array(out, 'out');
    if (out.length !== this.size) throw new RangeError(`out must have length ${this.size} (one word per context), got ${out.length}`);
    this.engine.states(this.group, this.ref, this.acc, out);
    return out;
  }

  /** The non-zero states, by index. */
  snapshot(): Map<number, bigint> {
    const all = this.states();
    const result = new Map<number, bigint>();
    for (let i = 0; i < all.length; i++) if (all[i] !== 0n) result.set(i, all[i]!);
    return result;
  }

  /** Runs mixed operations in order (validated as a whole first) and returns one result per op. */
  batch(ops: readonly BatchOp[]): BatchResult[] {
    const valid = validateBatch(ops, this.size);
    const encoded = encodeBatch(valid);
    this.engine.exec(this.group, this.ref, this.acc, encoded);
    return decodeResults(valid, encoded);
  }

  /** Engines refuse a batch with an index out of range and change nothing; this names the culprit. */
  private rangeError(indices: Uint32Array): never {
    indicesInRange(indices, this.size, 'indices');
    throw new RangeError(`indices are out of range [0, ${this.size})`);
  }

  private stateAt(i: number): bigint {
    return this.additive ? BigInt.asUintN(64, this.ref[i]! + this.acc[i]!) : this.ref[i]! ^ this.acc[i]!;
  }
}

/** A table's words, for in-package code that applies kernels to them in place (replication). */
export function tableWords(table: AtomikTable): { reference: BigUint64Array; accumulator: BigUint64Array } {
  return { reference: table['ref'], accumulator: table['acc'] };
}
