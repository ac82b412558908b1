// The pure-JS engine. It works on 32-bit lanes of the BigUint64Arrays
// (a Uint32Array view of the same memory), so batch kernels never create a
// bigint per element: XOR is lane by lane, addition carries from the low
// lane into the high one.
import { arithmetic, type Group } from '../core/group.js';
import type { Engine } from './types.js';
import { AtomikRangeError } from '../core/errors.js';
import { allBelow } from '../core/validate.js';
import { ENTRY_STATUS, logEntryColumns } from './log-entry.js';
import { MAX_OP, NATIVE_LE, OP, addrAt, opcodeAt, opsView, setValueAt, valueAt } from './ops.js';

const LO = NATIVE_LE ? 0 : 1; // lane holding the low 32 bits of a word
const HI = 1 - LO;
const TWO32 = 4294967296;

function lanes(words: BigUint64Array): Uint32Array {
  return new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
}

function join(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function reduceXor(deltas: BigUint64Array): bigint {
  const w = lanes(deltas);
  let a = 0;
  let b = 0;
  for (let i = 0; i < w.length; i += 2) {
    a ^= w[i]!;
    b ^= w[i + 1]!;
  }
  return LO === 0 ? join(b, a) : join(a, b);
}

// Lane sums stay exact doubles for 2^20 words (2^20 * 2^32 < 2^53).
const ADD_BLOCK = 1 << 20;

function reduceAdd(deltas: BigUint64Array): bigint {
  const w = lanes(deltas);
  let total = 0n;
  for (let start = 0; start < deltas.length; start += ADD_BLOCK) {
    const end = Math.min(deltas.length, start + ADD_BLOCK) * 2;
    let lo = 0;
    let hi = 0;
    for (let i = start * 2; i < end; i += 2) {
      lo += w[i + LO]!;
      hi += w[i + HI]!;
    }
    total += BigInt(hi) * 4294967296n + BigInt(lo);
  }
  return BigInt.asUintN(64, total);
}

function scatter(group: Group, _ref: BigUint64Array, acc: BigUint64Array, idx: Uint32Array, deltas: BigUint64Array): boolean {
  if (!allBelow(idx, acc.length)) return false;
  const a = lanes(acc);
  const d = lanes(deltas);
  if (group === 'xor') {
    for (let j = 0; j < idx.length; j++) {
      const k = idx[j]! * 2;
      a[k] = a[k]! ^ d[2 * j]!;
      a[k + 1] = a[k + 1]! ^ d[2 * j + 1]!;
    }
    return true;
  }
  for (let j = 0; j < idx.length; j++) {
    const k = idx[j]! * 2;
    const lo = a[k + LO]! + d[2 * j + LO]!;
    a[k + LO] = lo; // the store wraps modulo 2^32
    a[k + HI] = a[k + HI]! + d[2 * j + HI]! + (lo >= TWO32 ? 1 : 0);
  }
  return true;
}

// out[j] = ref[k] (+) acc[k] for k = pick(j); used by gather and states.
function combineInto(group: Group, ref: BigUint64Array, acc: BigUint64Array, out: BigUint64Array, pick: ((j: number) => number) | null): void {
  const r = lanes(ref);
  const a = lanes(acc);
  const o = lanes(out);
  const n = out.length;
  for (let j = 0; j < n; j++) {
    const k = (pick === null ? j : pick(j)) * 2;
    if (group === 'xor') {
      o[2 * j] = r[k]! ^ a[k]!;
      o[2 * j + 1] = r[k + 1]! ^ a[k + 1]!;
    } else {
      const lo = r[k + LO]! + a[k + LO]!;
      o[2 * j + LO] = lo;
      o[2 * j + HI] = r[k + HI]! + a[k + HI]! + (lo >= TWO32 ? 1 : 0);
    }
  }
}

function exec(group: Group, ref: BigUint64Array, acc: BigUint64Array, ops: BigUint64Array): void {
  const view = opsView(ops);
  const count = ops.length / 2;
  const arith = arithmetic(group);
  // Everything is checked before anything runs, as in the C executor.
  for (let i = 0; i < count; i++) {
    if (opcodeAt(view, i) > MAX_OP) throw new AtomikRangeError('ERR_ATOMIK_INVALID_ARG_VALUE', `ops[${i}] has unknown opcode ${opcodeAt(view, i)}`);
    if (addrAt(view, i) >= ref.length)
      throw new AtomikRangeError('ERR_ATOMIK_INDEX_OUT_OF_RANGE', `ops[${i}] index ${addrAt(view, i)} is out of range [0, ${ref.length})`);
  }
  for (let i = 0; i < count; i++) {
    const k = addrAt(view, i);
    const state = arith.combine(ref[k]!, acc[k]!);
    switch (opcodeAt(view, i)) {
      case OP.load:
        ref[k] = valueAt(view, i);
        acc[k] = 0n;
        break;
      case OP.accum:
        arith.accumulate(acc, k, valueAt(view, i));
        break;
      case OP.read:
        setValueAt(view, i, state);
        break;
      case OP.swap:
        ref[k] = state;
        acc[k] = 0n;
        setValueAt(view, i, state);
        break;
      case OP.status:
        setValueAt(view, i, acc[k] === 0n ? 1n : 0n);
        break;
      case OP.swapTo:
        ref[k] = valueAt(view, i);
        acc[k] = 0n;
        setValueAt(view, i, state);
        break;
    }
  }
}

// ---- fingerprints -------------------------------------------------------

// Calls fn(lo, hi, position) for each little-endian 64-bit chunk of data,
// the last one zero-padded.
function forEachChunk(data: Uint8Array, fn: (lo: number, hi: number, position: number) => void): void {
  const whole = data.length >>> 3;
  if (NATIVE_LE && data.byteOffset % 4 === 0) {
    const w = new Uint32Array(data.buffer, data.byteOffset, whole * 2);
    for (let i = 0; i < whole; i++) fn(w[2 * i]!, w[2 * i + 1]!, i);
  } else {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < whole; i++) fn(v.getUint32(8 * i, true), v.getUint32(8 * i + 4, true), i);
  }
  const rest = data.length & 7;
  if (rest === 0) return;
  let lo = 0;
  let hi = 0;
  for (let b = 0; b < rest; b++) {
    const byte = data[whole * 8 + b]!;
    if (b < 4) lo |= byte << (8 * b);
    else hi |= byte << (8 * (b - 4));
  }
  fn(lo >>> 0, hi >>> 0, whole);
}

function foldXor(data: Uint8Array): bigint {
  let lo = 0;
  let hi = 0;
  forEachChunk(data, (l, h) => {
    lo ^= l;
    hi ^= h;
  });
  return join(hi, lo);
}

// 64-bit arithmetic on (hi, lo) lanes for the position-aware fold, without
// bigints. Results land in zHi/zLo to avoid allocating pairs.
let zHi = 0;
let zLo = 0;

/** High 32 bits of the 64-bit product of two uint32 values. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const m1 = a1 * b0 + ((a0 * b0) >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16)) >>> 0;
}

/** z = z * (cHi, cLo) mod 2^64 */
function mulZ(cHi: number, cLo: number): void {
  const hi = (mulHigh32(zLo, cLo) + Math.imul(zLo, cHi) + Math.imul(zHi, cLo)) >>> 0;
  zLo = Math.imul(zLo, cLo) >>> 0;
  zHi = hi;
}

/** z ^= z >> s, for 0 < s < 32 */
function xorShiftZ(s: number): void {
  zLo = (zLo ^ ((zLo >>> s) | (zHi << (32 - s)))) >>> 0;
  zHi = (zHi ^ (zHi >>> s)) >>> 0;
}

/** SplitMix64 finaliser on z: the package's one copy in TypeScript (native/atomik.c has C's). */
function mixZ(): void {
  xorShiftZ(30);
  mulZ(0xbf58476d, 0x1ce4e5b9);
  xorShiftZ(27);
  mulZ(0x94d049bb, 0x133111eb);
  xorShiftZ(31);
}

const KEY_HI = 0x9e3779b9;
const KEY_LO = 0x7f4a7c15;
const SALT_HI = 0xa0761d64;
const SALT_LO = 0x78bd642f;

/** z = mix(chunk ^ key(position)): one chunk's term of the positional fold. */
function termZ(cLo: number, cHi: number, position: number): void {
  const p = position + 1;
  zHi = Math.floor(p / TWO32);
  zLo = p >>> 0;
  mulZ(KEY_HI, KEY_LO); // key(position)
  zHi = (zHi ^ cHi) >>> 0;
  zLo = (zLo ^ cLo) >>> 0;
  mixZ();
}

function foldPositional(data: Uint8Array): bigint {
  const n = data.length;
  zHi = Math.floor(n / TWO32) ^ SALT_HI;
  zLo = (n >>> 0) ^ SALT_LO;
  mixZ();
  let hi = zHi;
  let lo = zLo;
  forEachChunk(data, (cLo, cHi, position) => {
    termZ(cLo, cHi, position);
    hi ^= zHi;
    lo ^= zLo;
  });
  return join(hi, lo);
}

/** The SplitMix64 finaliser of a 64-bit value. */
export function mix64(z: bigint): bigint {
  zHi = Number(z >> 32n) >>> 0;
  zLo = Number(z & 0xffffffffn);
  mixZ();
  return join(zHi, zLo);
}

/** The positional fold's term for one chunk (a u64) at one position (see native/atomik.h). */
export function positionalTerm(chunk: bigint, position: number): bigint {
  termZ(Number(chunk & 0xffffffffn), Number(chunk >> 32n) >>> 0, position);
  return join(zHi, zLo);
}

export const jsEngine: Engine = {
  name: 'js',
  reduce: (group, deltas) => (group === 'xor' ? reduceXor(deltas) : reduceAdd(deltas)),
  scatter,
  gather(group, ref, acc, idx, out) {
    if (!allBelow(idx, ref.length)) return false;
    combineInto(group, ref, acc, out, (j) => idx[j]!);
    return true;
  },
  load(ref, acc, idx, values) {
    if (!allBelow(idx, ref.length)) return false;
    const r = lanes(ref);
    const a = lanes(acc);
    const v = lanes(values);
    for (let j = 0; j < idx.length; j++) {
      const k = idx[j]! * 2;
      r[k] = v[2 * j]!;
      r[k + 1] = v[2 * j + 1]!;
      a[k] = 0;
      a[k + 1] = 0;
    }
    return true;
  },
  states: (group, ref, acc, out) => combineInto(group, ref, acc, out, null),
  exec,
  applyBatch(group, ref, acc, partition, entry) {
    const columns = logEntryColumns(entry, group, partition, true);
    if (typeof columns === 'number') return columns;
    return scatter(group, ref, acc, columns.indices, columns.deltas) ? ENTRY_STATUS.ok : ENTRY_STATUS.range;
  },
  foldXor,
  foldPositional,
};
