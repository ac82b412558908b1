// The raw addon, handed anything at all, throws a TypeError or RangeError or
// returns an error status: it never crashes the process and never touches
// memory outside the arrays it was given.
import { expect, it } from 'vitest';
import { nativeBinding as b, noNative } from '../helpers/engines.js';
import { describeUnless } from '../helpers/skip.js';

const junk: unknown[] = [
  undefined,
  null,
  0,
  -1,
  2 ** 40,
  NaN,
  'x',
  1n,
  {},
  [],
  [1n],
  () => 0,
  new Uint8Array(8),
  new BigInt64Array(2),
  new Float64Array(2),
  new DataView(new ArrayBuffer(8)),
];

describeUnless(noNative, 'native binding robustness', () => {
  it('exports the kernels and nothing else (the benchmark baselines are a bench-only build)', () => {
    expect(Object.keys(b!).sort()).toEqual([
      'abiVersion',
      'applyBatch',
      'batchChecksum',
      'exec',
      'foldPositional',
      'foldXor',
      'gather',
      'load',
      'reduce',
      'scatter',
      'states',
      'streamReceive',
    ]);
  });

  it('every function rejects arguments of the wrong kind with a TypeError', () => {
    const fns = ['reduce', 'scatter', 'gather', 'load', 'states', 'exec', 'foldXor', 'foldPositional'] as const;
    for (const name of fns) {
      const fn = b![name] as (...args: unknown[]) => unknown;
      for (const j of junk) {
        for (let position = 0; position < 5; position++) {
          const args: unknown[] = [0, new BigUint64Array(4), new BigUint64Array(4), new Uint32Array(4), new BigUint64Array(4)];
          if (name === 'load') args.shift();
          if (name === 'foldXor' || name === 'foldPositional') args.splice(0, args.length, new Uint8Array(4));
          args[position] = j;
          try {
            fn(...args);
          } catch (err) {
            expect(err instanceof TypeError || err instanceof RangeError).toBe(true);
          }
        }
      }
    }
  });

  it('out-of-range indices return a status and change nothing', () => {
    const ref = new BigUint64Array(4);
    const acc = new BigUint64Array(4).fill(7n);
    const idx = new Uint32Array([0, 1, 2, 3, 4]);
    expect(b!.scatter(0, ref, acc, idx, new BigUint64Array(5).fill(1n))).toBe(-1);
    expect(b!.gather(0, ref, acc, idx, new BigUint64Array(5))).toBe(-1);
    expect(b!.load(ref, acc, idx, new BigUint64Array(5))).toBe(-1);
    expect(b!.scatter(0, ref, acc, new Uint32Array([0xffffffff]), new BigUint64Array(1))).toBe(-1);
    expect([...acc]).toEqual([7n, 7n, 7n, 7n]);
  });

  it('gather reads every index before overwriting it when out is the index memory', () => {
    const size = 300;
    const ref = BigUint64Array.from({ length: size }, (_, i) => BigInt(i) << 40n);
    const acc = new BigUint64Array(size);
    for (const shiftBytes of [-256, -64, -8, 0, 8, 64, 256]) {
      const buf = new ArrayBuffer(4096);
      const idx = new Uint32Array(buf, 1024, 128);
      idx.set(Array.from({ length: 128 }, (_, i) => (i * 7 + 3) % size));
      const want = Array.from(idx, (k) => BigInt(k) << 40n);
      const out = new BigUint64Array(buf, 1024 + shiftBytes, 128);
      expect(b!.gather(0, ref, acc, idx, out)).toBe(0);
      expect([...out]).toEqual(want);
    }
  });

  it('mismatched lengths and bad groups are rejected', () => {
    const w = (n: number) => new BigUint64Array(n);
    expect(() => b!.scatter(0, w(4), w(3), new Uint32Array(1), w(1))).toThrow(RangeError);
    expect(() => b!.scatter(0, w(4), w(4), new Uint32Array(2), w(1))).toThrow(RangeError);
    expect(() => b!.gather(0, w(4), w(4), new Uint32Array(2), w(3))).toThrow(RangeError);
    expect(() => b!.states(0, w(4), w(4), w(3))).toThrow(RangeError);
    expect(() => b!.exec(0, w(4), w(4), w(3))).toThrow(RangeError);
    expect(() => b!.reduce(2 as 0, w(4))).toThrow(TypeError);
    expect(() => b!.reduce(-1 as 0, w(4))).toThrow(TypeError);
  });

  it('batches with a bad op anywhere are refused whole', () => {
    const ref = new BigUint64Array(2);
    const acc = new BigUint64Array(2);
    const ops = new BigUint64Array(4);
    const view = new DataView(ops.buffer);
    view.setUint8(0, 1); // accum index 0
    view.setBigUint64(8, 5n, true);
    view.setUint8(16, 9); // unknown opcode
    expect(b!.exec(0, ref, acc, ops)).toBe(-2);
    view.setUint8(16, 2);
    view.setUint32(20, 2, true); // index 2 of a 2-context table
    expect(b!.exec(0, ref, acc, ops)).toBe(-1);
    expect([...acc]).toEqual([0n, 0n]);
  });

  it('empty, detached and shared buffers are handled', () => {
    const detached = new BigUint64Array(new ArrayBuffer(64));
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(detached.length).toBe(0);
    expect(b!.reduce(0, detached)).toBe(0n);
    expect(b!.foldXor(new Uint8Array(0))).toBe(0n);
    expect(b!.scatter(0, detached, detached, new Uint32Array(0), detached)).toBe(0);
    expect(b!.scatter(0, detached, detached, new Uint32Array([0]), new BigUint64Array(1))).toBe(-1);
    const shared = new BigUint64Array(new SharedArrayBuffer(32)).fill(3n);
    expect(b!.reduce(1, shared)).toBe(12n);
  });
});
