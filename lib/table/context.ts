import { arithmetic, groupOption, type Group, type GroupArithmetic } from '../core/group.js';
import { resolveEngine, type EngineChoice } from '../engine/select.js';
import type { Engine } from '../engine/types.js';
import { AtomikTypeError } from '../core/errors.js';
import { U64_MAX, bigU64Array, groupDelta, knownKeys, object, optionKeys, u64 } from '../core/validate.js';

const REF = 0;
const ACC = 1;

export interface ContextOptions {
  /** 'xor' (ATOMiK, default) or 'add' (integers mod 2^64, for counters). */
  group?: Group;
  /** Kernels for batch calls: 'auto' (default), 'js', 'native', or an Engine. */
  engine?: EngineChoice | Engine;
}

const CONTEXT_OPTION_KEYS = optionKeys<ContextOptions>({ group: true, engine: true });

/**
 * One delta-state context: state = reference (+) accumulator.
 * Scalar operations run in plain JS (no native crossing, no Promise);
 * accumMany hands whole arrays to the engine. Reference and accumulator
 * live in a BigUint64Array: V8 then does the 64-bit arithmetic without
 * allocating a bigint per operation, and stores wrap modulo 2^64, which is
 * exactly the add group.
 */
export class AtomikContext {
  readonly group: Group;
  readonly engine: Engine;
  private readonly words = new BigUint64Array(2); // [reference, accumulator]
  private count = 0;
  private readonly arith: GroupArithmetic;
  readonly #brand = true; // only real contexts have it: merge() refuses look-alikes and Proxies

  constructor(options: ContextOptions = {}) {
    object(options, 'options');
    knownKeys(options, CONTEXT_OPTION_KEYS, 'options');
    this.group = groupOption(options.group);
    this.arith = arithmetic(this.group);
    this.engine = resolveEngine(options.engine);
  }

  /** Sets the reference, clears the accumulator and the delta count. */
  load(value: bigint): void {
    this.words[REF] = u64(value, 'value');
    this.words[ACC] = 0n;
    this.count = 0;
  }

  /** Applies one delta; in the 'add' group a negative one (down to -2^63) is a decrement. */
  accum(delta: bigint): void {
    if (typeof delta !== 'bigint' || delta < 0n || delta > U64_MAX) delta = groupDelta(delta, this.arith.group === 'add', 'delta');
    this.arith.accumulate(this.words, ACC, delta);
    this.count++;
  }

  /** Applies every delta of the array (one engine call). */
  accumMany(deltas: BigUint64Array): void {
    const d = bigU64Array(deltas, 'deltas');
    this.arith.accumulate(this.words, ACC, this.engine.reduce(this.group, d));
    this.count += d.length;
  }

  /** The current state: reference (+) accumulator. */
  read(): bigint {
    const w = this.words;
    return this.arith.combine(w[REF]!, w[ACC]!);
  }

  /**
   * Starts a new epoch: returns the state before the swap and makes
   * `newReference` (default: that state) the reference, with an empty accumulator.
   */
  swap(newReference?: bigint): bigint {
    if (newReference !== undefined) u64(newReference, 'newReference');
    const before = this.read();
    this.words[REF] = newReference ?? before;
    this.words[ACC] = 0n;
    this.count = 0;
    return before;
  }

  /** Undoes a delta applied earlier: XOR applies it again, add subtracts it. */
  rollback(delta: bigint): void {
    this.accum(this.arith.inverse(u64(delta, 'delta')));
  }

  /** Folds another context's accumulator (and delta count) into this one. */
  merge(other: AtomikContext): void {
    if (typeof other !== 'object' || other === null || !(#brand in other))
      throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'other must be an AtomikContext');
    if (other.group !== this.group) {
      throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `other must use the same group: this is '${this.group}', other is '${other.group}'`);
    }
    this.arith.accumulate(this.words, ACC, other.words[ACC]!);
    this.count += other.count;
  }

  get reference(): bigint {
    return this.words[REF]!;
  }

  get accumulator(): bigint {
    return this.words[ACC]!;
  }

  /** True when no net delta is pending (the accumulator is the identity). */
  get isClean(): boolean {
    return this.words[ACC] === 0n;
  }

  /** Deltas applied since the last load or swap (merge adds the other's count). */
  get deltaCount(): number {
    return this.count;
  }

  toString(): string {
    const hex = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');
    return `AtomikContext(${this.group}, state=${hex(this.read())}, reference=${hex(this.reference)}, accumulator=${hex(this.accumulator)}, deltas=${this.count})`;
  }
}
