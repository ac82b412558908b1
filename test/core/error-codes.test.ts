// Every error carries a stable code; argument errors stay TypeErrors and
// RangeErrors, as Node's own do.
import { describe, expect, it } from 'vitest';
import { AtomikContext, AtomikError, AtomikRangeError, AtomikTable, AtomikTypeError, DeviceError, Fingerprint, open } from '../../lib/index.js';

import { expectCoded as expectCode, thrown as caught } from '../helpers/errors.js';

describe('error codes', () => {
  const table = new AtomikTable(4, { engine: 'js' });
  const ctx = new AtomikContext({ engine: 'js' });

  it('argument errors are TypeError/RangeError subclasses with codes', () => {
    expectCode(() => ctx.accum(1 as unknown as bigint), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE');
    expectCode(() => ctx.accum(-1n), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE');
    expectCode(() => ctx.accum(1n << 64n), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE');
    expectCode(() => table.read(4), RangeError, 'ERR_ATOMIK_INDEX_OUT_OF_RANGE');
    expectCode(() => table.read(1.5), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE');
    expectCode(() => table.scatter(Uint32Array.of(9), BigUint64Array.of(1n)), RangeError, 'ERR_ATOMIK_INDEX_OUT_OF_RANGE');
    expectCode(() => table.scatter(Uint32Array.of(0), new BigUint64Array(2)), RangeError, 'ERR_ATOMIK_LENGTH_MISMATCH');
    expectCode(() => table.scatter([0] as unknown as Uint32Array, new BigUint64Array(1)), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE');
    expectCode(() => table.states(new BigUint64Array(3)), RangeError, 'ERR_ATOMIK_LENGTH_MISMATCH');
    expectCode(() => table.batch([{ op: 'nope', index: 0 } as never]), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE');
    expectCode(() => new AtomikTable(-1), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE');
    expectCode(() => new AtomikTable(4, null as never), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE');
    expectCode(() => new AtomikTable(4, { group: 'mul' as never }), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE');
    expectCode(() => ctx.merge(new AtomikContext({ group: 'add', engine: 'js' })), TypeError, 'ERR_ATOMIK_INVALID_ARG_VALUE');
    expectCode(() => new Fingerprint().load(5 as never), TypeError, 'ERR_ATOMIK_INVALID_ARG_TYPE');
    const err = caught(() => table.read(7));
    expect(err).toBeInstanceOf(AtomikRangeError);
    expect([err.name, err.message]).toEqual(['AtomikRangeError', 'index 7 is out of range [0, 4)']);
    expect(caught(() => table.read('x' as never))).toBeInstanceOf(AtomikTypeError);
  });

  it('a closed accumulator rejects with ERR_ATOMIK_CLOSED', async () => {
    const acc = await open({ backend: 'js', contexts: 2 });
    await acc.close();
    const err = await acc.read(0).then(
      () => null,
      (e: AtomikError) => e,
    );
    expect(err).toBeInstanceOf(AtomikError);
    expect([err!.name, err!.code, err!.message]).toEqual(['AtomikError', 'ERR_ATOMIK_CLOSED', 'the accumulator is closed']);
  });

  it('DeviceError is an AtomikError with ERR_ATOMIK_DEVICE, the device code and a cause', () => {
    const cause = new Error('EIO');
    const e = new DeviceError('board gone', [{ op: 'read', index: 1, state: 'queued' }], 'INDEX_RANGE', { cause });
    expect(e).toBeInstanceOf(AtomikError);
    expect([e.name, e.code, e.deviceCode, e.cause, e.message]).toEqual([
      'DeviceError',
      'ERR_ATOMIK_DEVICE',
      'INDEX_RANGE',
      cause,
      'board gone; 1 operation(s) not confirmed: read(1) queued',
    ]);
  });

  it('AtomikError takes any code, for modules that add their own', () => {
    const e = new AtomikError('ERR_ATOMIK_SOMETHING_NEW', 'x', { cause: 1 });
    expect([e.code, e.message, e.cause, String(e)]).toEqual(['ERR_ATOMIK_SOMETHING_NEW', 'x', 1, 'AtomikError: x']);
  });
});
