// Property tests: order never matters, rollback undoes, and the js and
// native engines agree on random sequences of operations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AtomikContext, AtomikTable, Fingerprint, jsEngine, type BatchOp, type Group } from '../lib/index.js';
import { ENGINES } from './helpers/engines.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const group = fc.constantFrom<Group>('xor', 'add');
const native = ENGINES.find((e) => e.name === 'native')!.engine;

/** A list of deltas and a permutation of it. */
const deltasAndPermutation = fc
  .array(u64, { maxLength: 80 })
  .chain((deltas) => fc.tuple(fc.constant(deltas), fc.shuffledSubarray(deltas, { minLength: deltas.length, maxLength: deltas.length })));

describe('properties', () => {
  for (const { name, engine } of ENGINES) {
    describe.skipIf(engine === null)(`${name} engine`, () => {
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
            const shuffled = [...entries];
            let s = seed >>> 0;
            for (let i = shuffled.length - 1; i > 0; i--) {
              s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
              const j = s % (i + 1);
              [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
            }
            const scatterInto = (list: typeof entries) => {
              const t = new AtomikTable(16, { group: g, engine: engine! });
              t.scatter(Uint32Array.from(list, (e) => e[0]), BigUint64Array.from(list, (e) => e[1]));
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

  describe.skipIf(native === null)('js and native agree', () => {
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
