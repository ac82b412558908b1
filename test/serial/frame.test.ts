// Frame packing (lib/serial/frame.ts) on its own: the bytes each operation
// takes in a BATCH and in its RESULT, the exact layout of a frame, and
// frames carried through the in-memory transport in pieces, whole and
// damaged.
import { describe, expect, it } from 'vitest';
import { OPERATIONS, WIRE_OP, type Op } from '../../lib/core/operations.js';
import {
  FRAME,
  FRAME_OVERHEAD,
  FrameDecoder,
  HEADER_BYTES,
  MAX_PAYLOAD,
  SYNC,
  decodeError,
  decodeReplyResults,
  encodeFrame,
  encodeOpen,
  encodeOps,
  opBytes,
  resultBytes,
  type Frame,
} from '../../lib/serial/frame.js';
import { createTransportPair } from '../../lib/serial/memory-transport.js';
import { crc32 } from '../../lib/core/crc.js';
import { expectCoded } from '../helpers/errors.js';
import { fromHex, hex } from '../helpers/values.js';

const ONE_OF_EACH: Op[] = [
  { op: 'load', index: 0x0102, value: 0x1122334455667788n },
  { op: 'accum', index: 3, value: 0xffn },
  { op: 'read', index: 4 },
  { op: 'swap', index: 5 },
  { op: 'status', index: 6 },
  { op: 'swapTo', index: 7, value: 1n },
  { op: 'accumRun', index: 8, deltas: BigUint64Array.of(1n, 2n) },
];

describe('operations in a BATCH and its RESULT', () => {
  it('each takes an opcode and a u16 index, then its operand; its result is 8, 1 or 0 bytes', () => {
    expect(ONE_OF_EACH.map((o) => [o.op, opBytes(o), resultBytes(o)])).toEqual([
      ['load', 11, 0],
      ['accum', 11, 0],
      ['read', 3, 8],
      ['swap', 3, 8],
      ['status', 3, 1],
      ['swapTo', 11, 8],
      ['accumRun', 5 + 16, 0],
    ]);
    expect(opBytes({ op: 'accumRun', index: 0, deltas: new BigUint64Array(0) })).toBe(5);
  });

  it('encodes every operation big-endian, in order, with the opcodes of the operation table', () => {
    expect(hex(encodeOps(ONE_OF_EACH))).toBe(
      [
        '01' + '0102' + '1122334455667788',
        '02' + '0003' + '00000000000000ff',
        '03' + '0004',
        '04' + '0005',
        '06' + '0006',
        '05' + '0007' + '0000000000000001',
        '07' + '0008' + '0002' + '0000000000000001' + '0000000000000002',
      ].join(''),
    );
    for (const o of ONE_OF_EACH) expect(encodeOps([o])[0]).toBe(OPERATIONS[o.op].wire);
    expect(Object.keys(WIRE_OP).sort()).toEqual(ONE_OF_EACH.map((o) => o.op).sort());
  });

  it('reads a RESULT as the operations that produced it: u64 values, status as a boolean, nothing for the rest', () => {
    const payload = fromHex('00000000000000aa' + 'ffffffffffffffff' + '01' + '0000000000000005' + '00');
    const ops: Op[] = [
      { op: 'load', index: 0, value: 1n },
      { op: 'read', index: 0 },
      { op: 'swap', index: 1 },
      { op: 'status', index: 2 },
      { op: 'swapTo', index: 3, value: 9n },
      { op: 'status', index: 4 },
    ];
    expect(decodeReplyResults(ops, payload)).toEqual([null, 0xaan, (1n << 64n) - 1n, true, 5n, false]);
    // A RESULT inside a larger buffer (as the decoder hands it out) reads the same.
    const inside = new Uint8Array(payload.length + 3);
    inside.set(payload, 3);
    expect(decodeReplyResults(ops, inside.subarray(3))).toEqual([null, 0xaan, (1n << 64n) - 1n, true, 5n, false]);
    expectCoded(() => decodeReplyResults(ops, payload.subarray(1)), RangeError, 'ERR_ATOMIK_MALFORMED_FRAME', 'RESULT payload has 25 bytes, expected 26');
  });

  it('OPEN carries the session and the group; ERROR names its code and the operation it stopped at', () => {
    expect(hex(encodeOpen(0x01020304, 'xor'))).toBe('0102030400');
    expect(hex(encodeOpen(7, 'add'))).toBe('0000000701');
    expect(['010000', '020005', '030001', '04ffff', '050002'].map((h) => decodeError(fromHex(h)))).toEqual([
      { code: 'BAD_CRC', at: 0 },
      { code: 'BAD_LENGTH', at: 5 },
      { code: 'UNKNOWN_OP', at: 1 },
      { code: 'INDEX_RANGE', at: 0xffff },
      { code: 'BAD_GROUP', at: 2 },
    ]);
    expect(decodeError(fromHex('ee0102'))).toEqual({ code: '0xee', at: 0x102 });
    expectCoded(() => decodeError(fromHex('0200')), RangeError, 'ERR_ATOMIK_MALFORMED_FRAME', 'ERROR payload has 2 bytes, expected 3');
  });
});

describe('frames', () => {
  it('SYNC, u16 length, u16 SEQ, type, CRC-8 of those five, the payload, CRC-32 of all but SYNC', () => {
    const f = encodeFrame(0x1234, FRAME.batch, fromHex('abcd'));
    expect(f.length).toBe(FRAME_OVERHEAD + 2);
    expect(hex(f.subarray(0, HEADER_BYTES - 1))).toBe('a5' + '0002' + '1234' + '02');
    expect(f[0]).toBe(SYNC);
    expect(hex(f.subarray(HEADER_BYTES, HEADER_BYTES + 2))).toBe('abcd');
    expect(new DataView(f.buffer).getUint32(HEADER_BYTES + 2)).toBe(crc32(f.subarray(1, HEADER_BYTES + 2)));
    expect(encodeFrame(0, FRAME.hello).length).toBe(FRAME_OVERHEAD);
  });

  it('the largest payload fits; one byte more is refused with a code', () => {
    const largest = encodeFrame(1, FRAME.batch, new Uint8Array(MAX_PAYLOAD).fill(7));
    expect(new FrameDecoder().push(largest).map((f) => f.payload.length)).toEqual([MAX_PAYLOAD]);
    expectCoded(() => encodeFrame(1, FRAME.batch, new Uint8Array(MAX_PAYLOAD + 1)), RangeError, 'ERR_ATOMIK_OUT_OF_RANGE', `exceeds ${MAX_PAYLOAD}`);
  });
});

/** Sends `bytes` from one end of an in-memory pair in pieces of the given sizes; resolves with the frames the other end decoded. */
async function across(bytes: Uint8Array, pieces: number[], decoder: FrameDecoder): Promise<Frame[]> {
  const { ends } = createTransportPair();
  const got: Frame[] = [];
  ends[1].onData((d) => got.push(...decoder.push(d)));
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = pieces[k % pieces.length]!;
    await ends[0].write(bytes.subarray(at, at + n));
    at += n;
  }
  await new Promise((r) => setImmediate(r));
  await ends[0].close();
  return got;
}

describe('frames through the in-memory transport', () => {
  const batch = encodeOps(ONE_OF_EACH);
  const stream = () =>
    Uint8Array.from([
      ...encodeFrame(1, FRAME.batch, batch),
      ...fromHex('000102'), // line noise
      ...encodeFrame(2, FRAME.batch, new Uint8Array(MAX_PAYLOAD).fill(0xa5)), // SYNC bytes inside a payload
      ...encodeFrame(3, FRAME.result, fromHex('01')),
    ]);

  it('a byte at a time, or in uneven pieces: the same frames, exact, the noise counted as skipped', async () => {
    for (const pieces of [[1], [7, 1, 300], [4096]]) {
      const decoder = new FrameDecoder();
      const frames = await across(stream(), pieces, decoder);
      expect(frames.map((f) => [f.seq, f.type, f.payload.length])).toEqual([
        [1, FRAME.batch, batch.length],
        [2, FRAME.batch, MAX_PAYLOAD],
        [3, FRAME.result, 1],
      ]);
      expect(hex(frames[0]!.payload)).toBe(hex(batch));
      expect(decoder.skipped).toBe(3);
      expect(decoder.buffered).toBe(0);
    }
  });

  it('a frame damaged on the way is reported by its SEQ and dropped; its neighbours arrive', async () => {
    const bytes = stream();
    const second = FRAME_OVERHEAD + batch.length + 3;
    bytes[second + HEADER_BYTES + 100]! ^= 0x10; // one bit of frame 2's payload
    const damaged: number[] = [];
    const decoder = new FrameDecoder((seq) => damaged.push(seq));
    const frames = await across(bytes, [64], decoder);
    expect(frames.map((f) => f.seq)).toEqual([1, 3]);
    expect(damaged).toEqual([2]);
  });

  it('holds at most one frame while waiting for the rest of it', async () => {
    const decoder = new FrameDecoder();
    const big = encodeFrame(9, FRAME.batch, new Uint8Array(MAX_PAYLOAD));
    let most = 0;
    const { ends } = createTransportPair();
    ends[1].onData((d) => {
      decoder.push(d);
      most = Math.max(most, decoder.buffered);
    });
    for (let at = 0; at < big.length - 1; at += 100) await ends[0].write(big.subarray(at, Math.min(at + 100, big.length - 1)));
    await new Promise((r) => setImmediate(r));
    expect(decoder.buffered).toBe(big.length - 1);
    expect(most).toBeLessThanOrEqual(FRAME_OVERHEAD + MAX_PAYLOAD);
    await ends[0].write(big.subarray(big.length - 1));
    await new Promise((r) => setImmediate(r));
    expect(decoder.buffered).toBe(0);
    await ends[0].close();
  });
});
