// Bad input for every public method: the right error class, a message that
// names the argument, and no change of state.
import { describe, expect, it } from 'vitest';
import { AtomikContext, AtomikTable, DeltaMessage, DeltaStream, Fingerprint, open } from '../../lib/index.js';
import { ENGINES } from '../helpers/engines.js';
import { MAX } from '../helpers/values.js';
import { describeUnless } from '../helpers/skip.js';
import { ANY_CODE, expectCoded } from '../helpers/errors.js';

type ErrorClass = typeof TypeError | typeof RangeError;

/** Non-u64 values and the error each must raise. */
const BAD_U64: [unknown, ErrorClass][] = [
  [1, TypeError],
  [1.5, TypeError],
  ['1', TypeError],
  [null, TypeError],
  [undefined, TypeError],
  [{}, TypeError],
  [-1n, RangeError],
  [MAX + 1n, RangeError],
  [1n << 70n, RangeError],
];

const BAD_INDEX = (size: number): [unknown, ErrorClass][] => [
  [size, RangeError],
  [-1, RangeError],
  [2 ** 32, RangeError],
  [1.5, TypeError],
  [NaN, TypeError],
  ['0', TypeError],
  [0n, TypeError],
  [undefined, TypeError],
];

/** Asserts fn throws a coded `cls` whose message names `mentions`. */
const expectThrow = (fn: () => unknown, cls: ErrorClass, mentions: string) => expectCoded(fn, cls, ANY_CODE, mentions);

for (const { name, engine, skipReason } of ENGINES) {
  describeUnless(skipReason, `bad input, ${name} engine`, () => {
    const freshContext = (group: 'xor' | 'add') => {
      const c = new AtomikContext({ group, engine: engine! });
      c.load(0x1234n);
      c.accum(0x10n);
      return c;
    };
    const contextState = (c: AtomikContext) => [c.reference, c.accumulator, c.deltaCount];

    for (const group of ['xor', 'add'] as const) {
      it(`${group}: AtomikContext rejects bad values and keeps its state`, () => {
        const c = freshContext(group);
        const before = contextState(c);
        for (const [bad, cls] of BAD_U64) {
          expectThrow(() => c.load(bad as bigint), cls, 'value');
          expectThrow(() => c.accum(bad as bigint), cls, 'delta');
          expectThrow(() => c.rollback(bad as bigint), cls, 'delta');
          if (bad !== undefined) expectThrow(() => c.swap(bad as bigint), cls, 'newReference');
        }
        for (const bad of [[1n, 2n], new BigInt64Array(2), new Uint32Array(4), null, 5n]) {
          expectThrow(() => c.accumMany(bad as unknown as BigUint64Array), TypeError, 'deltas');
        }
        expectThrow(() => c.merge({} as AtomikContext), TypeError, 'other');
        expectThrow(() => c.merge(new AtomikContext({ group: group === 'xor' ? 'add' : 'xor' })), TypeError, 'same group');
        expect(contextState(c)).toEqual(before);
      });

      it(`${group}: AtomikTable rejects bad indices, values and arrays and keeps its state`, () => {
        const t = new AtomikTable(8, { group, engine: engine! });
        t.load(3, 0x33n);
        t.accum(3, 0x1n);
        const before = [...t.states()];
        for (const [bad, cls] of BAD_INDEX(8)) {
          expectThrow(() => t.load(bad as number, 1n), cls, 'index');
          expectThrow(() => t.accum(bad as number, 1n), cls, 'index');
          expectThrow(() => t.accumMany(bad as number, new BigUint64Array(1)), cls, 'index');
          expectThrow(() => t.read(bad as number), cls, 'index');
          expectThrow(() => t.swap(bad as number), cls, 'index');
          expectThrow(() => t.rollback(bad as number, 1n), cls, 'index');
          expectThrow(() => t.isClean(bad as number), cls, 'index');
          expectThrow(() => t.reference(bad as number), cls, 'index');
          expectThrow(() => t.accumulator(bad as number), cls, 'index');
        }
        for (const [bad, cls] of BAD_U64) {
          expectThrow(() => t.load(0, bad as bigint), cls, 'value');
          expectThrow(() => t.accum(0, bad as bigint), cls, 'delta');
          if (bad !== undefined) expectThrow(() => t.swap(0, bad as bigint), cls, 'newReference');
        }
        // Batch forms: wrong types, mismatched lengths, an index out of range at the end.
        const idx = new Uint32Array(100).fill(1);
        const d = new BigUint64Array(100).fill(5n);
        const badIdx = idx.slice();
        badIdx[99] = 8;
        expectThrow(() => t.scatter(badIdx, d), RangeError, 'indices[99] = 8');
        expectThrow(() => t.scatter(idx, d.subarray(1)), RangeError, 'same length');
        expectThrow(() => t.scatter(new Int32Array(100) as unknown as Uint32Array, d), TypeError, 'indices');
        expectThrow(() => t.scatter(idx, new BigInt64Array(100) as unknown as BigUint64Array), TypeError, 'deltas');
        expectThrow(() => t.scatter([1, 2] as unknown as Uint32Array, d), TypeError, 'indices');
        expectThrow(() => t.loadMany(badIdx, d), RangeError, 'indices[99]');
        expectThrow(() => t.loadMany(idx, d.subarray(2)), RangeError, 'same length');
        expectThrow(() => t.loadMany(idx, [] as unknown as BigUint64Array), TypeError, 'values');
        expectThrow(() => t.gather(badIdx), RangeError, 'indices[99]');
        expectThrow(() => t.gather(idx, new BigUint64Array(3)), RangeError, 'same length');
        expectThrow(() => t.gather(idx, new Float64Array(100) as unknown as BigUint64Array), TypeError, 'out');
        expectThrow(() => t.states(new BigUint64Array(7)), RangeError, 'out');
        expectThrow(() => t.accumMany(0, new BigInt64Array(3) as unknown as BigUint64Array), TypeError, 'deltas');
        // A bad op anywhere in a batch rejects the whole batch.
        const good = { op: 'accum' as const, index: 0, delta: 1n };
        expectThrow(() => t.batch([good, { op: 'accum', index: 8, delta: 1n }]), RangeError, 'ops[1].index');
        expectThrow(() => t.batch([good, { op: 'load', index: 0, value: -1n }]), RangeError, 'ops[1].value');
        expectThrow(() => t.batch([good, { op: 'accum', index: 0, delta: 1 as unknown as bigint }]), TypeError, 'ops[1].delta');
        expectThrow(() => t.batch([good, { op: 'swap', index: 0, reference: MAX + 1n }]), RangeError, 'ops[1].reference');
        expectThrow(() => t.batch([good, { op: 'nope', index: 0 } as never]), TypeError, 'ops[1].op');
        expectThrow(() => t.batch([good, null as never]), TypeError, 'ops[1]');
        expectThrow(() => t.batch('ops' as never), TypeError, 'ops');
        expect([...t.states()]).toEqual(before);
      });
    }

    it('constructors and options', () => {
      expectThrow(() => new AtomikTable(-1), RangeError, 'size');
      expectThrow(() => new AtomikTable(2 ** 32), RangeError, 'size');
      expectThrow(() => new AtomikTable(1.5), TypeError, 'size');
      expectThrow(() => new AtomikTable('8' as unknown as number), TypeError, 'size');
      expectThrow(() => new AtomikTable(8, { group: 'or' as 'xor' }), TypeError, 'options.group');
      expectThrow(() => new AtomikTable(8, { engine: 'gpu' as 'js' }), TypeError, 'options.engine');
      expectThrow(() => new AtomikContext({ group: 'sub' as 'add' }), TypeError, 'options.group');
      expectThrow(() => new AtomikContext(null as never), TypeError, 'options');
      expectThrow(() => new Fingerprint({ mode: 'crc' as 'positional' }), TypeError, 'options.mode');
      expectThrow(() => new DeltaStream({ group: 1 as never }), TypeError, 'options.group');
    });

    it('Fingerprint rejects bad data and chunks, keeping its state', () => {
      for (const mode of ['xor-fold', 'positional'] as const) {
        const f = new Fingerprint({ mode, engine: engine! });
        const ref = f.load(new Uint8Array([1, 2, 3]));
        for (const bad of ['abc', 42, null, [1, 2, 3]]) {
          expectThrow(() => f.load(bad as never), TypeError, 'data');
          expectThrow(() => f.update(bad as never), TypeError, 'data');
          expectThrow(() => f.compute(bad as never), TypeError, 'data');
        }
        for (const [bad, cls] of BAD_U64) {
          expectThrow(() => f.accumulateDelta(bad as bigint, 0n, 0), cls, 'oldChunk');
          expectThrow(() => f.accumulateDelta(0n, bad as bigint, 0), cls, 'newChunk');
        }
        expectThrow(() => f.accumulateDelta(0n, 1n, -1), RangeError, 'position');
        expectThrow(() => f.accumulateDelta(0n, 1n, 0.5), TypeError, 'position');
        if (mode === 'positional') expectThrow(() => f.accumulateDelta(0n, 1n), TypeError, 'position');
        expect([f.value, f.changed]).toEqual([ref, false]);
      }
    });
  });
}

describe('bad input, messages and streams', () => {
  it('DeltaMessage checks every field and the wire size', () => {
    expectThrow(() => new DeltaMessage(-1, 0n), RangeError, 'addr');
    expectThrow(() => new DeltaMessage(2 ** 32, 0n), RangeError, 'addr');
    expectThrow(() => new DeltaMessage(0.5, 0n), TypeError, 'addr');
    expectThrow(() => new DeltaMessage(0, 1 as never), TypeError, 'delta');
    expectThrow(() => new DeltaMessage(0, MAX + 1n), RangeError, 'delta');
    expectThrow(() => new DeltaMessage(0, 0n, -1), RangeError, 'epoch');
    expectThrow(() => new DeltaMessage(0, 0n, 0, 2 ** 32), RangeError, 'seq');
    for (const size of [0, 15, 17, 32]) expectThrow(() => DeltaMessage.decode(new Uint8Array(size)), RangeError, `got ${size}`);
    expectThrow(() => DeltaMessage.decode('00' as never), TypeError, 'data');
    const m = new DeltaMessage(1, 2n, 3, 4);
    expect(Object.isFrozen(m)).toBe(true);
  });

  it('DeltaStream checks addresses, deltas and messages, keeping its state', () => {
    const s = new DeltaStream({ outbox: 4 });
    s.load(1, 5n);
    s.accum(1, 2n);
    expectThrow(() => s.accum(-1, 1n), RangeError, 'addr');
    expectThrow(() => s.accum(1, -1n), RangeError, 'delta');
    expectThrow(() => s.load(1, 'x' as never), TypeError, 'value');
    expectThrow(() => s.apply({ addr: 1, delta: 1n } as never), TypeError, 'msg');
    expectThrow(() => s.read(1.5), TypeError, 'addr');
    expect([s.read(1), s.seq, s.epoch, s.pending().length]).toEqual([7n, 1, 1, 1]);
  });
});

describe('bad input, open() and the accumulator', () => {
  it('open() rejects bad options', async () => {
    await expect(open({ backend: 'fpga' as 'js' })).rejects.toThrow(TypeError);
    await expect(open({ backend: 'fpga' as 'js' })).rejects.toThrow('options.backend');
    await expect(open({ contexts: 0 })).rejects.toThrow(RangeError);
    await expect(open({ contexts: 1.5 })).rejects.toThrow('options.contexts');
    await expect(open({ group: 'mul' as 'add' })).rejects.toThrow('options.group');
    await expect(open(7 as never)).rejects.toThrow(TypeError);
  });

  it('every method rejects (never throws synchronously) and keeps state', async () => {
    const acc = await open({ backend: 'js', contexts: 4 });
    await acc.load(1, 10n);
    const calls: [() => Promise<unknown>, ErrorClass, string][] = [
      [() => acc.load(4, 1n), RangeError, 'index'],
      [() => acc.load(0, -1n), RangeError, 'value'],
      [() => acc.accum(0, 1 as never), TypeError, 'delta'],
      [() => acc.accum('0' as never, 1n), TypeError, 'index'],
      [() => acc.accumMany(0, [1n] as never), TypeError, 'deltas'],
      [() => acc.read(-1), RangeError, 'index'],
      [() => acc.swap(0, MAX + 1n), RangeError, 'newReference'],
      [() => acc.status(9), RangeError, 'index'],
      [() => acc.scatter(new Uint32Array([0, 4]), new BigUint64Array(2)), RangeError, 'indices[1]'],
      [() => acc.scatter(new Uint32Array(1), new BigUint64Array(2)), RangeError, 'same length'],
      [() => acc.gather(new Uint32Array([5])), RangeError, 'indices[0]'],
      [() => acc.gather(new Uint32Array(1), new BigUint64Array(2)), RangeError, 'same length'],
      [
        () =>
          acc.batch([
            { op: 'accum', index: 0, delta: 1n },
            { op: 'read', index: 4 },
          ]),
        RangeError,
        'ops[1].index',
      ],
    ];
    for (const [call, cls, mentions] of calls) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = call())).not.toThrow();
      await expect(promise).rejects.toBeInstanceOf(cls);
      await expect(call()).rejects.toThrow(mentions);
    }
    expect([...acc.table!.states()]).toEqual([0n, 10n, 0n, 0n]);
    await acc.close();
  });
});
