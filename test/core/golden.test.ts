// Golden values from test/golden/generate.py, which implements the reference
// package's definitions in Python, independently of our code; and the HELLO
// vectors of firmware/tools/golden.py (the protocol, from its specification).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltaMessage, DeltaStream, DeviceError, Fingerprint } from '../../lib/index.js';
import {
  FRAME,
  FrameDecoder,
  HELLO_PROBE,
  MIN_DEVICE_PAYLOAD,
  RESYNC,
  decodeError,
  decodeHello,
  encodeFrame,
  encodeOpen,
  opBytes,
} from '../../lib/serial/frame.js';
import { ENGINES } from '../helpers/engines.js';
import { describeUnless } from '../helpers/skip.js';
import { fromHex, hex } from '../helpers/values.js';
import type { HelloInfo } from '../../lib/backend/device.js';

const golden = JSON.parse(readFileSync(new URL('../golden/reference.json', import.meta.url), 'utf8')) as {
  messages: { addr: number; delta: string; seq: number; hex: string }[];
  xorFold: { hex: string; value: string }[];
  positional: { hex: string; value: string }[];
};

describe('DeltaMessage wire form', () => {
  for (const m of golden.messages) {
    it(`addr ${m.addr} seq ${m.seq} -> ${m.hex}`, () => {
      const msg = new DeltaMessage(m.addr, BigInt(m.delta), 0, m.seq);
      expect(hex(msg.encode())).toBe(m.hex);
      const back = DeltaMessage.decode(Buffer.from(m.hex, 'hex'));
      expect([back.addr, back.delta, back.seq, back.epoch]).toEqual([m.addr, BigInt(m.delta), m.seq, 0]);
      expect(back.equals(msg)).toBe(true);
    });
  }

  it('decodes from a view into a larger buffer', () => {
    const big = Buffer.from('ff' + golden.messages[3]!.hex + 'ff', 'hex');
    const msg = DeltaMessage.decode(big.subarray(1, 17));
    expect(msg.seq).toBe(golden.messages[3]!.seq);
    expect(hex(DeltaMessage.decode(new Uint8Array(big).buffer.slice(1, 17)).encode())).toBe(golden.messages[3]!.hex);
  });

  it('DeltaStream numbers messages and round-trips them through bytes', () => {
    const sender = new DeltaStream({ outbox: 16 });
    const receiver = new DeltaStream();
    sender.load(0, 0xcafen);
    receiver.load(0, 0xcafen);
    const m1 = sender.accum(0, 0x00ffn);
    const m2 = sender.accum(9, 0x1n);
    expect([m1.seq, m1.epoch, m2.seq, hex(m1.encode())]).toEqual([1, 1, 2, '00000000' + '00000000000000ff' + '00000001']);
    expect(sender.pending()).toEqual([m1, m2]);
    expect(sender.pending()).toEqual([]);
    for (const m of [m2, m1]) receiver.apply(DeltaMessage.decode(m.encode()));
    expect([receiver.read(0), receiver.read(9), receiver.read(5)]).toEqual([sender.read(0), 1n, 0n]);
    expect(receiver.read(0)).toBe(0xca01n);
    expect(sender.addresses()).toEqual([0, 9]);
  });

  it('like the reference, a duplicate undoes a xor delta (DeltaStream does not dedupe)', () => {
    const receiver = new DeltaStream();
    const m = new DeltaMessage(0, 0x10n, 0, 1);
    receiver.apply(m);
    receiver.apply(m);
    expect(receiver.read(0)).toBe(0n);
  });
});

for (const { name, engine, skipReason } of ENGINES) {
  describeUnless(skipReason, `Fingerprint golden values, ${name} engine`, () => {
    for (const [mode, cases] of [
      ['xor-fold', golden.xorFold],
      ['positional', golden.positional],
    ] as const) {
      it(`${mode} matches the generated values`, () => {
        const f = new Fingerprint({ mode, engine: engine! });
        for (const c of cases) expect(f.compute(Buffer.from(c.hex, 'hex'))).toBe(BigInt(c.value));
      });
    }
  });
}

// ---- HELLO_REPLY of both protocol versions (firmware/golden-vectors.json) ----

interface HelloStep {
  send: string;
  expect: string;
  request?: { type: string; seq?: number; session?: number; group?: string };
  response?: Record<string, unknown> & { type: string; seq: number };
}
const vectors = JSON.parse(readFileSync(new URL('../../firmware/golden-vectors.json', import.meta.url), 'utf8')) as {
  cases: { name: string; dialect: string; steps: HelloStep[] }[];
  hostileHello: { name: string; payload: string; error: string }[];
  acceptedHello: { name: string; payload: string; info: HelloInfo }[];
};

describe('HELLO_REPLY, versions 1 and 2', () => {
  const helloCases = vectors.cases.filter((c) => c.dialect === 'framed-v1' || c.dialect === 'framed-v2');
  it('has a case for each version', () => expect(helloCases.map((c) => c.dialect).sort()).toEqual(['framed-v1', 'framed-v2']));

  for (const c of helloCases) {
    it(c.name, () => {
      for (const step of c.steps) {
        const r = step.request!;
        if (r.type === 'probe') expect(hex(Uint8Array.from([...RESYNC, ...HELLO_PROBE]))).toBe(step.send);
        if (r.type === 'hello') expect(hex(encodeFrame(r.seq!, FRAME.hello))).toBe(step.send);
        if (r.type === 'open') expect(hex(encodeFrame(r.seq!, FRAME.open, encodeOpen(r.session!, r.group === 'mul' ? 2 : (r.group as 'xor'))))).toBe(step.send);
        const frames = new FrameDecoder().push(fromHex(step.expect));
        expect(frames).toHaveLength(1);
        const { type, seq, ...want } = step.response!;
        expect(frames[0]!.seq).toBe(seq);
        if (type === 'hello') {
          expect(frames[0]!.type).toBe(FRAME.helloReply);
          expect(decodeHello(frames[0]!.payload)).toEqual(want);
        } else if (type === 'error') {
          expect(decodeError(frames[0]!.payload)).toEqual(want);
        } else {
          expect([frames[0]!.type, hex(frames[0]!.payload)]).toEqual([FRAME.result, '']);
        }
      }
    });
  }

  it('version 2 reports the session of the last OPEN and the boot id; version 1 neither', () => {
    const v2 = helloCases.find((c) => c.dialect === 'framed-v2')!.steps.filter((s) => s.response!.type === 'hello');
    const v1 = helloCases.find((c) => c.dialect === 'framed-v1')!.steps;
    const info = (s: HelloStep) => decodeHello(new FrameDecoder().push(fromHex(s.expect))[0]!.payload);
    expect(v2.map((s) => [info(s).protocol, info(s).session, info(s).bootId])).toEqual([
      [2, 0, 0x5eed0b07],
      [2, 0, 0x5eed0b07],
      [2, 0x01020304, 0x5eed0b07],
      [2, 0x01020304, 0x5eed0b07],
    ]);
    expect(v1.map((s) => [info(s).protocol, info(s).session, info(s).bootId])).toEqual([
      [1, null, null],
      [1, null, null],
    ]);
  });

  it(`accepts MAX_PAYLOAD down to ${MIN_DEVICE_PAYLOAD}: one accumRun of one delta, the largest single operation`, () => {
    expect(MIN_DEVICE_PAYLOAD).toBe(13);
    expect(opBytes({ op: 'accumRun', index: 0, deltas: new BigUint64Array(1) })).toBe(13);
  });

  for (const h of vectors.acceptedHello) {
    it(`accepts ${h.name}`, () => expect(decodeHello(fromHex(h.payload))).toEqual(h.info));
  }

  for (const h of vectors.hostileHello) {
    it(`refuses ${h.name}: ${h.error}`, () => {
      let thrown: unknown;
      try {
        decodeHello(fromHex(h.payload));
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(DeviceError);
      const e = thrown as DeviceError;
      expect([e.code, e.deviceCode, e.message, e.unconfirmed]).toEqual(['ERR_ATOMIK_DEVICE', 'BAD_HELLO', h.error, []]);
    });
  }

  it('refuses every truncation and extension of a valid reply, and never throws anything but a BAD_HELLO DeviceError', () => {
    const valid = fromHex(vectors.acceptedHello[0]!.payload);
    for (let n = 0; n < valid.length; n++) expect(() => decodeHello(valid.subarray(0, n))).toThrow(DeviceError);
    expect(() => decodeHello(Uint8Array.from([...valid, 0]))).toThrow(/^HELLO field length = 22 is not 21 \(version 2, a name of 0 bytes\)$/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        try {
          const info = decodeHello(bytes);
          expect(info.maxPayload).toBeGreaterThanOrEqual(MIN_DEVICE_PAYLOAD);
          expect(info.maxOps).toBeGreaterThan(0);
        } catch (e) {
          expect((e as DeviceError).deviceCode).toBe('BAD_HELLO');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
