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

export interface DeltaStreamOptions {
  group?: Group;
}

/**
 * Produces and consumes DeltaMessages, with the reference semantics:
 * accum() applies locally and queues a message with the next sequence
 * number; apply() applies a received message. Like the reference, apply()
 * does not detect duplicates: with 'xor' a duplicate undoes its delta.
 */
export class DeltaStream {
  readonly group: Group;
  private readonly contexts = new Map<number, AtomikContext>();
  private outbox: DeltaMessage[] = [];
  private epochNo = 0;
  private seqNo = 0;

  constructor(options: DeltaStreamOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.group = groupOption(options.group);
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
    if (this.seqNo >= U32_MAX) throw new RangeError('seq would exceed 2^32 - 1: start a new stream');
    const msg = new DeltaMessage(addr, delta, this.epochNo, this.seqNo + 1);
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
