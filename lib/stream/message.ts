// DeltaMessage: one delta for one address in the 16-byte reference wire
// form, and the seq that numbers it (origin and counter).
import { AtomikRangeError, AtomikTypeError } from '../core/errors.js';
import { bytes, index, integer, u64 } from '../core/validate.js';
import { COUNTER_BITS, WIRE_MAX, wireCounter } from './delivery.js';
/** Size of the reference wire form: u32 addr, u64 delta, u32 seq, big-endian. */
export const DELTA_MESSAGE_BYTES = 16;
export const U32_MAX = 0xffffffff;

// Set while decode() builds a message from bytes, whose fields need no checks.
let trusted = false;

/**
 * One delta for one address, as sent between replicas. The wire form is the
 * reference package's 16 bytes; `epoch` travels only in memory (the
 * reference format has no room for it), so decode() yields epoch 0.
 */
export class DeltaMessage {
  readonly addr: number;
  readonly delta: bigint;
  readonly epoch: number;
  readonly seq: number;
  // Only messages made by this constructor have it: their fields were checked (or made by the library) and are frozen.
  readonly #genuine = true;

  constructor(addr: number, delta: bigint, epoch = 0, seq = 0) {
    if (trusted) {
      this.addr = addr;
      this.delta = delta;
      this.epoch = epoch;
      this.seq = seq;
    } else {
      this.addr = integer(addr, 0, U32_MAX, 'addr');
      this.delta = u64(delta, 'delta');
      this.epoch = integer(epoch, 0, Number.MAX_SAFE_INTEGER, 'epoch');
      this.seq = integer(seq, 0, U32_MAX, 'seq');
    }
    Object.freeze(this);
  }

  encode(): Uint8Array {
    const out = new Uint8Array(DELTA_MESSAGE_BYTES);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.addr, false);
    view.setBigUint64(4, this.delta, false);
    view.setUint32(12, this.seq, false);
    return out;
  }

  static decode(data: Uint8Array | ArrayBufferView | ArrayBuffer): DeltaMessage {
    const b = bytes(data, 'data');
    if (b.length !== DELTA_MESSAGE_BYTES) {
      throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `data must be exactly ${DELTA_MESSAGE_BYTES} bytes, got ${b.length}`);
    }
    // Big-endian words assembled from bytes: cheaper than a DataView per message.
    const word = (at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    return trustedMessage(word(0), (BigInt(word(4)) << 32n) | BigInt(word(8)), 0, word(12));
  }

  equals(other: DeltaMessage): boolean {
    return other instanceof DeltaMessage && other.addr === this.addr && other.delta === this.delta && other.seq === this.seq && other.epoch === this.epoch;
  }

  /**
   * `value` as a message whose fields can be trusted: a message this class
   * made, as it is; anything else that claims to be one (an object made from
   * the prototype, a subclass that overrides a field) has each field read
   * once and checked, and is refused with a coded error when one is wrong.
   */
  static checked(value: unknown, name: string): DeltaMessage {
    if (typeof value === 'object' && value !== null && #genuine in value) return value;
    if (!(value instanceof DeltaMessage)) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a DeltaMessage`);
    const { addr, delta, epoch, seq } = value as { addr: unknown; delta: unknown; epoch: unknown; seq: unknown };
    return new DeltaMessage(
      index(addr, U32_MAX + 1, `${name}.addr`),
      u64(delta, `${name}.delta`),
      integer(epoch, 0, Number.MAX_SAFE_INTEGER, `${name}.epoch`),
      integer(seq, 0, U32_MAX, `${name}.seq`),
    );
  }
}

/**
 * Exactly-once wire form: still the 16-byte reference message, with the u32
 * seq split into an 8-bit origin (the sending replica) and a 24-bit wire
 * counter. A reference receiver reads it unchanged (it ignores seq).
 * Origin 0 is the reference numbering (a stream without an origin), so
 * exactly-once senders use origins 1..255. A sender's counter has no limit:
 * message number c (from 1) carries wire counter ((c - 1) mod MAX_COUNTER) + 1,
 * which equals c below 2^24 and never 0; receivers rebuild c from the wire
 * counter relative to what they have delivered (see DeltaStream.receive).
 */
export const ORIGIN_BITS = 8;
export { COUNTER_BITS };
export const MIN_ORIGIN = 1;
export const MAX_ORIGIN = (1 << ORIGIN_BITS) - 1;
/** The largest wire counter; the wire counter cycles through 1..MAX_COUNTER. */
export const MAX_COUNTER = WIRE_MAX;

/**
 * A session message: wire counter 0 (which no delta uses), addr SESSION_ADDR,
 * and the sender's session (a bigint > 0) in the delta field. It is not a
 * delta: only receive() / receiveMany() understand it (a reference receiver
 * must not apply it). See DeltaStream.sessionMessage().
 */
export const SESSION_ADDR = U32_MAX;

/** seq of message number `counter` (1..2^53 - 1) from `origin` (0..255). */
export function packSeq(origin: number, counter: number): number {
  integer(origin, 0, MAX_ORIGIN, 'origin');
  integer(counter, 1, Number.MAX_SAFE_INTEGER, 'counter');
  return origin * 2 ** COUNTER_BITS + wireCounter(counter);
}

/** The origin and the wire counter carried by a seq. */
export function unpackSeq(seq: number): { origin: number; counter: number } {
  integer(seq, 0, U32_MAX, 'seq');
  return { origin: Math.floor(seq / 2 ** COUNTER_BITS), counter: seq % 2 ** COUNTER_BITS };
}

/** Whether m is a session message (see SESSION_ADDR) rather than a delta. */
export function isSessionMessage(m: DeltaMessage): boolean {
  return m.seq > MAX_COUNTER && (m.seq & MAX_COUNTER) === 0 && m.addr === SESSION_ADDR && m.delta !== 0n;
}

/** A message whose fields the library made itself (decoded bytes, a stream's own numbering): no checks. */
export function trustedMessage(addr: number, delta: bigint, epoch: number, seq: number): DeltaMessage {
  trusted = true;
  try {
    return new DeltaMessage(addr, delta, epoch, seq);
  } finally {
    trusted = false;
  }
}
