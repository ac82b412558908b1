// Property tests: order never matters, rollback undoes, and the js and
// native engines agree on random sequences of operations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AtomikContext, AtomikTable, Fingerprint, type BatchOp, type Group } from '../../lib/index.js';
import { jsEngine } from '../../lib/engine/js.js';
import { ENGINES, noNative } from '../helpers/engines.js';
import { describeUnless } from '../helpers/skip.js';
import { shuffle } from '../helpers/values.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const group = fc.constantFrom<Group>('xor', 'add');
const native = ENGINES.find((e) => e.name === 'native')!.engine;

/** A list of deltas and a permutation of it. */
const deltasAndPermutation = fc
  .array(u64, { maxLength: 80 })
  .chain((deltas) => fc.tuple(fc.constant(deltas), fc.shuffledSubarray(deltas, { minLength: deltas.length, maxLength: deltas.length })));

describe('properties', () => {
  for (const { name, engine, skipReason } of ENGINES) {
    describeUnless(skipReason, `${name} engine`, () => {
      it('any permutation of the same deltas gives the same state', () => {
        fc.assert(
          fc.property(group, u64, deltasAndPermutation, (g, ref, [deltas, permuted]) => {
            const a = new AtomikContext({ group: g, engine: engine! });
            const b = new AtomikContext({ group: g, engine: engine! });
            const c = new AtomikContext({ group: g, engine: engine! });
            a.load(ref);
            b.load(ref);
            c.load(ref);
            deltas.forEach((d) => a.accum(d));
            permuted.forEach((d) => b.accum(d));
            c.accumMany(BigUint64Array.from(permuted));
            expect(b.read()).toBe(a.read());
            expect(c.read()).toBe(a.read());
          }),
        );
      });

      it('scatter in any order gives the same table', () => {
        const entry = fc.tuple(fc.nat({ max: 15 }), u64);
        fc.assert(
          fc.property(group, fc.array(entry, { maxLength: 100 }), fc.integer(), (g, entries, seed) => {
            const shuffled = shuffle([...entries], seed);
            const scatterInto = (list: typeof entries) => {
              const t = new AtomikTable(16, { group: g, engine: engine! });
              t.scatter(
                Uint32Array.from(list, (e) => e[0]),
                BigUint64Array.from(list, (e) => e[1]),
              );
              return [...t.states()];
            };
            expect(scatterInto(shuffled)).toEqual(scatterInto(entries));
          }),
        );
      });

      it('rollback undoes any delta, whatever came between', () => {
        fc.assert(
          fc.property(group, u64, u64, fc.array(u64, { maxLength: 20 }), (g, ref, target, others) => {
            const c = new AtomikContext({ group: g, engine: engine! });
            c.load(ref);
            others.forEach((d) => c.accum(d));
            const before = c.read();
            c.accum(target);
            others.forEach((d) => c.accum(d));
            c.rollback(target);
            others.forEach((d) => c.rollback(d));
            expect(c.read()).toBe(before);
          }),
        );
      });
    });
  }

  describeUnless(noNative, 'js and native agree', () => {
    const op: fc.Arbitrary<BatchOp> = fc.oneof(
      fc.record({ op: fc.constant('load' as const), index: fc.nat({ max: 31 }), value: u64 }),
      fc.record({ op: fc.constant('accum' as const), index: fc.nat({ max: 31 }), delta: u64 }),
      fc.record({ op: fc.constant('read' as const), index: fc.nat({ max: 31 }) }),
      fc.record({ op: fc.constant('swap' as const), index: fc.nat({ max: 31 }) }),
      fc.record({ op: fc.constant('swap' as const), index: fc.nat({ max: 31 }), reference: u64 }),
      fc.record({ op: fc.constant('status' as const), index: fc.nat({ max: 31 }) }),
    );

    it('on random batches of mixed operations', () => {
      fc.assert(
        fc.property(group, fc.array(op, { maxLength: 200 }), (g, ops) => {
          const js = new AtomikTable(32, { group: g, engine: jsEngine });
          const nat = new AtomikTable(32, { group: g, engine: native! });
          expect(nat.batch(ops)).toEqual(js.batch(ops));
          expect([...nat.states()]).toEqual([...js.states()]);
        }),
      );
    });

    it('on random scatter / gather / loadMany sequences above the native threshold', () => {
      const step = fc.record({
        kind: fc.constantFrom('scatter', 'gather', 'loadMany'),
        entries: fc.array(fc.tuple(fc.nat({ max: 63 }), u64), { minLength: 16, maxLength: 120 }),
      });
      fc.assert(
        fc.property(group, fc.array(step, { maxLength: 12 }), (g, steps) => {
          const js = new AtomikTable(64, { group: g, engine: jsEngine });
          const nat = new AtomikTable(64, { group: g, engine: native! });
          for (const { kind, entries } of steps) {
            const idx = Uint32Array.from(entries, (e) => e[0]);
            const vals = BigUint64Array.from(entries, (e) => e[1]);
            if (kind === 'scatter') {
              js.scatter(idx, vals);
              nat.scatter(idx, vals);
            } else if (kind === 'loadMany') {
              js.loadMany(idx, vals);
              nat.loadMany(idx, vals);
            } else {
              expect([...nat.gather(idx)]).toEqual([...js.gather(idx)]);
            }
          }
          expect([...nat.states()]).toEqual([...js.states()]);
        }),
      );
    });

    // The same operations with hostile placement: indices in shared memory,
    // gather output overlapping the indices, arrays as subclasses, ops as
    // getters. Both engines must give the plain result.
    it('on aliased, shared and exotic arguments', () => {
      const placement = fc.constantFrom('plain', 'shared', 'subclass', 'aliased');
      const step = fc.record({
        kind: fc.constantFrom('scatter', 'gather', 'loadMany', 'batch'),
        placement,
        shift: fc.integer({ min: -40, max: 40 }),
        entries: fc.array(fc.tuple(fc.nat({ max: 70 }), u64), { minLength: 1, maxLength: 90 }),
      });
      class Sub extends Uint32Array {}
      const place = (values: number[], where: string, shift: number): Uint32Array => {
        if (where === 'shared') {
          const idx = new Uint32Array(new SharedArrayBuffer(4 * values.length));
          idx.set(values);
          return idx;
        }
        if (where === 'subclass') return Sub.from(values);
        if (where === 'aliased') {
          const buf = new ArrayBuffer(4096);
          const idx = new Uint32Array(buf, 8 * 90 + 8 * (shift & ~1) + 256, values.length);
          idx.set(values);
          return idx;
        }
        return Uint32Array.from(values);
      };
      // gather's out overlapping the indices, `shift` words away
      const outFor = (idx: Uint32Array, where: string, shift: number) =>
        where === 'aliased' ? new BigUint64Array(idx.buffer, idx.byteOffset + 4 * shift - ((idx.byteOffset + 4 * shift) % 8), idx.length) : undefined;
      fc.assert(
        fc.property(group, fc.array(step, { maxLength: 10 }), (g, steps) => {
          const js = new AtomikTable(64, { group: g, engine: jsEngine });
          const nat = new AtomikTable(64, { group: g, engine: native! });
          const plain = new AtomikTable(64, { group: g, engine: jsEngine });
          // distinct states everywhere, so an index read after it was overwritten shows
          const everyIndex = Uint32Array.from({ length: 64 }, (_, i) => i);
          const distinct = BigUint64Array.from(everyIndex, (i) => (0x9e3779b97f4a7c15n * BigInt(i + 1)) & ((1n << 64n) - 1n));
          for (const t of [js, nat, plain]) t.loadMany(everyIndex, distinct);
          for (const { kind, placement: where, shift, entries } of steps) {
            const values = BigUint64Array.from(entries, (e) => e[1]);
            const run = (t: AtomikTable): unknown => {
              const idx = place(
                entries.map((e) => e[0]),
                where,
                shift,
              );
              try {
                if (kind === 'scatter') t.scatter(idx, values);
                else if (kind === 'loadMany') t.loadMany(idx, values);
                else if (kind === 'gather') return [...t.gather(idx, outFor(idx, where, shift))];
                else {
                  let reads = 0;
                  const ops = entries.map(([index, value]) => ({
                    op: 'accum' as const,
                    get index() {
                      reads++;
                      return index;
                    },
                    get delta() {
                      return reads > entries.length * 2 ? 0n : value;
                    },
                  }));
                  return t.batch(ops);
                }
              } catch (err) {
                return (err as { code: string }).code;
              }
              return null;
            };
            const expected = (() => {
              try {
                const idx = Uint32Array.from(entries, (e) => e[0]);
                if (kind === 'scatter') plain.scatter(idx, values);
                else if (kind === 'loadMany') plain.loadMany(idx, values);
                else if (kind === 'gather') return [...plain.gather(idx)];
                else return plain.batch(entries.map(([index, delta]) => ({ op: 'accum' as const, index, delta })));
              } catch (err) {
                return (err as { code: string }).code;
              }
              return null;
            })();
            expect(run(js)).toEqual(expected);
            expect(run(nat)).toEqual(expected);
          }
          expect([...js.states()]).toEqual([...plain.states()]);
          expect([...nat.states()]).toEqual([...plain.states()]);
        }),
      );
    });

    it('on reduce and on both fingerprints of random bytes', () => {
      fc.assert(
        fc.property(group, fc.array(u64, { maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 7 }), (g, deltas, data, offset) => {
          const d = BigUint64Array.from(deltas);
          expect(native!.reduce(g, d)).toBe(jsEngine.reduce(g, d));
          const shifted = new Uint8Array(data.length + offset);
          shifted.set(data, offset);
          const view = shifted.subarray(offset);
          for (const mode of ['xor-fold', 'positional'] as const) {
            const js = new Fingerprint({ mode, engine: jsEngine });
            const nat = new Fingerprint({ mode, engine: native! });
            expect(nat.compute(view)).toBe(js.compute(view));
            expect(js.compute(view)).toBe(js.compute(data));
          }
        }),
      );
    });
  });
});
