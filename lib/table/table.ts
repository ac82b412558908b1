import { validateBatch, type BatchOp, type BatchResult } from './batch.js';
import { groupOption, type Group, type GroupArithmetic } from '../core/group.js';
import { resolveEngine, type EngineChoice } from '../engine/select.js';
import type { Engine } from '../engine/types.js';
import { AtomikRangeError, AtomikTypeError } from '../core/errors.js';
import { TableCore } from './table-core.js';
import {
  U64_MAX,
  apart,
  bigU64Array,
  groupDelta,
  index,
  integer,
  knownKeys,
  object,
  optionKeys,
  sameLength,
  u32Input,
  u64,
  u64Input,
} from '../core/validate.js';

export interface TableOptions {
  /** 'xor' (ATOMiK, default) or 'add' (integers mod 2^64, for counters). */
  group?: Group;
  /** Kernels for batch calls: 'auto' (default), 'js', 'native', or an Engine. */
  engine?: EngineChoice | Engine;
}

const TABLE_OPTION_KEYS = optionKeys<TableOptions>({ group: true, engine: true });

/** Largest table: indices are 32-bit. */
export const MAX_TABLE_SIZE = 0xffffffff;

// Set by AtomikTable's static block: reads the private core.
let coreOf: (table: unknown) => TableCore | undefined;

/**
 * `size` contexts addressed by index. References and accumulators live in
 * two BigUint64Arrays that the engine's batch kernels work on in place.
 * Every method reads its arguments once into plain values (see validate.ts), checks them,
 * then hands them to the unchecked core. Out-of-range indices are
 * RangeErrors; a rejected call changes nothing.
 */
export class AtomikTable {
  readonly size: number;
  readonly group: Group;
  readonly engine: Engine;
  readonly #core: TableCore;
  readonly #acc: BigUint64Array; // the core's, held here too: the scalar accum is the hot path
  readonly #arith: GroupArithmetic;

  static {
    coreOf = (table) => (typeof table === 'object' && table !== null && #core in table ? table.#core : undefined);
  }

  constructor(size: number, options: TableOptions = {}) {
    integer(size, 0, MAX_TABLE_SIZE, 'size');
    object(options, 'options');
    knownKeys(options, TABLE_OPTION_KEYS, 'options');
    this.size = size;
    this.group = groupOption(options.group);
    this.engine = resolveEngine(options.engine);
    this.#core = new TableCore(size, this.group, this.engine);
    this.#acc = this.#core.acc;
    this.#arith = this.#core.arith;
  }

  load(i: number, value: bigint): void {
    this.#core.load(index(i, this.size, 'index'), u64(value, 'value'));
  }

  accum(i: number, delta: bigint): void {
    index(i, this.size, 'index');
    // In the 'add' group a negative delta is a decrement (its two's complement).
    if (typeof delta !== 'bigint' || delta < 0n || delta > U64_MAX) delta = groupDelta(delta, this.#arith.group === 'add', 'delta');
    this.#arith.accumulate(this.#acc, i, delta);
  }

  /** Applies every delta of the array to context i (one engine call). */
  accumMany(i: number, deltas: BigUint64Array): void {
    this.#core.accumMany(index(i, this.size, 'index'), bigU64Array(deltas, 'deltas'));
  }

  read(i: number): bigint {
    return this.#core.read(index(i, this.size, 'index'));
  }

  /** Returns the state before the swap; the new reference is `newReference` or that state. */
  swap(i: number, newReference?: bigint): bigint {
    index(i, this.size, 'index');
    return this.#core.swap(i, newReference === undefined ? undefined : u64(newReference, 'newReference'));
  }

  rollback(i: number, delta: bigint): void {
    index(i, this.size, 'index');
    this.#core.accum(i, this.#arith.inverse(u64(delta, 'delta')));
  }

  /** True when context i has no net pending delta. */
  isClean(i: number): boolean {
    return this.#core.isClean(index(i, this.size, 'index'));
  }

  reference(i: number): bigint {
    return this.#core.ref[index(i, this.size, 'index')]!;
  }

  accumulator(i: number): bigint {
    return this.#core.acc[index(i, this.size, 'index')]!;
  }

  /** Scatter-accumulate: context indices[k] receives deltas[k], for every k. */
  scatter(indices: Uint32Array, deltas: BigUint64Array): void {
    const idx = u32Input(indices, 'indices');
    const d = u64Input(deltas, 'deltas');
    sameLength(idx, 'indices', d, 'deltas');
    this.#core.scatter(idx, d);
  }

  /** Gather-read: out[k] = state of context indices[k]. Returns `out` (new when omitted). */
  gather(indices: Uint32Array, out?: BigUint64Array): BigUint64Array {
    let idx = u32Input(indices, 'indices');
    if (out === undefined) out = new BigUint64Array(idx.length);
    const o = bigU64Array(out, 'out');
    sameLength(idx, 'indices', o, 'out');
    idx = apart(idx, o);
    this.#core.gather(idx, o);
    return out;
  }

  /** Batch load: context indices[k] gets reference values[k] and an empty accumulator. */
  loadMany(indices: Uint32Array, values: BigUint64Array): void {
    const idx = u32Input(indices, 'indices');
    const v = u64Input(values, 'values');
    sameLength(idx, 'indices', v, 'values');
    this.#core.loadMany(idx, v);
  }

  /** Every context's state, into `out` (new when omitted). */
  states(out?: BigUint64Array): BigUint64Array {
    if (out === undefined) out = new BigUint64Array(this.size);
    const o = bigU64Array(out, 'out');
    if (o.length !== this.size)
      throw new AtomikRangeError('ERR_ATOMIK_LENGTH_MISMATCH', `out must have length ${this.size} (one word per context), got ${o.length}`);
    this.#core.states(o);
    return out;
  }

  /** The non-zero states, by index. */
  nonZeroStates(): Map<number, bigint> {
    const all = this.states();
    const result = new Map<number, bigint>();
    for (let i = 0; i < all.length; i++) if (all[i] !== 0n) result.set(i, all[i]!);
    return result;
  }

  /** Runs mixed operations in order (read once and validated as a whole first) and returns one result per op. */
  batch(ops: readonly BatchOp[]): BatchResult[] {
    return this.#core.batch(validateBatch(ops, this.size));
  }
}

/**
 * The unchecked core behind a table, for the in-process backend (not
 * exported from the package). Only tables the constructor made have one: a
 * look-alike (made from the prototype, or a Proxy) is refused.
 */
export function tableCore(table: unknown, name = 'table'): TableCore {
  const core = coreOf(table);
  if (core === undefined) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be an AtomikTable`);
  return core;
}
