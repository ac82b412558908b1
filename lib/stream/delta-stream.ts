// DeltaStream: a sender and exactly-once receiver of DeltaMessages over a
// context store or an AtomikTable, with its delivery record saved and restored.
import { types } from 'node:util';
import { GROUP_CODE, GROUPS, groupOption, type Group } from '../core/group.js';
import { resolveEngine, type EngineChoice } from '../engine/select.js';
import type { Engine } from '../engine/types.js';
import { NATIVE_LE } from '../engine/ops.js';
import { crc32 } from '../core/crc.js';
import { AtomikTable, tableCore } from '../table/table.js';
import { AtomikError, AtomikRangeError, AtomikTypeError } from '../core/errors.js';
import { bytes, integer, knownKeys, object, optionKeys, u64 } from '../core/validate.js';
import { COUNTER_BITS, DeliveryRecords, RECEIPT, wireCounter } from './delivery.js';
import { NATIVE_THRESHOLD, loadNative } from '../engine/native.js';
import { DELTA_MESSAGE_BYTES, DeltaMessage, MAX_COUNTER, MAX_ORIGIN, MIN_ORIGIN, U32_MAX, trustedMessage } from './message.js';

/** native/stream.h: a message's origin has no record yet. */
const STREAM_ERECORD = -11;

/** The addon's export for receiveMany() (native/stream_binding.cc). */
interface StreamBinding {
  streamReceive(
    group: 0 | 1,
    acc: BigUint64Array,
    msgs: Uint8Array,
    through: Float64Array,
    highest: Float64Array,
    next: Uint32Array,
    head: Uint32Array,
    offset: Int32Array,
    bits: Uint32Array,
    window: number,
    receipts: Uint8Array | null,
    counts: Float64Array,
  ): number;
}

function streamBinding(): StreamBinding | null {
  const b = loadNative().binding as unknown as Partial<StreamBinding> | null;
  return b !== null && typeof b.streamReceive === 'function' ? (b as StreamBinding) : null;
}

/** Receiver window: how many counters per origin a receiver tracks (see receive()). */
export const DEFAULT_WINDOW = 4096;
export const MIN_WINDOW = 32;
export const MAX_WINDOW = 2 ** 20;
/** Largest outbox (messages queued for pending()). */
const MAX_OUTBOX = 2 ** 24;

export interface DeltaStreamOptions {
  /** 'xor' (default) or 'add'; with `table`, the table's group (giving another one is an error). */
  group?: Group;
  /**
   * This sender's origin id (1..255). With it, accum() numbers messages as
   * origin + counter (see packSeq), so that receivers can use receive() to
   * apply each message exactly once. Without it, messages carry the
   * reference numbering (origin 0), which receive() refuses.
   */
  origin?: number;
  /** Messages this sender numbered before (resume after a restart); the next one is counter + 1. Default 0. */
  counter?: number;
  /** Counters tracked per origin by receive(): a power of two in [32, 2^20], default 4096. */
  window?: number;
  /** Capacity of the queue that pending() drains; 0 (default) keeps no queue. accum() refuses a message when it is full. */
  outbox?: number;
  /** Apply to this table's contexts (addr = table index) instead of the stream's own. */
  table?: AtomikTable;
  /** Batch kernels for the stream's own contexts ('auto', 'js', 'native' or an Engine); a table brings its own. */
  engine?: EngineChoice | Engine;
}

/**
 * What receive() did with a message:
 * - `applied`: first delivery, applied.
 * - `duplicate`: its counter was delivered before, within the window: not applied again.
 * - `stale`: its counter is more than `window` behind what was delivered: the
 *   receiver no longer knows whether it had it (an old copy, or a sender that
 *   restarted without its saved counter); not applied.
 * - `ahead`: its counter is more than `window` beyond the first missing one:
 *   not applied and not recorded; deliver it again once the gap is filled
 *   (gaps() lists it), or skip() the missing counters.
 */
export type Receipt = 'applied' | 'duplicate' | 'stale' | 'ahead';
/** Receipt codes, as receiveMany() writes them. */
export { RECEIPT };
const RECEIPT_NAMES: readonly Receipt[] = ['applied', 'duplicate', 'stale', 'ahead'];

/** Counts of what receiveMany() did, one per receipt. */
export interface ReceiveSummary {
  applied: number;
  duplicate: number;
  stale: number;
  ahead: number;
}

const STATE_MAGIC = 0x53534441; // "ADSS" as a little-endian u32
const STATE_VERSION = 1;
const STATE_HEADER_BYTES = 48;
const STATE_FLAG_CONTEXTS = 1;
const RECORD_HEADER_BYTES = 24;
const CONTEXT_BYTES = 24;
const OUTBOX_ENTRY_BYTES = 24;
const STREAM_KEYS = optionKeys<DeltaStreamOptions>({ group: true, origin: true, counter: true, window: true, outbox: true, table: true, engine: true });

/**
 * Produces and consumes DeltaMessages. With the reference semantics,
 * accum() applies locally and returns a message with the next sequence
 * number, and apply() applies a received message without detecting
 * duplicates (with 'xor' a duplicate undoes its delta). Give each sender an
 * origin and use receive() / receiveMany() instead of apply() for
 * exactly-once delivery.
 */
export class DeltaStream {
  readonly group: Group;
  readonly origin: number | undefined;
  /** Counters tracked per origin by receive(). */
  readonly window: number;
  /** Capacity of the pending() queue (0: no queue). */
  readonly outboxCapacity: number;
  /** The table fed by this stream, if any. */
  readonly table: AtomikTable | undefined;
  private readonly engine: Engine;
  private readonly additive: boolean;
  private readonly addrLimit: number;
  // Contexts: the table's words, or the stream's own, one slot per address in first-use order.
  private ref: BigUint64Array;
  private acc: BigUint64Array;
  private readonly slots: Map<number, number> | null;
  private readonly slotAddr: number[] = [];
  private outbox: DeltaMessage[] = [];
  private epochNo = 0;
  private counterNo: number;
  private nextWire: number;
  private readonly records: DeliveryRecords;
  /** native/stream.c, when the stream feeds a table on the native engine. */
  private readonly native: StreamBinding | null;
  // Scratch for receiveMany(), grown as needed.
  private scratchAt = new Int32Array(0);
  private scratchIdx = new Uint32Array(0);
  private scratchDeltas = new BigUint64Array(0);
  private readonly counts = new Float64Array(4);

  constructor(options: DeltaStreamOptions = {}) {
    object(options, 'options');
    knownKeys(options, STREAM_KEYS, 'options');
    const table = options.table;
    if (table !== undefined) {
      if (!(table instanceof AtomikTable)) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'options.table must be an AtomikTable');
      if (options.group !== undefined && groupOption(options.group) !== table.group) {
        throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `options.group '${options.group}' differs from options.table's group '${table.group}'`);
      }
      if (options.engine !== undefined)
        throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', 'options.engine cannot be given with options.table: the table brings its engine');
      this.group = table.group;
      this.engine = table.engine;
      const core = tableCore(table);
      this.ref = core.ref;
      this.acc = core.acc;
      this.slots = null;
      this.addrLimit = table.size;
    } else {
      this.group = groupOption(options.group);
      this.engine = resolveEngine(options.engine);
      this.ref = new BigUint64Array(16);
      this.acc = new BigUint64Array(16);
      this.slots = new Map();
      this.addrLimit = U32_MAX + 1;
    }
    this.table = table;
    this.additive = this.group === 'add';
    this.origin = options.origin === undefined ? undefined : integer(options.origin, MIN_ORIGIN, MAX_ORIGIN, 'options.origin');
    this.counterNo = options.counter === undefined ? 0 : integer(options.counter, 0, Number.MAX_SAFE_INTEGER - 1, 'options.counter');
    this.nextWire = wireCounter(this.counterNo + 1);
    const window = options.window === undefined ? DEFAULT_WINDOW : integer(options.window, MIN_WINDOW, MAX_WINDOW, 'options.window');
    if ((window & (window - 1)) !== 0) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `options.window must be a power of two, got ${window}`);
    this.window = window;
    this.records = new DeliveryRecords(window);
    this.native = table !== undefined && table.engine.name === 'native' ? streamBinding() : null;
    this.outboxCapacity = options.outbox === undefined ? 0 : integer(options.outbox, 0, MAX_OUTBOX, 'options.outbox');
  }

  // ---- arguments --------------------------------------------------------

  private addrArg(addr: unknown, name: string): number {
    if (typeof addr === 'number' && addr >= 0 && addr < this.addrLimit && Number.isInteger(addr)) return addr;
    if (typeof addr !== 'number' || !Number.isInteger(addr))
      throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be an integer, got ${typeof addr === 'number' ? addr : typeof addr}`);
    throw new AtomikRangeError(
      'ERR_ATOMIK_INDEX_OUT_OF_RANGE',
      `${name} ${addr} is out of range [0, ${this.addrLimit})${this.table ? ' (the table size)' : ''}`,
    );
  }

  private messageArg(msg: unknown): DeltaMessage {
    if (!(msg instanceof DeltaMessage)) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'msg must be a DeltaMessage');
    if (msg.addr >= this.addrLimit) this.addrArg(msg.addr, 'msg.addr');
    return msg;
  }

  // ---- contexts -----------------------------------------------------------

  /** The word index of addr's context (creating it when the stream keeps its own). */
  private slot(addr: number): number {
    const slots = this.slots;
    if (slots === null) return addr;
    const s = slots.get(addr);
    return s === undefined ? this.newSlot(addr) : s;
  }

  private newSlot(addr: number): number {
    const s = this.slotAddr.length;
    if (s === this.acc.length) {
      const ref = new BigUint64Array(s * 2);
      const acc = new BigUint64Array(s * 2);
      ref.set(this.ref);
      acc.set(this.acc);
      this.ref = ref;
      this.acc = acc;
    }
    this.slots!.set(addr, s);
    this.slotAddr.push(addr);
    return s;
  }

  private accumAt(s: number, delta: bigint): void {
    // BigUint64Array stores wrap modulo 2^64, which is exactly the add group.
    this.acc[s] = this.additive ? this.acc[s]! + delta : this.acc[s]! ^ delta;
  }

  /** Sets a context's state; sender and receivers load the same value first. Starts a new epoch. */
  load(addr: number, value: bigint): void {
    this.addrArg(addr, 'addr');
    u64(value, 'value');
    const s = this.slot(addr);
    this.ref[s] = value;
    this.acc[s] = 0n;
    this.epochNo++;
  }

  /**
   * Applies a delta locally and returns the message to send (also queued
   * for pending() when the stream has an outbox; a full outbox refuses the
   * call with ERR_ATOMIK_OUTBOX_FULL and changes nothing).
   */
  accum(addr: number, delta: bigint): DeltaMessage {
    this.addrArg(addr, 'addr');
    if (typeof delta !== 'bigint' || delta < 0n || delta > 0xffffffffffffffffn) u64(delta, 'delta');
    if (this.counterNo >= Number.MAX_SAFE_INTEGER - 1) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', 'the counter reached 2^53 - 1');
    if (this.outboxCapacity > 0 && this.outbox.length >= this.outboxCapacity) {
      throw new AtomikError('ERR_ATOMIK_OUTBOX_FULL', `the outbox holds ${this.outboxCapacity} messages (options.outbox): drain it with pending() first`);
    }
    const wire = this.nextWire;
    const msg = trustedMessage(addr, delta, this.epochNo, this.origin === undefined ? wire : this.origin * 2 ** COUNTER_BITS + wire);
    this.accumAt(this.slot(addr), delta);
    this.counterNo++;
    this.nextWire = wire === MAX_COUNTER ? 1 : wire + 1;
    if (this.outboxCapacity > 0) this.outbox.push(msg);
    return msg;
  }

  /** Applies a message received from a peer, with the reference semantics: a copy is applied again. */
  apply(msg: DeltaMessage): void {
    this.messageArg(msg);
    this.accumAt(this.slot(msg.addr), msg.delta);
  }

  // ---- exactly-once receiving ------------------------------------------------

  /** The origin of seq, refusing the numbering that receive() cannot use. */
  private originOf(seq: number, what: string): number {
    const origin = seq >>> COUNTER_BITS;
    if (origin === 0) {
      throw new AtomikRangeError(
        'ERR_ATOMIK_NO_ORIGIN',
        `${what} ${seq} has origin 0, the numbering of a stream without an origin: give every sender an origin (DeltaStream({ origin: 1..255 }))`,
      );
    }
    if ((seq & MAX_COUNTER) === 0) throw new AtomikRangeError('ERR_ATOMIK_NO_COUNTER', `${what} ${seq} carries no counter (wire counter 0)`);
    return origin;
  }

  /**
   * Applies a message from a peer exactly once. Per origin the receiver
   * keeps the counter through which everything arrived plus a window of
   * `window` counters beyond it, so messages may arrive in any order within
   * the window; the full counter is rebuilt from the 24-bit wire counter
   * relative to that record. See Receipt for the answers; only 'applied'
   * changes a context. Throws (ERR_ATOMIK_NO_ORIGIN) for a message from a
   * stream without an origin.
   */
  receive(msg: DeltaMessage): Receipt {
    this.messageArg(msg);
    const seq = msg.seq;
    const origin = this.originOf(seq, 'msg.seq');
    if (!this.records.has(origin)) this.records.add(origin);
    const code = this.records.admit(origin, seq & MAX_COUNTER);
    if (code === RECEIPT.applied) this.accumAt(this.slot(msg.addr), msg.delta);
    return RECEIPT_NAMES[code]!;
  }

  /**
   * receive() for many messages at once: `data` holds whole 16-byte
   * messages back to back. They are checked first (a bad one throws, naming
   * it, and nothing is applied), then each is classified against its
   * origin's record as it stood before the call plus the messages before it
   * in the call (so a batch reaches `window` counters past the first one
   * missing at its start), and the new ones are applied with one engine
   * call: native/stream.c for a table on the native engine, otherwise one
   * scatter. `receipts`, when given (a Uint8Array of one byte per message),
   * gets each message's RECEIPT code.
   */
  receiveMany(data: Uint8Array | ArrayBufferView | ArrayBuffer, receipts?: Uint8Array): ReceiveSummary {
    let b = bytes(data, 'data');
    // Checked once, then read again: memory another thread can change is copied first.
    if (types.isSharedArrayBuffer(b.buffer)) b = b.slice();
    if (b.length % DELTA_MESSAGE_BYTES !== 0) {
      throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `data must hold whole ${DELTA_MESSAGE_BYTES}-byte messages, got ${b.length} bytes`);
    }
    const n = b.length / DELTA_MESSAGE_BYTES;
    if (receipts !== undefined) {
      if (!(receipts instanceof Uint8Array)) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'receipts must be a Uint8Array');
      if (receipts.length !== n)
        throw new AtomikRangeError('ERR_ATOMIK_LENGTH_MISMATCH', `receipts must have length ${n} (one per message), got ${receipts.length}`);
    }
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const records = this.records;
    const counts = this.counts;
    counts.fill(0);
    if (this.native !== null && n >= NATIVE_THRESHOLD) {
      // The kernel checks the batch itself before changing anything; on a
      // refusal the check below names the culprit, or adds the missing records.
      let status = this.callNative(b, receipts);
      if (status === STREAM_ERECORD) {
        this.checkBatch(view, n);
        status = this.callNative(b, receipts);
      }
      if (status !== 0) {
        this.checkBatch(view, n);
        throw new AtomikError('ERR_ATOMIK_INTERNAL', `native receive refused the batch (status ${status})`);
      }
    } else {
      this.checkBatch(view, n);
      if (this.scratchAt.length < n) {
        this.scratchAt = new Int32Array(n);
        this.scratchIdx = new Uint32Array(n);
        this.scratchDeltas = new BigUint64Array(n);
      }
      const accepted = records.classify(view, n, this.scratchAt, receipts, counts);
      const at = this.scratchAt;
      const idx = this.scratchIdx;
      const lanes = new Uint32Array(this.scratchDeltas.buffer, 0, accepted * 2);
      const lo = NATIVE_LE ? 0 : 1;
      const own = this.slots !== null;
      for (let j = 0; j < accepted; j++) {
        const a = at[j]!;
        const addr = view.getUint32(a, false);
        idx[j] = own ? this.slot(addr) : addr;
        lanes[2 * j + 1 - lo] = view.getUint32(a + 4, false);
        lanes[2 * j + lo] = view.getUint32(a + 8, false);
      }
      if (accepted > 0) this.engine.scatter(this.group, this.ref, this.acc, idx.subarray(0, accepted), this.scratchDeltas.subarray(0, accepted));
    }
    return { applied: counts[RECEIPT.applied]!, duplicate: counts[RECEIPT.duplicate]!, stale: counts[RECEIPT.stale]!, ahead: counts[RECEIPT.ahead]! };
  }

  /** Throws for the first message receive() would refuse; then gives every origin of the batch a record. */
  private checkBatch(view: DataView, n: number): void {
    const records = this.records;
    const limit = this.addrLimit;
    let newOrigins: number[] | null = null;
    for (let k = 0, at = 0; k < n; k++, at += DELTA_MESSAGE_BYTES) {
      const seq = view.getUint32(at + 12, false);
      const origin = seq >>> COUNTER_BITS;
      if (origin === 0 || (seq & MAX_COUNTER) === 0) this.originOf(seq, `message ${k}: seq`);
      if (view.getUint32(at, false) >= limit) this.addrArg(view.getUint32(at, false), `message ${k}: addr`);
      if (!records.has(origin) && !(newOrigins ??= []).includes(origin)) newOrigins.push(origin);
    }
    if (newOrigins !== null) for (const origin of newOrigins) records.add(origin);
  }

  private callNative(b: Uint8Array, receipts: Uint8Array | undefined): number {
    const r = this.records;
    return this.native!.streamReceive(
      GROUP_CODE[this.group],
      this.acc,
      b,
      r.through,
      r.highest,
      r.next,
      r.head,
      r.offset,
      r.bits,
      r.window,
      receipts ?? null,
      this.counts,
    );
  }

  /**
   * Messages not received yet, per origin: the counters missing between the
   * first missing one and the highest one delivered or refused as ahead (at
   * most `limit` per origin). Empty when nothing is missing.
   */
  gaps(limit = 1000): Map<number, number[]> {
    integer(limit, 1, U32_MAX, 'limit');
    const out = new Map<number, number[]>();
    for (const origin of this.records.origins()) {
      if (this.records.highest[origin]! > this.records.through[origin]!) out.set(origin, this.records.missing(origin, limit));
    }
    return out;
  }

  /** Delivery record of an origin: everything through `through` arrived; `highest` is the highest counter delivered or refused as ahead. */
  deliveredFrom(origin: number): { through: number; highest: number } {
    integer(origin, MIN_ORIGIN, MAX_ORIGIN, 'origin');
    return { through: this.records.through[origin]!, highest: this.records.highest[origin]! };
  }

  /**
   * Declares every counter of `origin` up to `through` delivered without
   * applying it: for messages known to be lost for good (their deltas are
   * then missing from the state, by the caller's decision), or to join a
   * sender whose earlier messages are already in a loaded state. Later
   * copies of those counters answer 'duplicate' or 'stale'.
   */
  skip(origin: number, through: number): void {
    integer(origin, MIN_ORIGIN, MAX_ORIGIN, 'origin');
    integer(through, 0, Number.MAX_SAFE_INTEGER - 1, 'through');
    const r = this.records;
    if (through < r.through[origin]!)
      throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `through ${through} is below the delivered prefix ${r.through[origin]} of origin ${origin}`);
    if (!r.has(origin)) r.add(origin);
    r.skip(origin, through);
  }

  // ---- reading ----------------------------------------------------------------

  /** The state at addr (0 for an address never touched). */
  read(addr: number): bigint {
    this.addrArg(addr, 'addr');
    const s = this.slots === null ? addr : this.slots.get(addr);
    if (s === undefined) return 0n;
    return this.additive ? BigInt.asUintN(64, this.ref[s]! + this.acc[s]!) : this.ref[s]! ^ this.acc[s]!;
  }

  /** Returns and clears the messages produced since the last call (needs options.outbox). */
  pending(): DeltaMessage[] {
    if (this.outboxCapacity === 0) {
      throw new AtomikError('ERR_ATOMIK_NO_OUTBOX', 'this stream keeps no outbox: give options.outbox (its capacity), or send the message accum() returns');
    }
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  get epoch(): number {
    return this.epochNo;
  }

  /** How many messages this stream has numbered: the last message's counter. Save it to resume after a restart. */
  get counter(): number {
    return this.counterNo;
  }

  /** The same as counter (the reference name). */
  get seq(): number {
    return this.counterNo;
  }

  /** The addresses that have a context, in first-use order (a stream that feeds a table: use the table). */
  addresses(): number[] {
    if (this.slots === null)
      throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', 'this stream feeds a table: read its contexts there (table.nonZeroStates())');
    return [...this.slotAddr];
  }

  // ---- saving and restoring -----------------------------------------------------

  /**
   * The stream's whole state as bytes: the sender's origin, counter, epoch
   * and outbox, the delivery record of every origin, and (without a table)
   * the contexts. A table's contexts are not included: save the table at the
   * same point (saveTable). Checked by a CRC-32 on restore().
   */
  save(): Uint8Array {
    const r = this.records;
    const origins = r.origins();
    const contexts = this.slots === null ? 0 : this.slotAddr.length;
    const recordBytes = RECORD_HEADER_BYTES + this.window / 8;
    const size = STATE_HEADER_BYTES + origins.length * recordBytes + contexts * CONTEXT_BYTES + this.outbox.length * OUTBOX_ENTRY_BYTES + 4;
    const out = new Uint8Array(size);
    const v = new DataView(out.buffer);
    v.setUint32(0, STATE_MAGIC, true);
    v.setUint8(4, STATE_VERSION);
    v.setUint8(5, GROUP_CODE[this.group]);
    v.setUint8(6, this.origin ?? 0);
    v.setUint8(7, this.slots === null ? 0 : STATE_FLAG_CONTEXTS);
    v.setBigUint64(8, BigInt(this.counterNo), true);
    v.setBigUint64(16, BigInt(this.epochNo), true);
    v.setUint32(24, this.window, true);
    v.setUint32(28, origins.length, true);
    v.setUint32(32, contexts, true);
    v.setUint32(36, this.outbox.length, true);
    v.setUint32(40, this.outboxCapacity, true);
    let at = STATE_HEADER_BYTES;
    for (const origin of origins) {
      v.setUint8(at, origin);
      v.setBigUint64(at + 8, BigInt(r.through[origin]!), true);
      v.setBigUint64(at + 16, BigInt(r.highest[origin]!), true);
      // The window in counter order (through + 1 first), so that the ring starts at 0 again.
      for (let i = 0; i < this.window; i++) if (r.marked(origin, i)) out[at + RECORD_HEADER_BYTES + (i >>> 3)]! |= 1 << (i & 7);
      at += recordBytes;
    }
    for (let s = 0; s < contexts; s++, at += CONTEXT_BYTES) {
      v.setUint32(at, this.slotAddr[s]!, true);
      v.setBigUint64(at + 8, this.ref[s]!, true);
      v.setBigUint64(at + 16, this.acc[s]!, true);
    }
    for (const m of this.outbox) {
      out.set(m.encode(), at);
      v.setBigUint64(at + 16, BigInt(m.epoch), true);
      at += OUTBOX_ENTRY_BYTES;
    }
    v.setUint32(at, crc32(out.subarray(0, at)), true);
    return out;
  }

  /**
   * A stream from bytes written by save(). With a table (the stream was
   * saved feeding one), pass the table restored from the same point;
   * `engine` chooses the kernels of a stream that keeps its own contexts.
   */
  static restore(data: Uint8Array | ArrayBufferView | ArrayBuffer, options: Pick<DeltaStreamOptions, 'table' | 'engine'> = {}): DeltaStream {
    let b = bytes(data, 'data');
    if (types.isSharedArrayBuffer(b.buffer)) b = b.slice();
    const bad = (why: string) => new AtomikRangeError('ERR_ATOMIK_BAD_STREAM_STATE', `data is not a saved DeltaStream: ${why}`);
    object(options, 'options');
    knownKeys(options, ['table', 'engine'], 'options');
    if (b.length < STATE_HEADER_BYTES + 4) throw bad(`${b.length} bytes is too short`);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (v.getUint32(0, true) !== STATE_MAGIC) throw bad('wrong magic');
    if (v.getUint8(4) !== STATE_VERSION) throw bad(`unknown version ${v.getUint8(4)}`);
    if (v.getUint32(b.length - 4, true) !== crc32(b.subarray(0, b.length - 4))) throw bad('checksum mismatch');
    const group = GROUPS[v.getUint8(5)];
    const origin = v.getUint8(6);
    const flags = v.getUint8(7);
    const counter = Number(v.getBigUint64(8, true));
    const epoch = Number(v.getBigUint64(16, true));
    const window = v.getUint32(24, true);
    const records = v.getUint32(28, true);
    const contexts = v.getUint32(32, true);
    const queued = v.getUint32(36, true);
    const outbox = v.getUint32(40, true);
    if (group === undefined) throw bad(`unknown group code ${v.getUint8(5)}`);
    if (flags & ~STATE_FLAG_CONTEXTS) throw bad(`unknown flags ${flags}`);
    const ownContexts = (flags & STATE_FLAG_CONTEXTS) !== 0;
    if (ownContexts === (options.table !== undefined)) {
      throw new AtomikTypeError(
        'ERR_ATOMIK_INVALID_ARG_VALUE',
        ownContexts
          ? 'this stream was saved with its own contexts: restore it without options.table'
          : 'this stream was saved feeding a table: pass it as options.table',
      );
    }
    if (options.table !== undefined && options.table instanceof AtomikTable && options.table.group !== group) {
      throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `options.table's group '${options.table.group}' differs from the saved stream's '${group}'`);
    }
    if (!(counter < Number.MAX_SAFE_INTEGER) || !Number.isSafeInteger(epoch)) throw bad('counter or epoch out of range');
    if (outbox > MAX_OUTBOX) throw bad(`outbox capacity ${outbox} above ${MAX_OUTBOX}`);
    if (window < MIN_WINDOW || window > MAX_WINDOW || (window & (window - 1)) !== 0)
      throw bad(`window ${window} is not a power of two in [${MIN_WINDOW}, ${MAX_WINDOW}]`);
    const recordBytes = RECORD_HEADER_BYTES + window / 8;
    const expected = STATE_HEADER_BYTES + records * recordBytes + contexts * CONTEXT_BYTES + queued * OUTBOX_ENTRY_BYTES + 4;
    if (b.length !== expected) throw bad(`length ${b.length} does not match its counts (${expected})`);
    if (queued > outbox) throw bad(`${queued} queued messages exceed the outbox capacity ${outbox}`);
    const stream = new DeltaStream({
      group,
      origin: origin === 0 ? undefined : origin,
      counter,
      window,
      outbox,
      ...(options.table === undefined ? { engine: options.engine } : { table: options.table }),
    });
    stream.epochNo = epoch;
    let at = STATE_HEADER_BYTES;
    for (let i = 0; i < records; i++, at += recordBytes) {
      const o = v.getUint8(at);
      const r = stream.records;
      if (o < MIN_ORIGIN || r.has(o)) throw bad(`record ${i} has origin ${o} (0 or repeated)`);
      const through = Number(v.getBigUint64(at + 8, true));
      const highest = Number(v.getBigUint64(at + 16, true));
      if (!Number.isSafeInteger(highest) || through > highest) throw bad(`record ${i}: through ${through} above highest ${highest}`);
      if (b[at + RECORD_HEADER_BYTES]! & 1) throw bad(`record ${i}: counter through + 1 is marked delivered`);
      r.add(o);
      r.through[o] = through;
      r.highest[o] = highest;
      r.next[o] = wireCounter(through + 1);
      for (let k = 0; k < window; k++) if (b[at + RECORD_HEADER_BYTES + (k >>> 3)]! & (1 << (k & 7))) r.mark(o, k);
    }
    for (let s = 0; s < contexts; s++, at += CONTEXT_BYTES) {
      const addr = v.getUint32(at, true);
      if (stream.slots!.has(addr)) throw bad(`address ${addr} appears twice`);
      const slot = stream.newSlot(addr);
      stream.ref[slot] = v.getBigUint64(at + 8, true);
      stream.acc[slot] = v.getBigUint64(at + 16, true);
    }
    for (let q = 0; q < queued; q++, at += OUTBOX_ENTRY_BYTES) {
      const m = DeltaMessage.decode(b.subarray(at, at + DELTA_MESSAGE_BYTES));
      if (m.addr >= stream.addrLimit) throw bad(`queued message ${q} has addr ${m.addr} outside the table`);
      const epochOf = Number(v.getBigUint64(at + 16, true));
      if (!Number.isSafeInteger(epochOf)) throw bad(`queued message ${q} has epoch ${epochOf} out of range`);
      stream.outbox.push(new DeltaMessage(m.addr, m.delta, epochOf, m.seq));
    }
    return stream;
  }
}
