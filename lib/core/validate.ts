// One error vocabulary for every public method, in front of every engine:
// TypeError for a value of the wrong kind, RangeError for a value out of
// range, each naming the argument and carrying a code (lib/core/errors.ts).
// Checks run before any state changes.
import { types } from 'node:util';
import { AtomikRangeError, AtomikTypeError } from './errors.js';

export const U64_LIMIT = 1n << 64n;
export const U64_MAX = U64_LIMIT - 1n;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (types.isProxy(value)) return 'a Proxy';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? value.slice(0, 32) + '…' : value);
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (Array.isArray(value)) return 'an Array';
  return typeof value;
}

/** A 64-bit word: a bigint in [0, 2^64). Numbers are refused: above 2^53 they lose bits. */
export function u64(value: unknown, name: string): bigint {
  if (typeof value !== 'bigint') {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a bigint in [0, 2^64), got ${describe(value)}`);
  }
  if (value < 0n || value > U64_MAX) {
    throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `${name} must be in [0, 2^64), got ${value}n`);
  }
  return value;
}

/** The smallest decrement the 'add' group takes: -2^63. */
export const I64_MIN = -(1n << 63n);

/**
 * A delta for a group: a 64-bit word, and in the 'add' group also a
 * negative bigint down to -2^63, a decrement, taken as its two's complement
 * (what adding it modulo 2^64 means).
 */
export function groupDelta(value: unknown, additive: boolean, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value >= 0n && value <= U64_MAX) return value;
    if (additive && value < 0n && value >= I64_MIN) return BigInt.asUintN(64, value);
  }
  const range = additive ? '[-2^63, 2^64)' : '[0, 2^64)';
  if (typeof value !== 'bigint') throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a bigint in ${range}, got ${describe(value)}`);
  throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `${name} must be in ${range} in the '${additive ? 'add' : 'xor'}' group, got ${value}n`);
}

/** An integer index in [0, size). */
export function index(value: unknown, size: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be an integer, got ${describe(value)}`);
  }
  if (value < 0 || value >= size) {
    throw new AtomikRangeError('ERR_ATOMIK_INDEX_OUT_OF_RANGE', `${name} ${value} is out of range [0, ${size})`);
  }
  return value;
}

/** A count or size: an integer in [min, max]. */
export function integer(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `${name} must be in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/** A number in [min, max] (a duration, a rate); NaN is not a number here. */
export function number(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(value)}`);
  }
  if (!(value >= min && value <= max)) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `${name} must be in [${min}, ${max}], got ${value}`);
  return value;
}

/** A flag. */
export function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be true or false, got ${describe(value)}`);
  return value;
}

// TypedArrays are read through the intrinsic accessors, never through the
// object: a Proxy, a subclass or an own property cannot change what the
// kernels see, and a detached buffer is named as such.
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsic = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!.get!;
const tagOf = intrinsic(Symbol.toStringTag) as (this: unknown) => string | undefined;
const lengthOf = intrinsic('length') as (this: ArrayBufferView) => number;
const bufferOf = intrinsic('buffer') as (this: ArrayBufferView) => ArrayBufferLike;
const byteOffsetOf = intrinsic('byteOffset') as (this: ArrayBufferView) => number;

function isDetached(buffer: ArrayBufferLike): boolean {
  if (types.isSharedArrayBuffer(buffer)) return false;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

type TypedArrayClass<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly name: string };

/**
 * A plain view of the caller's TypedArray of type `cls`: same memory, no
 * subclass, no own properties. Rejects Proxies, other types, detached
 * buffers and objects whose `length` is not their element count.
 */
function typedView<T extends ArrayBufferView>(value: unknown, cls: TypedArrayClass<T>, name: string): T {
  const tag = types.isProxy(value) ? undefined : Reflect.apply(tagOf, value, []);
  if (tag !== cls.name) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a ${cls.name}, got ${describe(value)}`);
  const view = value as T & { length: number };
  const length = Reflect.apply(lengthOf, view, []);
  const buffer = Reflect.apply(bufferOf, view, []);
  if (length === 0 && isDetached(buffer)) {
    throw new AtomikTypeError('ERR_ATOMIK_DETACHED_BUFFER', `${name} is a view of a detached ArrayBuffer`);
  }
  const claimed = view.length;
  if (claimed !== length) {
    throw new AtomikTypeError(
      'ERR_ATOMIK_INVALID_ARG_TYPE',
      `${name} must be a ${cls.name}; its length property says ${describe(claimed)} but it holds ${length} elements`,
    );
  }
  return new cls(buffer, Reflect.apply(byteOffsetOf, view, []), length);
}

export function bigU64Array(value: unknown, name: string): BigUint64Array {
  return typedView(value, BigUint64Array, name);
}

export function u8Array(value: unknown, name: string): Uint8Array {
  return typedView(value, Uint8Array, name);
}

export function u32Array(value: unknown, name: string): Uint32Array {
  return typedView(value, Uint32Array, name);
}

/**
 * An array the call only reads: a plain view, or a private copy when it
 * lives in a SharedArrayBuffer, so another thread cannot change it between
 * the checks and the work.
 */
export function u32Input(value: unknown, name: string): Uint32Array {
  const view = u32Array(value, name);
  return types.isSharedArrayBuffer(view.buffer) ? view.slice() : view;
}

export function u64Input(value: unknown, name: string): BigUint64Array {
  const view = bigU64Array(value, name);
  return types.isSharedArrayBuffer(view.buffer) ? view.slice() : view;
}

/** Whether two plain views (as typedView and bytes() return them) share a byte of memory. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** `input`, copied when `out` overlaps it: a kernel writing out must still read every input as given. */
export function apart<T extends Uint8Array | Uint32Array>(input: T, out: ArrayBufferView): T {
  return overlaps(input, out) ? (input.slice() as T) : input;
}

const dataViewBuffer = Object.getOwnPropertyDescriptor(DataView.prototype, 'buffer')!.get! as (this: DataView) => ArrayBufferLike;
const dataViewOffset = Object.getOwnPropertyDescriptor(DataView.prototype, 'byteOffset')!.get! as (this: DataView) => number;
const dataViewLength = Object.getOwnPropertyDescriptor(DataView.prototype, 'byteLength')!.get! as (this: DataView) => number;
const byteLengthOf = intrinsic('byteLength') as (this: ArrayBufferView) => number;

/** Bytes: any TypedArray, DataView, ArrayBuffer or SharedArrayBuffer, as a plain Uint8Array over the same memory. */
export function bytes(value: unknown, name: string): Uint8Array {
  let view: [ArrayBufferLike, number, number];
  if (types.isProxy(value)) {
    view = badBytes(value, name);
  } else if (types.isTypedArray(value)) {
    view = [Reflect.apply(bufferOf, value, []), Reflect.apply(byteOffsetOf, value, []), Reflect.apply(byteLengthOf, value, [])];
  } else if (types.isDataView(value)) {
    view = [Reflect.apply(dataViewBuffer, value, []), 0, 0];
    if (!isDetached(view[0])) view = [view[0], Reflect.apply(dataViewOffset, value, []), Reflect.apply(dataViewLength, value, [])];
  } else if (types.isAnyArrayBuffer(value)) {
    view = [value, 0, isDetached(value) ? 0 : new Uint8Array(value).length];
  } else {
    view = badBytes(value, name);
  }
  const [buffer, offset, length] = view;
  if (length === 0 && isDetached(buffer)) throw new AtomikTypeError('ERR_ATOMIK_DETACHED_BUFFER', `${name} is a view of a detached ArrayBuffer`);
  return new Uint8Array(buffer, offset, length);
}

function badBytes(value: unknown, name: string): never {
  throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a Uint8Array, Buffer, ArrayBufferView or ArrayBuffer, got ${describe(value)}`);
}

export function sameLength(a: ArrayLike<unknown>, aName: string, b: ArrayLike<unknown>, bName: string): void {
  if (a.length !== b.length) {
    throw new AtomikRangeError('ERR_ATOMIK_LENGTH_MISMATCH', `${aName} (length ${a.length}) and ${bName} (length ${b.length}) must have the same length`);
  }
}

/** True when every index is below `size`: one branch-free pass (a max), no early exit. */
export function allBelow(indices: Uint32Array, size: number): boolean {
  let max = 0;
  for (let i = 0; i < indices.length; i++) if (indices[i]! > max) max = indices[i]!;
  return indices.length === 0 || max < size;
}

/** Every index must be below `size`; reports the first offender. */
export function indicesInRange(indices: Uint32Array, size: number, name: string): void {
  if (allBelow(indices, size)) return;
  const at = indices.findIndex((v) => v >= size);
  throw new AtomikRangeError('ERR_ATOMIK_INDEX_OUT_OF_RANGE', `${name}[${at}] = ${indices[at]} is out of range [0, ${size})`);
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** An object argument, e.g. an options bag. */
export function object<T>(value: T, name: string): T {
  if (typeof value !== 'object' || value === null) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be an object`);
  return value;
}

/** Edit distance (insert, delete, replace, swap of neighbours), ignoring case. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `name`, when it is close enough to be a typo of it. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const dist = distance(name, k);
    if (dist < bestDistance) [best, bestDistance] = [k, dist];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Every option name of T, from a record that must list each of them (a name left out does not compile). */
export function optionKeys<T>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(keys);
}

/**
 * Refuses an options bag with a key that is not one of `known`, so that a
 * typo (`grp` for `group`) fails loudly instead of falling back to a default.
 * The error names the nearest known key and lists them all.
 */
export function knownKeys(options: object, known: readonly string[], name: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = nearestName(key, known);
    throw new AtomikTypeError(
      'ERR_ATOMIK_INVALID_ARG_VALUE',
      `${name}.${key} is not an option${near ? ` (did you mean ${near}?)` : ''}; the options are ${known.join(', ')}`,
    );
  }
}
