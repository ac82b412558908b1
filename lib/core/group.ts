import { oneOf } from './validate.js';

/**
 * The group a context accumulates in. Both are commutative, so the order of
 * deltas never matters.
 * - `xor`: ATOMiK. Every delta is its own inverse; +1 twice gives 0.
 * - `add`: integers modulo 2^64. A counter; the inverse of d is 2^64 - d.
 */
export type Group = 'xor' | 'add';
export const GROUPS: readonly Group[] = ['xor', 'add'];

/** Group codes shared with the C library (atomik_group). */
export const GROUP_CODE: Record<Group, 0 | 1> = { xor: 0, add: 1 };

export function groupOption(value: unknown): Group {
  return value === undefined ? 'xor' : oneOf(value, GROUPS, 'options.group');
}

/**
 * The arithmetic of one group on 64-bit words: the one place that says what
 * "combine" and "inverse" are. Contexts, tables and streams pick it once
 * (arithmetic(group)), so their hot paths make one monomorphic call and
 * branch on nothing. The engines' batch kernels work on 32-bit lanes and
 * are the only other place that combines words.
 */
export interface GroupArithmetic {
  readonly group: Group;
  /** a (+) b, in [0, 2^64). */
  combine(a: bigint, b: bigint): bigint;
  /** The delta that undoes d. */
  inverse(d: bigint): bigint;
  /** words[i] = words[i] (+) d. */
  accumulate(words: BigUint64Array, i: number, d: bigint): void;
}

// Two classes, not two object literals: each has its own hidden class, so a
// call site that meets both groups stays polymorphic and V8 still inlines it.
class XorArithmetic implements GroupArithmetic {
  readonly group = 'xor' as const;
  combine(a: bigint, b: bigint): bigint {
    return a ^ b;
  }
  inverse(d: bigint): bigint {
    return d;
  }
  accumulate(words: BigUint64Array, i: number, d: bigint): void {
    words[i] = words[i]! ^ d;
  }
}

class AddArithmetic implements GroupArithmetic {
  readonly group = 'add' as const;
  combine(a: bigint, b: bigint): bigint {
    return BigInt.asUintN(64, a + b);
  }
  inverse(d: bigint): bigint {
    return BigInt.asUintN(64, -d);
  }
  accumulate(words: BigUint64Array, i: number, d: bigint): void {
    words[i] = words[i]! + d; // a BigUint64Array store wraps modulo 2^64: exactly this group
  }
}

const XOR: GroupArithmetic = Object.freeze(new XorArithmetic());
const ADD: GroupArithmetic = Object.freeze(new AddArithmetic());

export function arithmetic(group: Group): GroupArithmetic {
  return group === 'xor' ? XOR : ADD;
}

export function combine(group: Group, a: bigint, b: bigint): bigint {
  return arithmetic(group).combine(a, b);
}

export function inverse(group: Group, d: bigint): bigint {
  return arithmetic(group).inverse(d);
}
