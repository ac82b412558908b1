import { combine, groupOption, inverse, type Group } from './group.js';
import { resolveEngine, type EngineChoice } from './engine/select.js';
import type { Engine } from './engine/types.js';
import { U64_MAX, bigU64Array, u64 } from './validate.js';

export interface ContextOptions {
  /** 'xor' (ATOMiK, default) or 'add' (integers mod 2^64, for counters). */
  group?: Group;
  /** Kernels for batch calls: 'auto' (default), 'js', 'native', or an Engine. */
  engine?: EngineChoice | Engine;
}

/**
 * One delta-state context: state = reference (+) accumulator.
 * Scalar operations run in plain JS on bigints (no native crossing, no
 * Promise); accumMany hands whole arrays to the engine.
 */
export class AtomikContext {
  readonly group: Group;
  readonly engine: Engine;
  private ref = 0n;
  private acc = 0n;
  private count = 0;
  private readonly additive: boolean;

  constructor(options: ContextOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.group = groupOption(options.group);
    this.additive = this.group === 'add';
    this.engine = resolveEngine(options.engine);
  }

  /** Sets the reference, clears the accumulator and the delta count. */
  load(value: bigint): void {
    this.ref = u64(value, 'value');
    this.acc = 0n;
    this.count = 0;
  }

  /** Applies one delta. */
  accum(delta: bigint): void {
    if (typeof delta !== 'bigint' || delta < 0n || delta > U64_MAX) u64(delta, 'delta');
    this.acc = this.additive ? BigInt.asUintN(64, this.acc + delta) : this.acc ^ delta;
    this.count++;
  }

  /** Applies every delta of the array (one engine call). */
  accumMany(deltas: BigUint64Array): void {
    bigU64Array(deltas, 'deltas');
    this.acc = combine(this.group, this.acc, this.engine.reduce(this.group, deltas));
    this.count += deltas.length;
  }

  /** The current state: reference (+) accumulator. */
  read(): bigint {
    return this.additive ? BigInt.asUintN(64, this.ref + this.acc) : this.ref ^ this.acc;
  }

  /**
   * Starts a new epoch: returns the state before the swap and makes
   * `newReference` (default: that state) the reference, with an empty accumulator.
   */
  swap(newReference?: bigint): bigint {
    if (newReference !== undefined) u64(newReference, 'newReference');
    const before = this.read();
    this.ref = newReference ?? before;
    this.acc = 0n;
    this.count = 0;
    return before;
  }

  /** Undoes a delta applied earlier: XOR applies it again, add subtracts it. */
  rollback(delta: bigint): void {
    this.accum(inverse(this.group, u64(delta, 'delta')));
  }

  /** Folds another context's accumulator (and delta count) into this one. */
  merge(other: AtomikContext): void {
    if (!(other instanceof AtomikContext)) throw new TypeError('other must be an AtomikContext');
    if (other.group !== this.group) {
      throw new TypeError(`other must use the same group: this is '${this.group}', other is '${other.group}'`);
    }
    this.acc = combine(this.group, this.acc, other.acc);
    this.count += other.count;
  }

  get reference(): bigint {
    return this.ref;
  }

  get accumulator(): bigint {
    return this.acc;
  }

  /** True when no net delta is pending (the accumulator is the identity). */
  get isClean(): boolean {
    return this.acc === 0n;
  }

  /** Deltas applied since the last load or swap (merge adds the other's count). */
  get deltaCount(): number {
    return this.count;
  }

  toString(): string {
    const hex = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');
    return `AtomikContext(${this.group}, state=${hex(this.read())}, reference=${hex(this.ref)}, accumulator=${hex(this.acc)}, deltas=${this.count})`;
  }
}
