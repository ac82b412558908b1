// The host side of the framed protocol against the golden vectors (the same
// file the C device test replays), and the decoder against random and
// truncated input.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME,
  FRAME_OVERHEAD,
  FrameDecoder,
  MAX_PAYLOAD,
  HELLO_PROBE,
  RESYNC,
  decodeError,
  decodeHello,
  decodeReplyResults,
  encodeFrame,
  encodeOpen,
  encodeOps,
} from '../../lib/serial/frame.js';
import type { Op } from '../../lib/core/operations.js';
import { DeviceError } from '../../lib/core/errors.js';
import { fromHex, hex } from '../helpers/values.js';

interface Step {
  send: string;
  expect: string;
  request?: { type: string; seq?: number; ops?: { op: string; index: number; value?: string; deltas?: string[] }[]; session?: number; group?: string };
  response?: Record<string, unknown> & { type: string; seq: number };
}
const golden = JSON.parse(readFileSync(new URL('../../firmware/golden-vectors.json', import.meta.url), 'utf8')) as {
  cases: { name: string; dialect: string; steps: Step[] }[];
};
const bytes = fromHex;

function wireOps(ops: NonNullable<Step['request']>['ops']): Op[] {
  return ops!.map((o) => {
    if (o.op === 'accumRun') return { op: 'accumRun', index: o.index, deltas: BigUint64Array.from(o.deltas!, BigInt) };
    if (o.value !== undefined) return { op: o.op as 'load' | 'accum' | 'swapTo', index: o.index, value: BigInt(o.value) };
    return { op: o.op as 'read' | 'swap' | 'status', index: o.index };
  });
}

describe('golden vectors, host side', () => {
  for (const c of golden.cases.filter((k) => k.dialect === 'framed')) {
    it(c.name, () => {
      for (const step of c.steps) {
        const r = step.request;
        if (r?.type === 'probe') expect(hex(Uint8Array.from([...RESYNC, ...HELLO_PROBE]))).toBe(step.send);
        if (r?.type === 'hello') expect(hex(encodeFrame(r.seq!, FRAME.hello))).toBe(step.send);
        if (r?.type === 'batch') expect(hex(encodeFrame(r.seq!, FRAME.batch, encodeOps(wireOps(r.ops))))).toBe(step.send);
        if (r?.type === 'open') {
          const group = r.group === 'xor' || r.group === 'add' ? r.group : 2;
          expect(hex(encodeFrame(r.seq!, FRAME.open, encodeOpen(r.session!, group)))).toBe(step.send);
        }
        const frames = new FrameDecoder().push(bytes(step.expect));
        expect(frames).toHaveLength(1);
        const [f] = frames;
        const want = step.response!;
        expect(f!.seq).toBe(want.seq);
        if (want.type === 'hello') {
          const { type: _t, seq: _s, ...info } = want;
          expect(f!.type).toBe(FRAME.helloReply);
          expect(decodeHello(f!.payload)).toEqual(info);
        } else if (want.type === 'error') {
          expect(f!.type).toBe(FRAME.error);
          expect(decodeError(f!.payload)).toEqual({ code: want.code, at: want.at });
        } else {
          expect(f!.type).toBe(FRAME.result);
          expect(hex(f!.payload)).toBe(want.payload);
          if (r?.type === 'batch') expect(() => decodeReplyResults(wireOps(r.ops), f!.payload)).not.toThrow();
        }
      }
    });
  }

  it('decodes the results of the golden xor batch exactly', () => {
    const step = golden.cases[1]!.steps[1]!;
    const [f] = new FrameDecoder().push(bytes(step.expect));
    expect(decodeReplyResults(wireOps(step.request!.ops), f!.payload)).toEqual([null, null, 0xca01n, false, 0xca01n, true, 0n, (1n << 64n) - 1n]);
  });
});

describe('frame decoder', () => {
  const frameArb = fc.record({
    seq: fc.integer({ min: 0, max: 0xffff }),
    type: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  });

  it('finds every frame in any chunking of a stream', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.seq, f.type, f.payload)));
        const d = new FrameDecoder();
        const got = [];
        for (let at = 0, k = 0; at < stream.length; k++) {
          const n = cuts[k % cuts.length]!;
          got.push(...d.push(new Uint8Array(stream.subarray(at, at + n))));
          at += n;
        }
        expect(got.map((f) => [f.seq, f.type, hex(f.payload)])).toEqual(frames.map((f) => [f.seq, f.type, hex(f.payload)]));
      }),
    );
  });

  it('random bytes never crash it, and every frame it accepts has a valid checksum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (noise) => {
        for (const f of new FrameDecoder().push(noise)) {
          // Re-encoding reproduces the exact bytes, so the CRC-32 matched.
          expect(hex(noise)).toContain(hex(encodeFrame(f.seq, f.type, f.payload)));
        }
      }),
    );
  });

  it('resynchronises after damage: a truncated or corrupted frame costs at most itself and its neighbour', () => {
    fc.assert(
      fc.property(frameArb, frameArb, frameArb, frameArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (a, b, c, d, where, flip) => {
        const enc = (f: typeof a) => encodeFrame(f.seq, f.type, f.payload);
        const fb = enc(b);
        const damaged = fb.slice();
        damaged[where % damaged.length] = damaged[where % damaged.length]! ^ flip;
        const truncated = fb.subarray(0, where % fb.length);
        // A truncated frame holds what follows until its length is reached, and
        // may take the next frame's first bytes with it; on a live line more
        // bytes keep coming (retransmissions), modelled by filler.
        const filler = new Uint8Array(FRAME_OVERHEAD + MAX_PAYLOAD);
        const valid = new Set([a, b, c, d].map((f) => hex(enc(f))));
        for (const middle of [damaged, truncated]) {
          const stream = Buffer.concat([enc(a), middle, enc(c), enc(d), filler]);
          const got = new FrameDecoder().push(new Uint8Array(stream)).map((f) => hex(encodeFrame(f.seq, f.type, f.payload)));
          expect(got[0]).toBe(hex(enc(a)));
          expect(got.at(-1)).toBe(hex(enc(d)));
          expect(got.length).toBeGreaterThanOrEqual(2);
          expect(got.length).toBeLessThanOrEqual(4);
          for (const g of got) expect(valid.has(g)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('decodeReplyResults, decodeHello and decodeError reject payloads of the wrong size', () => {
    const ops: Op[] = [
      { op: 'read', index: 0 },
      { op: 'status', index: 1 },
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (payload) => {
        if (payload.length === 9) expect(decodeReplyResults(ops, payload)).toHaveLength(2);
        else expect(() => decodeReplyResults(ops, payload)).toThrow(RangeError);
        if (payload.length !== 3) expect(() => decodeError(payload)).toThrow(RangeError);
        if (payload.length < 13 || payload.length !== 13 + payload[12]! + (payload[0] === 2 ? 8 : 0)) expect(() => decodeHello(payload)).toThrow(DeviceError);
      }),
    );
  });

  it('refuses to encode an oversized payload', () => {
    expect(() => encodeFrame(1, FRAME.batch, new Uint8Array(2305))).toThrow(RangeError);
  });

  it('DeviceError lists what was not confirmed', () => {
    const e = new DeviceError('board gone', [
      { op: 'accum', index: 3, state: 'sent', seq: 9 },
      { op: 'read', index: 0, state: 'queued' },
    ]);
    expect(e.message).toBe('board gone; 2 operation(s) not confirmed: accum(3) sent in frame 9, read(0) queued');
    expect(e.unconfirmed).toHaveLength(2);
  });
});
