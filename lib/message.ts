import { AtomikContext } from './context.js';
import { groupOption, type Group } from './group.js';
import { bytes, integer, u64 } from './validate.js';

/** Size of the reference wire form: u32 addr, u64 delta, u32 seq, big-endian. */
export const DELTA_MESSAGE_BYTES = 16;
const U32_MAX = 0xffffffff;

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

  constructor(addr: number, delta: bigint, epoch = 0, seq = 0) {
    this.addr = integer(addr, 0, U32_MAX, 'addr');
    this.delta = u64(delta, 'delta');
    this.epoch = integer(epoch, 0, Number.MAX_SAFE_INTEGER, 'epoch');
    this.seq = integer(seq, 0, U32_MAX, 'seq');
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
      throw new RangeError(`data must be exactly ${DELTA_MESSAGE_BYTES} bytes, got ${b.length}`);
    }
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return new DeltaMessage(view.getUint32(0, false), view.getBigUint64(4, false), 0, view.getUint32(12, false));
  }

  equals(other: DeltaMessage): boolean {
    return other instanceof DeltaMessage && other.addr === this.addr && other.delta === this.delta && other.seq === this.seq && other.epoch === this.epoch;
  }
}

/**
 * Exactly-once wire form: still the 16-byte reference message, with the u32
 * seq split into an 8-bit origin (the sending replica) and a 24-bit counter
 * that starts at 1. A reference receiver reads it unchanged (it ignores seq).
 */
export const ORIGIN_BITS = 8;
export const COUNTER_BITS = 24;
export const MAX_ORIGIN = (1 << ORIGIN_BITS) - 1;
export const MAX_COUNTER = 2 ** COUNTER_BITS - 1;

export function packSeq(origin: number, counter: number): number {
  integer(origin, 0, MAX_ORIGIN, 'origin');
  integer(counter, 1, MAX_COUNTER, 'counter');
  return origin * 2 ** COUNTER_BITS + counter;
}

export function unpackSeq(seq: number): { origin: number; counter: number } {
  integer(seq, 0, U32_MAX, 'seq');
  return { origin: Math.floor(seq / 2 ** COUNTER_BITS), counter: seq % 2 ** COUNTER_BITS };
}

export interface DeltaStreamOptions {
  group?: Group;
  /**
   * This replica's origin id (0..255). With it, accum() numbers messages as
   * origin + counter (see packSeq), so that receivers can use receive() to
   * apply each message exactly once.
   */
  origin?: number;
}

/** What receive() did with a message. */
export type Receipt = 'applied' | 'duplicate';

/** Delivery state for one origin: everything up to `through` arrived, plus `above`. */
interface Delivered {
  through: number;
  above: Set<number>;
}

/**
 * Produces and consumes DeltaMessages. With the reference semantics,
 * accum() applies locally and queues a message with the next sequence
 * number, and apply() applies a received message without detecting
 * duplicates (with 'xor' a duplicate undoes its delta). Give the stream an
 * origin and use receive() instead of apply() for exactly-once delivery.
 */
export class DeltaStream {
  readonly group: Group;
  private readonly contexts = new Map<number, AtomikContext>();
  private outbox: DeltaMessage[] = [];
  private epochNo = 0;
  private seqNo = 0;
  readonly origin: number | undefined;
  private readonly delivered = new Map<number, Delivered>();

  constructor(options: DeltaStreamOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.group = groupOption(options.group);
    this.origin = options.origin === undefined ? undefined : integer(options.origin, 0, MAX_ORIGIN, 'options.origin');
  }

  private context(addr: number): AtomikContext {
    let ctx = this.contexts.get(addr);
    if (!ctx) {
      ctx = new AtomikContext({ group: this.group, engine: 'js' });
      this.contexts.set(addr, ctx);
    }
    return ctx;
  }

  /** Sets a context's state; sender and receivers load the same value first. Starts a new epoch. */
  load(addr: number, value: bigint): void {
    integer(addr, 0, U32_MAX, 'addr');
    u64(value, 'value');
    this.context(addr).load(value);
    this.epochNo++;
  }

  /** Applies a delta locally and returns the message to send (also queued for pending()). */
  accum(addr: number, delta: bigint): DeltaMessage {
    integer(addr, 0, U32_MAX, 'addr');
    u64(delta, 'delta');
    const limit = this.origin === undefined ? U32_MAX : MAX_COUNTER;
    if (this.seqNo >= limit) throw new RangeError(`seq would exceed ${limit}: start a new stream`);
    const seq = this.origin === undefined ? this.seqNo + 1 : packSeq(this.origin, this.seqNo + 1);
    const msg = new DeltaMessage(addr, delta, this.epochNo, seq);
    this.context(addr).accum(delta);
    this.seqNo++;
    this.outbox.push(msg);
    return msg;
  }

  /** Applies a message received from a peer. */
  apply(msg: DeltaMessage): void {
    if (!(msg instanceof DeltaMessage)) throw new TypeError('msg must be a DeltaMessage');
    this.context(msg.addr).accum(msg.delta);
  }

  /**
   * Applies a message from a peer exactly once: a message whose origin and
   * counter were seen before is a duplicate and is not applied again (with
   * 'xor', applying it again would undo it). Messages may come in any order.
   */
  receive(msg: DeltaMessage): Receipt {
    if (!(msg instanceof DeltaMessage)) throw new TypeError('msg must be a DeltaMessage');
    const { origin, counter } = unpackSeq(msg.seq);
    if (counter === 0) throw new RangeError(`msg.seq ${msg.seq} carries no counter: the sender needs an origin (DeltaStream({ origin }))`);
    let d = this.delivered.get(origin);
    if (!d) {
      d = { through: 0, above: new Set() };
      this.delivered.set(origin, d);
    }
    if (counter <= d.through || d.above.has(counter)) return 'duplicate';
    this.context(msg.addr).accum(msg.delta);
    d.above.add(counter);
    while (d.above.delete(d.through + 1)) d.through++;
    return 'applied';
  }

  /**
   * Messages not received yet, per origin: the counters missing below the
   * highest one received (at most `limit` per origin). Empty when nothing is missing.
   */
  gaps(limit = 1000): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const [origin, d] of this.delivered) {
      if (d.above.size === 0) continue;
      let highest = 0;
      for (const c of d.above) highest = Math.max(highest, c);
      const missing: number[] = [];
      for (let c = d.through + 1; c < highest && missing.length < limit; c++) if (!d.above.has(c)) missing.push(c);
      out.set(origin, missing);
    }
    return out;
  }

  /** The state at addr (0 for an address never touched). */
  read(addr: number): bigint {
    integer(addr, 0, U32_MAX, 'addr');
    return this.contexts.get(addr)?.read() ?? 0n;
  }

  /** Returns and clears the messages produced since the last call. */
  pending(): DeltaMessage[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  get epoch(): number {
    return this.epochNo;
  }

  get seq(): number {
    return this.seqNo;
  }

  /** The addresses that have a context, in first-use order. */
  addresses(): number[] {
    return [...this.contexts.keys()];
  }
}
