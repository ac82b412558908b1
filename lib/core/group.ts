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

export function combine(group: Group, a: bigint, b: bigint): bigint {
  return group === 'xor' ? a ^ b : BigInt.asUintN(64, a + b);
}

export function inverse(group: Group, d: bigint): bigint {
  return group === 'xor' ? d : BigInt.asUintN(64, -d);
}
