// Version 2 of the replication batch: the same 48-byte header, then the
// indices ascending as LEB128 gaps and the deltas as LEB128 varints
// (zigzag in the add group, so +1 is one byte). lib/replicate/BATCH-FORMAT.md
// specifies it; native/batch.c decodes it with the same checks in the same
// order, so both engines give one status for any input.
import { NATIVE_LE } from './ops.js';

export const COMPACT_VERSION = 2;
const HEADER = 48;

/** Status codes of the compact columns, shared with native/batch.h. */
export const COMPACT_STATUS = {
  truncated: -7,
  order: -8,
  overlong: -9,
  trailing: -10,
} as const;

const LO = NATIVE_LE ? 0 : 1; // lane holding the low 32 bits of a word
const HI = 1 - LO;

/** Whether a count of updates fits the two column lengths (each varint takes a byte at least). */
export function compactFits(n: number, indexBytes: number, length: number): boolean {
  return length >= HEADER && length - HEADER >= indexBytes && n <= indexBytes && n <= length - HEADER - indexBytes;
}

// Varints are written here first (at most 5 bytes an index, 10 a delta), then copied out once the size is known.
let indexScratch = new Uint8Array(0);
let deltaScratch = new Uint8Array(0);

/**
 * A compact entry for n updates with strictly ascending `indices` (lanes:
 * the deltas' 32-bit halves), or null when the columns entry of version 1
 * (`columnsBytes`) would not be larger. The header is left to the caller
 * but for bytes 12..15, the index column's length.
 */
export function encodeCompact(add: boolean, indices: Uint32Array, lanes: Uint32Array, n: number, columnsBytes: number): Uint8Array | null {
  if (indexScratch.length < 5 * n) {
    indexScratch = new Uint8Array(5 * n);
    deltaScratch = new Uint8Array(10 * n);
  }
  const ix = indexScratch;
  const dx = deltaScratch;
  let p = 0;
  let q = 0;
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const k = indices[i]!;
    let gap = k - previous;
    previous = k;
    while (gap >= 0x80) {
      ix[p++] = (gap & 0x7f) | 0x80;
      gap >>>= 7;
    }
    ix[p++] = gap;
    let lo = lanes[2 * i + LO]!;
    let hi = lanes[2 * i + HI]!;
    if (add) {
      // zigzag: (d << 1) ^ (d >> 63) on the halves, so small magnitudes either side of 0 stay small
      const sign = hi >> 31;
      hi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
      lo = ((lo << 1) ^ sign) >>> 0;
    }
    while (hi !== 0 || lo >= 0x80) {
      dx[q++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    dx[q++] = lo;
  }
  if (HEADER + p + q >= columnsBytes) return null;
  const out = new Uint8Array(HEADER + p + q);
  new DataView(out.buffer).setUint32(12, p, true);
  out.set(ix.subarray(0, p), HEADER);
  out.set(dx.subarray(0, q), HEADER + p);
  return out;
}

/**
 * Decodes the columns of a compact entry of n updates (its header checked
 * already, the count fitting the lengths) into `indices` and the 32-bit
 * halves `lanes` of the deltas. Returns 0, a COMPACT_STATUS in stream
 * order, or -1 (range) when an index passes 2^32 - 1.
 */
export function decodeCompact(entry: Uint8Array, n: number, add: boolean, indices: Uint32Array, lanes: Uint32Array): number {
  const indexEnd = HEADER + new DataView(entry.buffer, entry.byteOffset + 12, 4).getUint32(0, true);
  const end = entry.length;
  let p = HEADER;
  let q = indexEnd;
  let k = 0;
  let beyond = false;
  for (let i = 0; i < n; i++) {
    // The index gap: a u32 varint.
    if (p >= indexEnd) return COMPACT_STATUS.truncated;
    let b = entry[p++]!;
    let gap = b;
    if (b >= 0x80) {
      gap = b & 0x7f;
      let shift = 7;
      for (;;) {
        if (p >= indexEnd) return COMPACT_STATUS.truncated;
        b = entry[p++]!;
        if (shift === 28 && b > 0x0f) return COMPACT_STATUS.overlong;
        gap += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) break;
        shift += 7;
      }
      if (b === 0) return COMPACT_STATUS.overlong;
    }
    if (i > 0 && gap === 0) return COMPACT_STATUS.order;
    k += gap;
    if (k > 0xffffffff) {
      beyond = true;
      k = 0x100000000; // stays out of range without losing precision
    }
    indices[i] = k;
    // The delta: a u64 varint, zigzag-coded in the add group.
    if (q >= end) return COMPACT_STATUS.truncated;
    b = entry[q++]!;
    let lo = b;
    let hi = 0;
    if (b >= 0x80) {
      lo = b & 0x7f;
      let shift = 7;
      for (;;) {
        if (q >= end) return COMPACT_STATUS.truncated;
        b = entry[q++]!;
        const bits = b & 0x7f;
        if (shift < 28) lo |= bits << shift;
        else if (shift === 28) {
          lo |= bits << 28;
          hi = bits >>> 4;
        } else if (shift < 63) hi |= bits << (shift - 32);
        else {
          if (b > 1) return COMPACT_STATUS.overlong;
          hi |= b << 31;
        }
        if (b < 0x80) break;
        shift += 7;
      }
      if (b === 0) return COMPACT_STATUS.overlong;
      lo >>>= 0;
      hi >>>= 0;
    }
    if (add) {
      const negative = -(lo & 1);
      const l = ((lo >>> 1) | (hi << 31)) ^ negative;
      hi = (hi >>> 1) ^ negative;
      lo = l;
    }
    lanes[2 * i + LO] = lo;
    lanes[2 * i + HI] = hi;
  }
  if (p !== indexEnd || q !== end) return COMPACT_STATUS.trailing;
  return beyond ? -1 : 0;
}
