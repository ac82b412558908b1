// The framed session path on the in-memory transport against the device
// model: HELLO and OPEN asked again when their frames or answers are lost,
// within one deadline; a reconnect that goes through the same exchange and
// keeps to the limits the board advertises then; timeouts counted as losses
// in the link's error estimate.
import { describe, expect, it } from 'vitest';
import { DeviceError } from '../../lib/index.js';
import { FramedClient, type Reconnector } from '../../lib/serial/framed/client.js';
import { createTransportPair } from '../../lib/serial/memory-transport.js';
import { startDeviceModel } from '../helpers/device-model.js';

const deltas = (n: number, from = 1) => BigUint64Array.from({ length: n }, (_, i) => (BigInt(i + from) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn);
const xorAll = (d: BigUint64Array) => d.reduce((a, b) => a ^ b, 0n);
const quick = (ms: number) => ({ deadline: performance.now() + ms, firstWaitMs: 10, maxWaitMs: 40 });

describe('starting a session', () => {
  it('HELLO and OPEN whose frames are lost are asked again; the session then carries calls', async () => {
    const { ends } = createTransportPair();
    const model = startDeviceModel(ends[1], { swallow: (n) => n <= 2 || n === 4 }); // two HELLOs, then the first OPEN
    const client = new FramedClient(ends[0]);
    const hello = await client.start('xor', quick(2000));
    expect(hello.name).toBe('model');
    expect(model.arrivals).toBe(5); // HELLO x3, OPEN x2
    await client.submit([{ op: 'accum', index: 3, value: 0x55n }]);
    expect(model.states[3]).toBe(0x55n);
    await client.close();
  });

  it('a device that never answers OPEN fails start with NO_ANSWER at the deadline, and the port is released', async () => {
    const { ends } = createTransportPair();
    const model = startDeviceModel(ends[1], { swallow: (n) => n > 1 });
    let closed = false;
    ends[0].onClose(() => (closed = true));
    const client = new FramedClient(ends[0]);
    const started = performance.now();
    const error = await client.start('xor', quick(300)).then(
      () => null,
      (err: unknown) => err as DeviceError,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect(error).toBeInstanceOf(DeviceError);
    expect([error!.code, error!.deviceCode, error!.message]).toEqual(['ERR_ATOMIK_DEVICE', 'NO_ANSWER', 'no answer to OPEN on memory:a']);
    expect(model.arrivals).toBeGreaterThan(3); // OPEN was sent again meanwhile
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
  });
});

describe('reconnecting', () => {
  const replugging = (model: ReturnType<typeof startDeviceModel>): Reconnector => ({
    attempts: 5,
    initialDelayMs: 5,
    maxDelayMs: 5,
    reopen: async () => {
      const again = createTransportPair();
      model.attach(again.ends[1]);
      return again.ends[0];
    },
  });
  const reconnected = async (client: FramedClient, count: number) => {
    while (client.stats.reconnects < count) await new Promise((r) => setTimeout(r, 2));
  };

  it('the limits the board advertises after a reconnect are the ones kept to from then on', async () => {
    const first = createTransportPair();
    const model = startDeviceModel(first.ends[1]);
    const client = new FramedClient(first.ends[0], {}, replugging(model));
    await client.start('xor');
    const d = deltas(600);
    await client.submit([{ op: 'accumRun', index: 1, deltas: d }]);
    expect(model.largest.payload).toBeGreaterThan(64);
    model.setLimits({ maxOps: 3, maxPayload: 64 });
    first.unplug(new Error('unplugged'));
    await reconnected(client, 1);
    const e = deltas(600, 1000);
    await client.submit([
      { op: 'accumRun', index: 1, deltas: e },
      ...Array.from({ length: 10 }, (_, k) => ({ op: 'accum' as const, index: 2, value: BigInt(k + 1) })),
    ]);
    expect(model.largest).toEqual({ payload: 61, ops: 3 }); // 5 + 7 deltas of 8 bytes; 3 ops
    expect([model.states[1], model.states[2]]).toEqual([xorAll(d) ^ xorAll(e), 11n]); // 1 ^ 2 ^ ... ^ 10
    await client.close();
  });

  it('a HELLO lost right after the port came back is asked again, not taken for a dead board', async () => {
    const first = createTransportPair();
    let dropNext = false;
    const model = startDeviceModel(first.ends[1], {
      swallow: () => {
        if (!dropNext) return false;
        dropNext = false;
        return true;
      },
    });
    const client = new FramedClient(first.ends[0], {}, replugging(model));
    await client.start('xor');
    await client.submit([{ op: 'accum', index: 5, value: 7n }]);
    dropNext = true; // the first frame after the replug: its HELLO
    first.unplug(new Error('unplugged'));
    await reconnected(client, 1);
    await client.submit([{ op: 'accum', index: 5, value: 1n }]);
    expect([model.states[5], client.stats.reconnects, dropNext]).toEqual([6n, 1, false]);
    await client.close();
  });
});

describe('the loss estimate', () => {
  it('frames lost without a trace (timeouts only) raise the error rate and shrink frames; every result exact', async () => {
    const { ends } = createTransportPair({ baudRate: 4_000_000 });
    const model = startDeviceModel(ends[1], { swallow: (n) => n > 2 && n % 5 === 0 });
    const client = new FramedClient(ends[0], { timeoutMs: 20 });
    await client.start('xor');
    const d = deltas(120);
    for (let k = 0; k < d.length; k++) await client.submit([{ op: 'accum', index: k % 4, value: d[k]! }]);
    const stats = client.stats;
    expect(stats.fastRetransmissions).toBe(0); // nothing but silence told the host
    expect(stats.timeouts).toBeGreaterThan(20);
    expect(stats.errorRate).toBeGreaterThan(0);
    expect(stats.frameBudget).toBeLessThan(2 * 2304);
    for (let i = 0; i < 4; i++) expect(model.states[i]).toBe(xorAll(d.filter((_, k) => k % 4 === i)));
    await client.close();
  });
});
