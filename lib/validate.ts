// One error vocabulary for every public method, in front of every engine:
// TypeError for a value of the wrong kind, RangeError for a value out of
// range, each naming the argument. Checks run before any state changes.

export const U64_LIMIT = 1n << 64n;
export const U64_MAX = U64_LIMIT - 1n;

function describe(value: unknown): string {
  if (value === null) return 'null';
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
    throw new TypeError(`${name} must be a bigint in [0, 2^64), got ${describe(value)}`);
  }
  if (value < 0n || value > U64_MAX) {
    throw new RangeError(`${name} must be in [0, 2^64), got ${value}n`);
  }
  return value;
}

/** An integer index in [0, size). */
export function index(value: unknown, size: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (value < 0 || value >= size) {
    throw new RangeError(`${name} ${value} is out of range [0, ${size})`);
  }
  return value;
}

/** A count or size: an integer in [min, max]. */
export function integer(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export function bigU64Array(value: unknown, name: string): BigUint64Array {
  if (!(value instanceof BigUint64Array)) {
    throw new TypeError(`${name} must be a BigUint64Array, got ${describe(value)}`);
  }
  return value;
}

export function u32Array(value: unknown, name: string): Uint32Array {
  if (!(value instanceof Uint32Array)) {
    throw new TypeError(`${name} must be a Uint32Array, got ${describe(value)}`);
  }
  return value;
}

export function bytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`${name} must be a Uint8Array, Buffer, ArrayBufferView or ArrayBuffer, got ${describe(value)}`);
}

export function sameLength(a: ArrayLike<unknown>, aName: string, b: ArrayLike<unknown>, bName: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${aName} (length ${a.length}) and ${bName} (length ${b.length}) must have the same length`);
  }
}

/** The largest index in `indices` must be below `size`; reports the first offender. */
/** True when every index is below `size`: one branch-free pass (a max), no early exit. */
export function allBelow(indices: Uint32Array, size: number): boolean {
  let max = 0;
  for (let i = 0; i < indices.length; i++) if (indices[i]! > max) max = indices[i]!;
  return indices.length === 0 || max < size;
}

export function indicesInRange(indices: Uint32Array, size: number, name: string): void {
  if (allBelow(indices, size)) return;
  const at = indices.findIndex((v) => v >= size);
  throw new RangeError(`${name}[${at}] = ${indices[at]} is out of range [0, ${size})`);
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}
