// The framed protocol, host side: frames, checksums, batch operations and
// replies, exactly as firmware/PROTOCOL.md specifies (big-endian throughout).
import { AtomikRangeError, DeviceError } from '../core/errors.js';
import { OPERATIONS, WIRE_OP, toResult, type Op, type OpName, type OpResult } from '../core/operations.js';
import { crc8, crc32 } from '../core/crc.js';
import type { HelloInfo } from '../backend/device.js';

export { WIRE_OP };

export const SYNC = 0xa5;
export const HEADER_BYTES = 7;
export const FRAME_OVERHEAD = 11;
export const MAX_PAYLOAD = 2304;
export const HELLO_PROBE = Uint8Array.of(0x7e, 0x61, 0x74, 0x6f, 0x6d, 0x69, 0x6b, 0x3f); // "~atomik?"
export const RESYNC = new Uint8Array(8);

export const FRAME = { hello: 0x01, batch: 0x02, open: 0x03, helloReply: 0x81, result: 0x82, error: 0x83 } as const;
export const ERROR_CODES: Record<number, string> = {
  0x01: 'BAD_CRC',
  0x02: 'BAD_LENGTH',
  0x03: 'UNKNOWN_OP',
  0x04: 'INDEX_RANGE',
  0x05: 'BAD_GROUP',
};

export interface Frame {
  seq: number;
  type: number;
  payload: Uint8Array;
}

export function encodeFrame(seq: number, type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const out = new Uint8Array(FRAME_OVERHEAD + payload.length);
  const view = new DataView(out.buffer);
  out[0] = SYNC;
  view.setUint16(1, payload.length);
  view.setUint16(3, seq);
  out[5] = type;
  out[6] = crc8(out.subarray(1, 6));
  out.set(payload, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + payload.length, crc32(out.subarray(1, HEADER_BYTES + payload.length)));
  return out;
}

/**
 * Finds frames in a byte stream with the protocol's resynchronisation rule:
 * a non-SYNC byte is skipped; a bad header or bad CRC skips the SYNC byte
 * and rescans, so a damaged frame costs only itself. It holds at most one
 * frame's worth of bytes, whatever it is fed.
 */
export class FrameDecoder {
  private buf = new Uint8Array(0);
  /** Bytes skipped so far while hunting for frames (garbage and damaged frames). */
  skipped = 0;

  /** Bytes held while waiting for the rest of a frame (never more than one frame). */
  get buffered(): number {
    return this.buf.length;
  }

  /** @param onDamaged told the SEQ of a frame whose header checked out but whose CRC did not. */
  constructor(private readonly onDamaged?: (seq: number) => void) {}

  push(data: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.buf.length + data.length);
    joined.set(this.buf);
    joined.set(data, this.buf.length);
    const frames: Frame[] = [];
    let at = 0;
    while (at < joined.length) {
      if (joined[at] !== SYNC) {
        at++;
        this.skipped++;
        continue;
      }
      if (joined.length - at < HEADER_BYTES) break;
      const view = new DataView(joined.buffer, at);
      const len = view.getUint16(1);
      if (crc8(joined.subarray(at + 1, at + 6)) !== joined[at + 6] || len > MAX_PAYLOAD) {
        at++;
        this.skipped++;
        continue;
      }
      const total = FRAME_OVERHEAD + len;
      if (joined.length - at < total) break;
      if (crc32(joined.subarray(at + 1, at + HEADER_BYTES + len)) !== view.getUint32(HEADER_BYTES + len)) {
        this.onDamaged?.(view.getUint16(3));
        at++;
        this.skipped++;
        continue;
      }
      frames.push({ seq: view.getUint16(3), type: joined[at + 5]!, payload: joined.slice(at + HEADER_BYTES, at + HEADER_BYTES + len) });
      at += total;
    }
    this.buf = joined.slice(at);
    return frames;
  }
}

// ---- batch operations ---------------------------------------------------
// Opcodes, operands and result sizes come from lib/core/operations.ts.

const RESULT_BYTES = { none: 0, u64: 8, bool: 1 } as const;

export function opBytes(op: Op): number {
  const operand = OPERATIONS[op.op].operand;
  return operand === 'value' ? 11 : operand === 'none' ? 3 : 5 + 8 * (op as Extract<Op, { op: 'accumRun' }>).deltas.length;
}

export function resultBytes(op: Op): number {
  return RESULT_BYTES[OPERATIONS[op.op].result];
}

export function encodeOps(ops: readonly Op[]): Uint8Array {
  const out = new Uint8Array(ops.reduce((n, o) => n + opBytes(o), 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const o of ops) {
    out[at] = WIRE_OP[o.op];
    view.setUint16(at + 1, o.index);
    if ('value' in o) view.setBigUint64(at + 3, o.value);
    if (o.op === 'accumRun') {
      view.setUint16(at + 3, o.deltas.length);
      for (let k = 0; k < o.deltas.length; k++) view.setBigUint64(at + 5 + 8 * k, o.deltas[k]!);
    }
    at += opBytes(o);
  }
  return out;
}

/** Reads a RESULT payload for the ops that produced it; throws on a size mismatch. */
export function decodeReplyResults(ops: readonly Op[], payload: Uint8Array): OpResult[] {
  const expected = ops.reduce((n, o) => n + resultBytes(o), 0);
  if (payload.length !== expected) throw new AtomikRangeError('ERR_ATOMIK_MALFORMED_FRAME', `RESULT payload has ${payload.length} bytes, expected ${expected}`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 0;
  return ops.map((o) => {
    const size = resultBytes(o);
    const raw = size === 8 ? view.getBigUint64(at) : size === 1 ? BigInt(payload[at]!) : 0n;
    at += size;
    return toResult(o.op, raw);
  });
}

/** The protocol versions a host understands (PROTOCOL.md). */
export const PROTOCOL_VERSIONS = [1, 2] as const;
/** The most operations a device may take in one frame: 256 u64 results still fit MAX_PAYLOAD. */
export const MAX_OPS = 256;
/** Bytes of HELLO_REPLY before the name (version 1), and the session and boot id that follow it (version 2). */
const HELLO_FIXED = 13;
const HELLO_V2_EXTRA = 8;
const HELLO_MAX_NAME = 64;
/**
 * The smallest MAX_PAYLOAD a host accepts: every operation must fit a frame
 * alone, and so must its reply, or a host could never send it (a run is
 * split down to one delta). Taken from the op table: with one delta, the
 * largest request is an accumRun (1 + 2 + 2 + 8 = 13 bytes); the largest
 * reply is 8 bytes.
 */
export const MIN_DEVICE_PAYLOAD = Math.max(
  ...(Object.keys(OPERATIONS) as OpName[]).map((op) =>
    Math.max(opBytes(op === 'accumRun' ? { op, index: 0, deltas: new BigUint64Array(1) } : { op, index: 0, value: 0n }), RESULT_BYTES[OPERATIONS[op].result]),
  ),
);

function badHello(message: string): DeviceError {
  return new DeviceError(message, [], 'BAD_HELLO');
}

function helloRange(field: string, value: number, min: number, max: number): void {
  if (value < min || value > max) throw badHello(`HELLO field ${field} = ${value} is out of range ${min}..${max}`);
}

/**
 * Reads a HELLO_REPLY of protocol version 1 or 2 and checks every field
 * against what this host can work with, so nothing a device advertises can
 * make it loop, overflow or send frames the device cannot take. A violation
 * is a DeviceError with deviceCode 'BAD_HELLO' that names the field.
 */
export function decodeHello(payload: Uint8Array): HelloInfo {
  helloRange('length', payload.length, HELLO_FIXED, HELLO_FIXED + HELLO_MAX_NAME + HELLO_V2_EXTRA);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const protocol = payload[0]!;
  helloRange('protocol', protocol, PROTOCOL_VERSIONS[0], PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.length - 1]!);
  const nameLength = payload[12]!;
  helloRange('nameLength', nameLength, 0, HELLO_MAX_NAME);
  const expected = HELLO_FIXED + nameLength + (protocol === 2 ? HELLO_V2_EXTRA : 0);
  if (payload.length !== expected) {
    throw badHello(`HELLO field length = ${payload.length} is not ${expected} (version ${protocol}, a name of ${nameLength} bytes)`);
  }
  const contexts = view.getUint16(4);
  const maxOps = view.getUint16(6);
  const maxPayload = view.getUint16(8);
  const groupBits = payload[10]!;
  const replayDepth = payload[11]!;
  helloRange('contexts', contexts, 1, 0xffff);
  helloRange('maxOps', maxOps, 1, MAX_OPS);
  helloRange('maxPayload', maxPayload, MIN_DEVICE_PAYLOAD, MAX_PAYLOAD);
  helloRange('groups', groupBits, 1, 3); // bit 0 xor, bit 1 add: at least one, nothing else
  helloRange('replayDepth', replayDepth, 2, 0xff);
  const name = payload.subarray(HELLO_FIXED, HELLO_FIXED + nameLength);
  const bad = name.findIndex((b) => b < 0x20 || b > 0x7e);
  if (bad >= 0) {
    throw badHello(`HELLO field name byte ${bad} = 0x${name[bad]!.toString(16).padStart(2, '0')} is not printable ASCII (0x20..0x7e)`);
  }
  const groups: ('xor' | 'add')[] = [];
  if (groupBits & 1) groups.push('xor');
  if (groupBits & 2) groups.push('add');
  const v2 = protocol === 2;
  return {
    protocol,
    firmware: `${payload[1]}.${payload[2]}.${payload[3]}`,
    contexts,
    maxOps,
    maxPayload,
    groups,
    replayDepth,
    name: String.fromCharCode(...name),
    session: v2 ? view.getUint32(HELLO_FIXED + nameLength) : null,
    bootId: v2 ? view.getUint32(HELLO_FIXED + nameLength + 4) : null,
  };
}

export interface WireError {
  code: string;
  at: number;
}

export function decodeError(payload: Uint8Array): WireError {
  if (payload.length !== 3) throw new AtomikRangeError('ERR_ATOMIK_MALFORMED_FRAME', `ERROR payload has ${payload.length} bytes, expected 3`);
  return { code: ERROR_CODES[payload[0]!] ?? `0x${payload[0]!.toString(16)}`, at: (payload[1]! << 8) | payload[2]! };
}

export function encodeOpen(session: number, group: 'xor' | 'add' | number): Uint8Array {
  const out = new Uint8Array(5);
  new DataView(out.buffer).setUint32(0, session);
  out[4] = group === 'xor' ? 0 : group === 'add' ? 1 : group;
  return out;
}
