// One API for one idea: a misspelt option is refused (naming the nearest
// option) instead of falling back to a default, and every accum of the 'add'
// group takes a negative delta as a decrement, as Replica.accum does.
import { describe, expect, it } from 'vitest';
import { AtomikContext, AtomikTable, DeltaStream, open } from '../../lib/index.js';
import { nearestName } from '../../lib/core/validate.js';
import { startBoard } from '../../lib/board/index.js';
import { missing } from '../helpers/tools.js';
import { itUnless } from '../helpers/skip.js';
import { rejected as failed } from '../helpers/errors.js';

const noHost = missing('make', 'cc');
const TOP = 2n ** 64n;

/** [code, class name, message] of a call that must fail. */
async function failure(fn: () => unknown): Promise<[string | undefined, string, string]> {
  const err = await failed(fn);
  return [err.code, err.name, err.message];
}

describe('unknown option keys', () => {
  it('nearestName finds a typo (case ignored) and nothing for a word far from every name', () => {
    const known = ['group', 'engine', 'contexts', 'backend'];
    expect([nearestName('grp', known), nearestName('Group', known), nearestName('contxts', known), nearestName('engnie', known)]).toEqual([
      'group',
      'group',
      'contexts',
      'engine',
    ]);
    expect(nearestName('colour', known)).toBeUndefined();
  });

  const refused = (key: string, near: string | null, all: string) => [
    'ERR_ATOMIK_INVALID_ARG_VALUE',
    'AtomikTypeError',
    `options.${key} is not an option${near ? ` (did you mean ${near}?)` : ''}; the options are ${all}`,
  ];

  it('AtomikTable and AtomikContext refuse a misspelt group instead of making an xor table', async () => {
    expect(await failure(() => new AtomikTable(8, { grp: 'add' } as object))).toEqual(refused('grp', 'group', 'group, engine'));
    expect(await failure(() => new AtomikContext({ group: 'add', engin: 'js' } as object))).toEqual(refused('engin', 'engine', 'group, engine'));
    expect(await failure(() => new AtomikTable(8, { colour: 'red' } as object))).toEqual(refused('colour', null, 'group, engine'));
    expect(new AtomikTable(8, { group: 'add', engine: 'js' }).group).toBe('add'); // the right names still work
  });

  it('open() refuses a misspelt option before choosing a backend', async () => {
    const all =
      'backend, port, usbIds, discover, contexts, group, baudRate, dialect, lock, probeTimeoutMs, openTimeoutMs, verify, reconnect, onProgress, timeoutMs, retries, window, maxBytesInFlight';
    expect(await failure(() => open({ contxts: 4 } as object))).toEqual(refused('contxts', 'contexts', all));
    expect(await failure(() => open({ backend: 'js', baudrate: 9600 } as object))).toEqual(refused('baudrate', 'baudRate', all));
    const acc = await open({ backend: 'js', contexts: 4, group: 'add' });
    expect([acc.contexts, acc.group]).toEqual([4, 'add']);
    await acc.close();
  });

  it('DeltaStream and DeltaStream.restore refuse a misspelt option', async () => {
    expect(await failure(() => new DeltaStream({ orign: 3 } as object))).toEqual(
      refused('orign', 'origin', 'group, origin, counter, session, window, outbox, table, engine'),
    );
    const saved = new DeltaStream({ origin: 3 }).save();
    expect(await failure(() => DeltaStream.restore(saved, { tabel: new AtomikTable(1) } as object))).toEqual(refused('tabel', 'table', 'table, engine'));
  });
});

describe("negative deltas in the 'add' group", () => {
  const outOfRange = (group: string, range: string, got: string) => [
    'ERR_ATOMIK_OUT_OF_RANGE',
    'AtomikRangeError',
    `delta must be in ${range} in the '${group}' group, got ${got}`,
  ];

  it('AtomikTable.accum takes -1n as a decrement, down to -2^63; xor tables still refuse it', async () => {
    const t = new AtomikTable(2, { group: 'add' });
    t.accum(0, 5n);
    t.accum(0, -7n);
    expect(t.read(0)).toBe(TOP - 2n);
    t.accum(1, -(2n ** 63n));
    expect(t.read(1)).toBe(2n ** 63n);
    expect(await failure(() => t.accum(0, -(2n ** 63n) - 1n))).toEqual(outOfRange('add', '[-2^63, 2^64)', '-9223372036854775809n'));
    expect(await failure(() => t.accum(0, 1 as unknown as bigint))).toEqual([
      'ERR_ATOMIK_INVALID_ARG_TYPE',
      'AtomikTypeError',
      'delta must be a bigint in [-2^63, 2^64), got 1',
    ]);
    expect(t.read(0)).toBe(TOP - 2n); // refused calls changed nothing
    const x = new AtomikTable(1);
    expect(await failure(() => x.accum(0, -1n))).toEqual(outOfRange('xor', '[0, 2^64)', '-1n'));
  });

  it('AtomikContext.accum does the same', async () => {
    const c = new AtomikContext({ group: 'add' });
    c.load(10n);
    c.accum(-3n);
    c.accum(-(2n ** 63n));
    expect(c.read()).toBe((10n - 3n - 2n ** 63n + TOP) % TOP);
    expect(await failure(() => new AtomikContext().accum(-1n))).toEqual(outOfRange('xor', '[0, 2^64)', '-1n'));
  });

  for (const backend of ['js', 'native'] as const) {
    it(`open({ backend: '${backend}' }).accum does the same`, async (ctx) => {
      const acc = await open({ backend, contexts: 3, group: 'add' }).catch((err: Error) => err);
      if (acc instanceof Error) return ctx.skip(`the ${backend} backend is not available here: ${acc.message}`);
      try {
        await acc.accum(2, -1n);
        await acc.accum(2, -1n);
        expect(await acc.read(2)).toBe(TOP - 2n);
        expect(await failure(() => acc.accum(2, -(2n ** 64n)))).toEqual(outOfRange('add', '[-2^63, 2^64)', '-18446744073709551616n'));
      } finally {
        await acc.close();
      }
      const xor = await open({ backend, contexts: 1 });
      expect(await failure(() => xor.accum(0, -1n))).toEqual(outOfRange('xor', '[0, 2^64)', '-1n'));
      await xor.close();
    });
  }

  itUnless(
    noHost,
    "on a board over the framed protocol: the device adds the two's complement",
    async () => {
      const board = await startBoard({ contexts: 4 });
      try {
        const acc = await open({ port: board.port, lock: false, group: 'add', contexts: 4 });
        try {
          await acc.accum(3, 10n);
          await acc.accum(3, -12n);
          expect(await acc.read(3)).toBe(TOP - 2n);
        } finally {
          await acc.close();
        }
      } finally {
        await board.stop();
      }
    },
    30_000,
  );
});
