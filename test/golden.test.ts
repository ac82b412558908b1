// Golden values from test/golden/generate.py, which implements the reference
// package's definitions in Python, independently of our code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DeltaMessage, DeltaStream, Fingerprint } from '../lib/index.js';
import { ENGINES } from './helpers/engines.js';
import { describeUnless } from './helpers/skip.js';

const golden = JSON.parse(readFileSync(new URL('./golden/reference.json', import.meta.url), 'utf8')) as {
  messages: { addr: number; delta: string; seq: number; hex: string }[];
  xorFold: { hex: string; value: string }[];
  positional: { hex: string; value: string }[];
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

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
