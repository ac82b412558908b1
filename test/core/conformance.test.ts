// One conformance suite, run against every engine: exact states for every
// operation, in both groups. Batch sizes above the native threshold make the
// native engine run its C kernels, small ones its js fallback.
import { describe, expect, it } from 'vitest';
import { AtomikContext, AtomikTable, Fingerprint, open } from '../../lib/index.js';
import { ENGINES } from '../helpers/engines.js';
import { MAX, addAll, indices, mixedBatch, words, xorAll } from '../helpers/values.js';
import { describeUnless } from '../helpers/skip.js';

for (const { name, engine, skipReason } of ENGINES) {
  describeUnless(skipReason, `engine ${name}`, () => {
    const ctx = (group: 'xor' | 'add' = 'xor') => new AtomikContext({ group, engine: engine! });
    const table = (size: number, group: 'xor' | 'add' = 'xor') => new AtomikTable(size, { group, engine: engine! });

    describe('AtomikContext, xor', () => {
      it('starts at zero and clean', () => {
        const c = ctx();
        expect([c.read(), c.reference, c.accumulator, c.isClean, c.deltaCount]).toEqual([0n, 0n, 0n, true, 0]);
      });

      it('load, accum, read, and a delta applied twice cancels', () => {
        const c = ctx();
        c.load(0xcafen);
        c.accum(0x00ffn);
        expect([c.read(), c.reference, c.accumulator, c.isClean, c.deltaCount]).toEqual([0xca01n, 0xcafen, 0xffn, false, 1]);
        c.accum(0x00ffn);
        expect([c.read(), c.accumulator, c.isClean, c.deltaCount]).toEqual([0xcafen, 0n, true, 2]);
      });

      it('rollback re-applies the delta', () => {
        const c = ctx();
        c.load(0x1234n);
        c.accum(0xf0f0n);
        c.accum(MAX);
        c.rollback(0xf0f0n);
        expect(c.read()).toBe(0x1234n ^ MAX);
        expect(c.deltaCount).toBe(3);
      });

      it('load resets the accumulator and the count', () => {
        const c = ctx();
        c.accum(5n);
        c.load(MAX);
        expect([c.read(), c.accumulator, c.deltaCount]).toEqual([MAX, 0n, 0]);
      });

      it('swap returns the old state and starts an epoch from it', () => {
        const c = ctx();
        c.load(0xaan);
        c.accum(0x0fn);
        expect(c.swap()).toBe(0xa5n);
        expect([c.reference, c.accumulator, c.read(), c.deltaCount, c.isClean]).toEqual([0xa5n, 0n, 0xa5n, 0, true]);
        c.accum(0xffn);
        expect(c.swap(0x1000n)).toBe(0x5an);
        expect([c.reference, c.accumulator, c.read()]).toEqual([0x1000n, 0n, 0x1000n]);
        c.accum(1n);
        expect(c.swap(0n)).toBe(0x1001n);
        expect(c.read()).toBe(0n);
      });

      it('merge combines accumulators and counts', () => {
        const a = ctx();
        const b = ctx();
        a.load(0xf00n);
        b.load(0xf00n);
        a.accum(0x1n);
        b.accum(0x2n);
        b.accum(0x4n);
        a.merge(b);
        expect([a.read(), a.accumulator, a.deltaCount]).toEqual([0xf07n, 0x7n, 3]);
        expect([b.read(), b.deltaCount]).toEqual([0xf06n, 2]);
      });

      it('accumMany equals accumulating each delta', () => {
        const d = words(1000, 3n);
        const c = ctx();
        c.load(0x77n);
        c.accumMany(d);
        expect(c.accumulator).toBe(xorAll(d));
        expect(c.read()).toBe(0x77n ^ xorAll(d));
        expect(c.deltaCount).toBe(1000);
        c.accumMany(new BigUint64Array(0));
        expect(c.deltaCount).toBe(1000);
        c.accumMany(d.subarray(0, 5));
        expect(c.accumulator).toBe(xorAll(d.subarray(5)));
      });
    });

    describe('AtomikContext, add', () => {
      it('counts: +1 twice is 2, and wraps modulo 2^64', () => {
        const c = ctx('add');
        c.accum(1n);
        c.accum(1n);
        expect(c.read()).toBe(2n);
        c.accum(MAX); // -1
        expect(c.read()).toBe(1n);
        c.load(MAX);
        c.accum(2n);
        expect([c.read(), c.reference, c.accumulator]).toEqual([1n, MAX, 2n]);
      });

      it('rollback subtracts', () => {
        const c = ctx('add');
        c.load(100n);
        c.accum(42n);
        c.accum(7n);
        c.rollback(42n);
        expect([c.read(), c.accumulator, c.deltaCount]).toEqual([107n, 7n, 3]);
        c.rollback(7n);
        expect([c.read(), c.isClean]).toEqual([100n, true]);
      });

      it('swap and merge', () => {
        const a = ctx('add');
        const b = ctx('add');
        a.load(10n);
        b.load(10n);
        a.accum(5n);
        b.accum(MAX - 2n); // -3
        a.merge(b);
        expect(a.read()).toBe(12n);
        expect(a.swap()).toBe(12n);
        expect([a.reference, a.accumulator]).toEqual([12n, 0n]);
      });

      it('accumMany equals the modular sum', () => {
        const d = words(5000, 9n);
        const c = ctx('add');
        c.load(MAX);
        c.accumMany(d);
        expect(c.accumulator).toBe(addAll(d));
        expect(c.read()).toBe(BigInt.asUintN(64, MAX + addAll(d)));
      });

      it('sums many all-ones words exactly (carry across lanes)', () => {
        const d = new BigUint64Array(3_000_000).fill(MAX);
        const c = ctx('add');
        c.accumMany(d);
        expect(c.read()).toBe(BigInt.asUintN(64, -3_000_000n));
      });
    });

    describe('AtomikTable', () => {
      for (const group of ['xor', 'add'] as const) {
        const op = group === 'xor' ? (a: bigint, b: bigint) => a ^ b : (a: bigint, b: bigint) => BigInt.asUintN(64, a + b);

        it(`${group}: scalar operations by index`, () => {
          const t = table(4, group);
          t.load(1, 0x100n);
          t.accum(1, 0x11n);
          t.accum(3, MAX);
          expect([t.read(0), t.read(1), t.read(2), t.read(3)]).toEqual([0n, op(0x100n, 0x11n), 0n, MAX]);
          expect([t.reference(1), t.accumulator(1), t.isClean(1), t.isClean(0)]).toEqual([0x100n, 0x11n, false, true]);
          expect(t.swap(1)).toBe(op(0x100n, 0x11n));
          expect([t.reference(1), t.accumulator(1), t.isClean(1)]).toEqual([op(0x100n, 0x11n), 0n, true]);
          expect(t.swap(3, 9n)).toBe(MAX);
          expect(t.read(3)).toBe(9n);
          t.accum(2, 5n);
          t.rollback(2, 5n);
          expect([t.read(2), t.isClean(2)]).toEqual([0n, true]);
        });

        it(`${group}: scatter, gather, loadMany, states, snapshot`, () => {
          const size = 64;
          const t = table(size, group);
          const idx = indices(10_000, size);
          const d = words(10_000, 5n);
          const expected = new Array<bigint>(size).fill(0n);
          for (let k = 0; k < idx.length; k++) expected[idx[k]!] = op(expected[idx[k]!]!, d[k]!);
          t.scatter(idx, d);
          for (let i = 0; i < size; i++) expect(t.accumulator(i)).toBe(expected[i]);

          const all = new Uint32Array(size).map((_, i) => i);
          const out = new BigUint64Array(size);
          expect(t.gather(all, out)).toBe(out);
          expect([...out]).toEqual(expected);
          expect([...t.gather(new Uint32Array([5, 5, 0]))]).toEqual([expected[5], expected[5], expected[0]]);

          const refs = words(size, 11n);
          t.loadMany(all.subarray(0, 32), refs.subarray(0, 32));
          for (let i = 0; i < 32; i++) {
            expect([t.reference(i), t.accumulator(i), t.read(i)]).toEqual([refs[i], 0n, refs[i]]);
          }
          const states = t.states();
          for (let i = 32; i < size; i++) expect(states[i]).toBe(expected[i]);

          t.loadMany(all, new BigUint64Array(size));
          t.accum(7, 70n);
          t.load(40, 400n);
          expect(t.nonZeroStates()).toEqual(
            new Map([
              [7, 70n],
              [40, 400n],
            ]),
          );
        });

        it(`${group}: a mixed batch runs in order with one result per op`, () => {
          const t = table(8, group);
          const { ops, results } = mixedBatch(group, 2);
          expect(t.batch([...ops, { op: 'read', index: 7 }])).toEqual([...results, 0n]);
          expect(t.read(2)).toBe(MAX);
        });

        it(`${group}: a batch of many ops matches scalar calls`, () => {
          const t = table(16, group);
          const ref = table(16, group);
          const d = words(200, 21n);
          const ops = Array.from(d, (delta, k) => ({ op: 'accum' as const, index: k % 16, delta }));
          t.batch(ops);
          ops.forEach((o) => ref.accum(o.index, o.delta));
          expect([...t.states()]).toEqual([...ref.states()]);
        });
      }

      it('large tables: scatter and gather over 1M contexts', () => {
        const size = 1 << 20;
        const t = table(size);
        const idx = indices(100_000, size, 3);
        const d = words(100_000, 4n);
        t.scatter(idx, d);
        const expected = new Map<number, bigint>();
        for (let k = 0; k < idx.length; k++) expected.set(idx[k]!, (expected.get(idx[k]!) ?? 0n) ^ d[k]!);
        const got = t.gather(idx);
        for (let k = 0; k < idx.length; k++) expect(got[k]).toBe(expected.get(idx[k]!));
      });

      it('a zero-size table rejects every index', () => {
        const t = table(0);
        expect(() => t.read(0)).toThrow(RangeError);
        expect(t.states().length).toBe(0);
        t.scatter(new Uint32Array(0), new BigUint64Array(0));
      });
    });

    describe('Fingerprint', () => {
      const data = new Uint8Array(1000).map((_, i) => (i * 31 + 7) & 0xff);

      for (const mode of ['xor-fold', 'positional'] as const) {
        it(`${mode}: unchanged data is clean, changed data is not`, () => {
          const f = new Fingerprint({ mode, engine: engine! });
          const ref = f.load(data);
          expect(f.update(data.slice())).toBe(ref);
          expect([f.changed, f.delta, f.value]).toEqual([false, 0n, ref]);
          const other = data.slice();
          other[500] = other[500]! ^ 1;
          const v = f.update(other);
          expect(v).not.toBe(ref);
          expect([f.changed, f.delta, f.value, f.reference]).toEqual([true, ref ^ v, v, ref]);
          f.reset();
          expect([f.changed, f.value]).toEqual([false, ref]);
        });

        it(`${mode}: accumulateDelta tracks a chunk change without rescanning`, () => {
          const f = new Fingerprint({ mode, engine: engine! });
          f.load(data);
          const changed = data.slice();
          const view = new DataView(changed.buffer);
          const old = view.getBigUint64(8 * 17, true);
          view.setBigUint64(8 * 17, 0x0123456789abcdefn, true);
          f.accumulateDelta(old, 0x0123456789abcdefn, 17);
          expect(f.value).toBe(f.compute(changed));
          expect(f.changed).toBe(true);
        });

        it(`${mode}: unaligned views and every tail length`, () => {
          const f = new Fingerprint({ mode, engine: engine! });
          const backing = new Uint8Array(64).map((_, i) => i + 1);
          for (let len = 0; len <= 40; len++) {
            const aligned = f.compute(backing.slice(0, len));
            expect(f.compute(new Uint8Array(backing.buffer, 3, len).slice())).toBe(f.compute(backing.slice(3, 3 + len)));
            expect(f.compute(new Uint8Array(backing.buffer, 0, len))).toBe(aligned);
          }
        });
      }

      it('xor-fold is blind to swapped chunks and doubled changes; positional is not', () => {
        const a = new Uint8Array(32).map((_, i) => i);
        const swapped = a.slice();
        swapped.set(a.subarray(0, 8), 8);
        swapped.set(a.subarray(8, 16), 0);
        const doubled = a.slice();
        doubled[0] = 0x40;
        doubled[8] = 0x48;
        const fold = new Fingerprint({ engine: engine! });
        const pos = new Fingerprint({ mode: 'positional', engine: engine! });
        for (const changed of [swapped, doubled]) {
          fold.load(a);
          fold.update(changed);
          pos.load(a);
          pos.update(changed);
          expect([fold.changed, pos.changed]).toEqual([false, true]);
        }
        // Zero padding: 'abc' and 'abc\0' fold alike; positional folds in the length.
        const abc = new TextEncoder().encode('abc');
        expect(fold.compute(abc)).toBe(fold.compute(new Uint8Array([...abc, 0])));
        expect(pos.compute(abc)).not.toBe(pos.compute(new Uint8Array([...abc, 0])));
      });
    });

    describe('open() accumulator', () => {
      for (const group of ['xor', 'add'] as const) {
        it(`${group}: every operation, awaited`, async () => {
          const acc = await open({ backend: name, contexts: 32, group });
          expect(acc.info.backend).toBe(name);
          expect([acc.contexts, acc.group]).toEqual([32, group]);
          await acc.load(0, 100n);
          await acc.accum(0, 5n);
          await acc.accum(0, 5n);
          expect(await acc.read(0)).toBe(group === 'xor' ? 100n : 110n);
          expect(await acc.status(0)).toEqual({ clean: group === 'xor' });
          expect(await acc.swap(0)).toBe(group === 'xor' ? 100n : 110n);
          expect(await acc.status(0)).toEqual({ clean: true });
          const d = words(100, 2n);
          await acc.accumMany(1, d);
          expect(await acc.read(1)).toBe(group === 'xor' ? xorAll(d) : addAll(d));
          await acc.scatter(new Uint32Array([2, 3, 2]), new BigUint64Array([1n, 2n, 4n]));
          expect([...(await acc.gather(new Uint32Array([2, 3])))]).toEqual(group === 'xor' ? [5n, 2n] : [5n, 2n]);
          expect(
            await acc.batch([
              { op: 'accum', index: 3, delta: 2n },
              { op: 'read', index: 3 },
              { op: 'swap', index: 3, reference: 1n },
            ]),
          ).toEqual([null, group === 'xor' ? 0n : 4n, group === 'xor' ? 0n : 4n]);
          expect(acc.table!.read(3)).toBe(1n);
          await acc.close();
          await acc.close();
          await expect(acc.read(0)).rejects.toThrow('the accumulator is closed');
        });
      }
    });
  });
}
