// The backend conformance suite: exact states for every operation of the
// common Accumulator interface. It runs unchanged against every backend
// (js, native, each virtual board, a real board); a backend with one
// context or only the xor group (the official FPGA protocol) runs the
// parts it supports and reports the rest as skipped.
import { expect, it } from 'vitest';
import type { Accumulator, Group } from '../../lib/index.js';
import { describeUnless } from './skip.js';
import { MAX, addAll, indices, mixedBatch, words, xorAll } from './values.js';

export interface BackendTarget {
  name: string;
  /** Why the whole target is skipped, or null. */
  skip: string | null;
  /** Opens an accumulator in the given group on this target. */
  open(group: Group): Promise<Accumulator>;
  /** Groups the target supports. */
  groups: Group[];
  /** Called once after the suite (stop boards). */
  teardown?: () => Promise<void>;
}

const combine = (g: Group) => (a: bigint, b: bigint) => (g === 'xor' ? a ^ b : BigInt.asUintN(64, a + b));

export function backendSuite(target: BackendTarget): void {
  describeUnless(target.skip, `backend ${target.name}`, () => {
    for (const group of ['xor', 'add'] as const) {
      const lacks = target.groups.includes(group) ? null : `no '${group}' group on this backend`;
      describeUnless(lacks, group, () => {
        const op = combine(group);
        const withAcc = async (fn: (acc: Accumulator) => Promise<void>) => {
          const acc = await target.open(group);
          try {
            await fn(acc);
          } finally {
            await acc.close();
          }
        };

        it('load, accum, read, status, swap', () =>
          withAcc(async (acc) => {
            expect(acc.group).toBe(group);
            const last = acc.contexts - 1;
            await acc.load(0, 0xcafen);
            await acc.accum(0, 0xffn);
            expect(await acc.read(0)).toBe(op(0xcafen, 0xffn));
            expect(await acc.status(0)).toEqual({ clean: false });
            expect(await acc.swap(0)).toBe(op(0xcafen, 0xffn));
            expect(await acc.status(0)).toEqual({ clean: true });
            expect(await acc.read(0)).toBe(op(0xcafen, 0xffn));
            await acc.accum(0, MAX);
            expect(await acc.swap(0, 7n)).toBe(op(op(0xcafen, 0xffn), MAX));
            expect(await acc.read(0)).toBe(7n);
            await acc.load(last, MAX);
            await acc.accum(last, 1n);
            expect(await acc.read(last)).toBe(op(MAX, 1n));
          }));

        it('accumMany of 1,000 deltas', () =>
          withAcc(async (acc) => {
            const d = words(1000, 31n);
            await acc.load(0, 5n);
            await acc.accumMany(0, d);
            expect(await acc.read(0)).toBe(op(5n, group === 'xor' ? xorAll(d) : addAll(d)));
          }));

        it('scatter and gather', () =>
          withAcc(async (acc) => {
            const size = Math.min(acc.contexts, 64);
            const all = new Uint32Array(size).map((_, i) => i);
            await acc.batch(Array.from(all, (index) => ({ op: 'load' as const, index, value: BigInt(index) })));
            const idx = indices(2000, size, 5);
            const d = words(2000, 6n);
            await acc.scatter(idx, d);
            const expected = Array.from(all, (i) => BigInt(i));
            idx.forEach((k, j) => (expected[k] = op(expected[k]!, d[j]!)));
            expect([...(await acc.gather(all))]).toEqual(expected);
            const out = new BigUint64Array(3);
            expect(await acc.gather(new Uint32Array([size - 1, 0, size - 1]), out)).toBe(out);
            expect([...out]).toEqual([expected[size - 1], expected[0], expected[size - 1]]);
          }));

        it('a mixed batch returns one exact result per op', () =>
          withAcc(async (acc) => {
            const { ops, results } = mixedBatch(group, 0);
            expect(await acc.batch(ops)).toEqual(results);
          }));

        it('500 concurrent accums all land exactly once', () =>
          withAcc(async (acc) => {
            const d = words(500, 77n);
            await acc.load(0, 0n);
            await Promise.all(Array.from(d, (delta) => acc.accum(0, delta)));
            expect(await acc.read(0)).toBe(group === 'xor' ? xorAll(d) : addAll(d));
          }));

        it('bad input is rejected and changes nothing', () =>
          withAcc(async (acc) => {
            await acc.load(0, 42n);
            await expect(acc.accum(acc.contexts, 1n)).rejects.toThrow(RangeError);
            // in the 'add' group a negative delta down to -2^63 is a decrement
            await expect(acc.accum(0, group === 'xor' ? -1n : -(2n ** 63n) - 1n)).rejects.toThrow(RangeError);
            await expect(acc.accum(0, 1 as never)).rejects.toThrow(TypeError);
            await expect(acc.scatter(new Uint32Array([0, acc.contexts]), new BigUint64Array(2).fill(1n))).rejects.toThrow(RangeError);
            await expect(
              acc.batch([
                { op: 'accum', index: 0, delta: 1n },
                { op: 'read', index: acc.contexts },
              ]),
            ).rejects.toThrow('ops[1].index');
            expect(await acc.read(0)).toBe(42n);
          }));

        it('close makes later calls reject', async () => {
          const acc = await target.open(group);
          await acc.close();
          await expect(acc.read(0)).rejects.toThrow('the accumulator is closed');
        });
      });
    }
  });
}
