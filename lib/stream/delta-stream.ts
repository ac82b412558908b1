// DeltaStream: a sender and exactly-once receiver of DeltaMessages over a
// context store or an AtomikTable, with its delivery record saved and restored.
import { types } from 'node:util';
import { GROUP_CODE, arithmetic, groupOption, type Group, type GroupArithmetic } from '../core/group.js';
import { resolveEngine } from '../engine/select.js';
import type { Engine } from '../engine/types.js';
import { NATIVE_LE } from '../engine/ops.js';
import { AtomikTable, tableCore } from '../table/table.js';
import { AtomikError, AtomikRangeError, AtomikTypeError } from '../core/errors.js';
import { apart, bytes, integer, knownKeys, object, u64, u8Array } from '../core/validate.js';
import { COUNTER_BITS, DeliveryRecords, RECEIPT, RECEIPT_NAMES, wireCounter, type Receipt, type ReceiveSummary } from './delivery.js';
import { NATIVE_THRESHOLD } from '../engine/native.js';
import { streamBinding, type StreamBinding } from './native-receive.js';
import { DELTA_MESSAGE_BYTES, DeltaMessage, MAX_COUNTER, isSessionMessage, MAX_ORIGIN, MIN_ORIGIN, SESSION_ADDR, U32_MAX, trustedMessage } from './message.js';
import { decodeStreamState, encodeStreamState } from './stream-state.js';
import { DEFAULT_WINDOW, MAX_OUTBOX, MAX_WINDOW, MIN_WINDOW, STREAM_KEYS, newSession, type DeltaStreamOptions } from './stream-options.js';

export { RECEIPT, type Receipt, type ReceiveSummary };

export { DEFAULT_WINDOW, MIN_WINDOW, MAX_WINDOW, type DeltaStreamOptions };

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
  private readonly arith: GroupArithmetic;
  private readonly addrLimit: number;
  // Contexts: the table's words, or the stream's own, one slot per address in first-use order.
  private ref: BigUint64Array;
  private acc: BigUint64Array;
  private readonly slots: Map<number, number> | null;
  private readonly slotAddr: number[] = [];
  private outbox: DeltaMessage[] = [];
  /** The session message is still to go out first through pending(). */
  private announce: boolean;
  private epochNo = 0;
  private sessionNo: bigint;
  private counterNo: number;
  private nextWire: number;
  private readonly records: DeliveryRecords;
  /** native/stream.c, when the stream feeds a table on the native engine. */
  private readonly native: StreamBinding | null;
  // Scratch for receiveMany(), grown as needed.
  private scratchAt = new Int32Array(0);
  private scratchIdx = new Uint32Array(0);
  private scratchDeltas = new BigUint64Array(0);
  private readonly counts = new Float64Array(6);
  private readonly kernelCounts = this.counts.subarray(0, 4); // native/stream.c counts the data receipts

  constructor(options: DeltaStreamOptions = {}) {
    object(options, 'options');
    knownKeys(options, STREAM_KEYS, 'options');
    // Every option read once; a table's facts come from its private core, never from properties a caller can redefine.
    const { table, group, engine, origin, counter, session, window: windowOption, outbox } = options;
    if (table !== undefined) {
      const core = tableCore(table, 'options.table');
      if (group !== undefined && groupOption(group) !== core.group) {
        throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `options.group '${group}' differs from options.table's group '${core.group}'`);
      }
      if (engine !== undefined)
        throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', 'options.engine cannot be given with options.table: the table brings its engine');
      this.group = core.group;
      this.engine = core.engine;
      this.ref = core.ref;
      this.acc = core.acc;
      this.slots = null;
      this.addrLimit = core.size;
    } else {
      this.group = groupOption(group);
      this.engine = resolveEngine(engine);
      this.ref = new BigUint64Array(16);
      this.acc = new BigUint64Array(16);
      this.slots = new Map();
      this.addrLimit = U32_MAX + 1;
    }
    this.table = table;
    this.arith = arithmetic(this.group);
    this.origin = origin === undefined ? undefined : integer(origin, MIN_ORIGIN, MAX_ORIGIN, 'options.origin');
    this.counterNo = counter === undefined ? 0 : integer(counter, 0, Number.MAX_SAFE_INTEGER - 1, 'options.counter');
    if (session !== undefined) {
      if (u64(session, 'options.session') === 0n) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', 'options.session must be in [1, 2^64), got 0n');
      if (this.origin === undefined) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', 'options.session needs options.origin');
    }
    this.sessionNo = session ?? (this.origin !== undefined && counter === undefined ? newSession() : 0n);
    this.nextWire = wireCounter(this.counterNo + 1);
    const window = windowOption === undefined ? DEFAULT_WINDOW : integer(windowOption, MIN_WINDOW, MAX_WINDOW, 'options.window');
    if ((window & (window - 1)) !== 0) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `options.window must be a power of two, got ${window}`);
    this.window = window;
    this.records = new DeliveryRecords(window);
    this.native = table !== undefined && this.engine.name === 'native' ? streamBinding() : null;
    this.outboxCapacity = outbox === undefined ? 0 : integer(outbox, 0, MAX_OUTBOX, 'options.outbox');
    // A new session is announced first: pending() hands the session message out before any delta.
    this.announce = this.outboxCapacity > 0 && this.sessionNo !== 0n && this.counterNo === 0;
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
    this.arith.accumulate(this.acc, s, delta);
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
    const m = DeltaMessage.checked(msg, 'msg');
    if (isSessionMessage(m)) throw new AtomikRangeError('ERR_ATOMIK_NO_COUNTER', 'msg is a session message, not a delta: give it to receive()');
    if (m.addr >= this.addrLimit) this.addrArg(m.addr, 'msg.addr');
    this.accumAt(this.slot(m.addr), m.delta);
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
    const m = DeltaMessage.checked(msg, 'msg');
    const seq = m.seq;
    if (isSessionMessage(m)) return RECEIPT_NAMES[this.records.start(seq >>> COUNTER_BITS, m.delta)]!;
    if (m.addr >= this.addrLimit) this.addrArg(m.addr, 'msg.addr');
    const origin = this.originOf(seq, 'msg.seq');
    if (!this.records.has(origin)) this.records.add(origin);
    const code = this.records.admit(origin, seq & MAX_COUNTER);
    if (code === RECEIPT.applied) this.accumAt(this.slot(m.addr), m.delta);
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
    let out: Uint8Array | undefined;
    if (receipts !== undefined) {
      out = u8Array(receipts, 'receipts'); // the intrinsic length, whatever the object says
      if (out.length !== n) throw new AtomikRangeError('ERR_ATOMIK_LENGTH_MISMATCH', `receipts must have length ${n} (one per message), got ${out.length}`);
      // Receipts written over the messages would change messages not read yet: read a copy.
      b = apart(b, out);
    }
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const counts = this.counts;
    counts.fill(0);
    // The native kernel checks the batch itself before changing anything; only
    // when it refuses does the check below run, to name the culprit, add the
    // missing records or find session messages.
    if (!(this.native !== null && n >= NATIVE_THRESHOLD && this.callNative(b, out) === 0)) {
      const sessions = this.checkBatch(view, n);
      let from = 0;
      for (const k of sessions) {
        this.receiveRun(b, from, k, out);
        const code = this.records.start(view.getUint32(16 * k + 12, false) >>> COUNTER_BITS, view.getBigUint64(16 * k + 4, false));
        if (out !== undefined) out[k] = code;
        counts[code]!++;
        from = k + 1;
      }
      this.receiveRun(b, from, n, out);
    }
    return {
      applied: counts[RECEIPT.applied]!,
      duplicate: counts[RECEIPT.duplicate]!,
      stale: counts[RECEIPT.stale]!,
      ahead: counts[RECEIPT.ahead]!,
      restarted: counts[RECEIPT.restarted]!,
      session: counts[RECEIPT.session]!,
    };
  }

  /** Messages from..to of a checked batch (no session messages, every origin with a record), applied with one engine call. */
  private receiveRun(all: Uint8Array, from: number, to: number, out: Uint8Array | undefined): void {
    const n = to - from;
    if (n === 0) return;
    const whole = from === 0 && to * DELTA_MESSAGE_BYTES === all.length;
    const b = whole ? all : all.subarray(from * DELTA_MESSAGE_BYTES, to * DELTA_MESSAGE_BYTES);
    const receipts = whole ? out : out?.subarray(from, to);
    if (this.native !== null && n >= NATIVE_THRESHOLD) {
      const status = this.callNative(b, receipts);
      if (status !== 0) throw new AtomikError('ERR_ATOMIK_INTERNAL', `native receive refused a checked batch (status ${status})`);
      return;
    }
    if (this.scratchAt.length < n) {
      this.scratchAt = new Int32Array(n);
      this.scratchIdx = new Uint32Array(n);
      this.scratchDeltas = new BigUint64Array(n);
    }
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const accepted = this.records.classify(view, n, this.scratchAt, receipts, this.counts);
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

  /**
   * Throws for the first message receive() would refuse; then gives every
   * origin of the batch a record. Returns the positions of the session
   * messages (see sessionMessage()), ascending.
   */
  private checkBatch(view: DataView, n: number): number[] {
    const records = this.records;
    const limit = this.addrLimit;
    const sessions: number[] = [];
    let newOrigins: number[] | null = null;
    for (let k = 0, at = 0; k < n; k++, at += DELTA_MESSAGE_BYTES) {
      const seq = view.getUint32(at + 12, false);
      const origin = seq >>> COUNTER_BITS;
      const addr = view.getUint32(at, false);
      if (origin !== 0 && (seq & MAX_COUNTER) === 0 && addr === SESSION_ADDR && view.getBigUint64(at + 4, false) !== 0n) {
        sessions.push(k);
        continue;
      }
      if (origin === 0 || (seq & MAX_COUNTER) === 0) this.originOf(seq, `message ${k}: seq`);
      if (addr >= limit) this.addrArg(addr, `message ${k}: addr`);
      if (!records.has(origin) && !(newOrigins ??= []).includes(origin)) newOrigins.push(origin);
    }
    if (newOrigins !== null) for (const origin of newOrigins) records.add(origin);
    return sessions;
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
      this.kernelCounts,
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
    return this.arith.combine(this.ref[s]!, this.acc[s]!);
  }

  /** Returns and clears the messages produced since the last call (needs options.outbox). */
  pending(): DeltaMessage[] {
    if (this.outboxCapacity === 0) {
      throw new AtomikError('ERR_ATOMIK_NO_OUTBOX', 'this stream keeps no outbox: give options.outbox (its capacity), or send the message accum() returns');
    }
    const out = this.announce ? [this.sessionMessage()!, ...this.outbox] : this.outbox;
    this.announce = false;
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

  /** This sender's session (0n: none); see options.session. */
  get session(): bigint {
    return this.sessionNo;
  }

  /**
   * The message that announces this sender's session, or null when it has
   * none. A stream that starts without its saved state (an origin and no
   * `counter`) numbers from 1 again in a new session: send this message
   * before its first delta (pending() hands it out first), and a receiver
   * that already holds a record for the origin answers 'restarted' and
   * starts the record afresh, instead of dropping the new counters as
   * duplicates. It is a 16-byte message like the others (see SESSION_ADDR).
   * Deltas of the new session that overtake it are judged against the old
   * record: on a channel that reorders, deliver it first.
   */
  sessionMessage(): DeltaMessage | null {
    if (this.sessionNo === 0n) return null;
    return trustedMessage(SESSION_ADDR, this.sessionNo, 0, this.origin! * 2 ** COUNTER_BITS);
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
   * The stream's whole state as bytes: the sender's origin, counter, epoch,
   * session and outbox, the delivery record of every origin, and (without a
   * table) the contexts. A table's contexts are not included: save the table
   * at the same point (saveTable). Checked by a CRC-32 on restore(); the
   * layout is in stream-state.ts.
   */
  save(): Uint8Array {
    const r = this.records;
    const bytesPerRecord = this.window / 8;
    return encodeStreamState({
      group: this.group,
      origin: this.origin ?? 0,
      ownContexts: this.slots !== null,
      counter: this.counterNo,
      epoch: this.epochNo,
      session: this.sessionNo,
      window: this.window,
      outboxCapacity: this.outboxCapacity,
      records: r.origins().map((origin) => {
        // The window in counter order (through + 1 first), so that the ring starts at 0 again.
        const marked = new Uint8Array(bytesPerRecord);
        for (let i = 0; i < this.window; i++) if (r.marked(origin, i)) marked[i >>> 3]! |= 1 << (i & 7);
        return { origin, through: r.through[origin]!, highest: r.highest[origin]!, session: r.session[origin]!, marked };
      }),
      contexts: this.slots === null ? [] : this.slotAddr.map((addr, s) => ({ addr, ref: this.ref[s]!, acc: this.acc[s]! })),
      queued: (this.announce ? [this.sessionMessage()!, ...this.outbox] : this.outbox).map((m) => ({ message: m.encode(), epoch: m.epoch })),
    });
  }

  /**
   * A stream from bytes written by save(). With a table (the stream was
   * saved feeding one), pass the table restored from the same point;
   * `engine` chooses the kernels of a stream that keeps its own contexts.
   * Damaged bytes are refused with ERR_ATOMIK_BAD_STREAM_STATE.
   */
  static restore(data: Uint8Array | ArrayBufferView | ArrayBuffer, options: Pick<DeltaStreamOptions, 'table' | 'engine'> = {}): DeltaStream {
    let b = bytes(data, 'data');
    if (types.isSharedArrayBuffer(b.buffer)) b = b.slice();
    object(options, 'options');
    knownKeys(options, ['table', 'engine'], 'options');
    const { table, engine } = options; // read once
    const saved = decodeStreamState(b, { minWindow: MIN_WINDOW, maxWindow: MAX_WINDOW, maxOutbox: MAX_OUTBOX });
    const bad = (why: string) => new AtomikRangeError('ERR_ATOMIK_BAD_STREAM_STATE', `data is not a saved DeltaStream: ${why}`);
    if (saved.ownContexts === (table !== undefined)) {
      throw new AtomikTypeError(
        'ERR_ATOMIK_INVALID_ARG_VALUE',
        saved.ownContexts
          ? 'this stream was saved with its own contexts: restore it without options.table'
          : 'this stream was saved feeding a table: pass it as options.table',
      );
    }
    const tableGroup = table === undefined ? undefined : tableCore(table, 'options.table').group;
    if (tableGroup !== undefined && tableGroup !== saved.group) {
      throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `options.table's group '${tableGroup}' differs from the saved stream's '${saved.group}'`);
    }
    if (saved.session !== 0n && saved.origin === 0) throw bad(`session ${saved.session} without an origin`);
    const stream = new DeltaStream({
      group: saved.group,
      origin: saved.origin === 0 ? undefined : saved.origin,
      counter: saved.counter,
      window: saved.window,
      outbox: saved.outboxCapacity,
      ...(saved.session === 0n ? {} : { session: saved.session }),
      ...(table === undefined ? { engine } : { table }),
    });
    stream.epochNo = saved.epoch;
    const r = stream.records;
    for (const rec of saved.records) {
      const o = rec.origin;
      r.add(o);
      r.through[o] = rec.through;
      r.highest[o] = rec.highest;
      r.next[o] = wireCounter(rec.through + 1);
      r.session[o] = rec.session;
      for (let k = 0; k < saved.window; k++) if (rec.marked[k >>> 3]! & (1 << (k & 7))) r.mark(o, k);
    }
    for (const c of saved.contexts) {
      const slot = stream.newSlot(c.addr);
      stream.ref[slot] = c.ref;
      stream.acc[slot] = c.acc;
    }
    stream.announce = false;
    for (const [q, { message, epoch }] of saved.queued.entries()) {
      const m = DeltaMessage.decode(message);
      if (q === 0 && isSessionMessage(m) && m.delta === saved.session && m.seq === saved.origin * 2 ** COUNTER_BITS) {
        stream.announce = true;
        continue;
      }
      if (m.addr >= stream.addrLimit) throw bad(`queued message ${q} has addr ${m.addr} outside the table`);
      stream.outbox.push(trustedMessage(m.addr, m.delta, epoch, m.seq));
    }
    if (stream.outbox.length > saved.outboxCapacity) throw bad(`${stream.outbox.length} queued messages exceed the outbox capacity ${saved.outboxCapacity}`);
    return stream;
  }
}
