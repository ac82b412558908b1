// Delivery records for exactly-once receiving of DeltaMessages: per origin,
// the counter through which every message arrived, plus a ring bitmap over
// the next `window` counters. Kept as a struct of arrays so that the native
// kernel (native/stream.c) works on the same memory as this code.

/** A message's u32 seq: the origin in the top 8 bits, the wire counter in the low 24. */
export const COUNTER_BITS = 24;
/** Senders' origins are 1..255 (0 is the numbering of a stream without an origin). */
export const ORIGINS = 2 ** (32 - COUNTER_BITS);
/** The wire counter cycles through 1..WIRE_MAX (0 marks "no counter"). */
export const WIRE_MAX = 2 ** COUNTER_BITS - 1;
/** Wire counters less than this far ahead of a record count as ahead, the rest as behind. */
const AHEAD_SPAN = 2 ** (COUNTER_BITS - 1);

/** Receipt codes (see Receipt in delta-stream.ts); native/stream.h uses the same numbers. */
export const RECEIPT = { applied: 0, duplicate: 1, stale: 2, ahead: 3, restarted: 4, session: 5 } as const;

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
 * - `restarted` (session messages only): the origin's sender started again
 *   without its saved state, in a later session; its record starts afresh
 *   (counters from 1), and what it had not delivered of the earlier session
 *   is not coming (see DeltaStream.sessionMessage()).
 * - `session` (session messages only): the first session heard of from the
 *   origin, recorded; nothing applied. A copy of a session message is a
 *   `duplicate`, an earlier session's a `stale`.
 */
export type Receipt = 'applied' | 'duplicate' | 'stale' | 'ahead' | 'restarted' | 'session';
export const RECEIPT_NAMES: readonly Receipt[] = ['applied', 'duplicate', 'stale', 'ahead', 'restarted', 'session'];

/** Counts of what receiveMany() did, one per receipt. */
export interface ReceiveSummary {
  applied: number;
  duplicate: number;
  stale: number;
  ahead: number;
  /** Session messages that announced a sender started again without its saved state (see sessionMessage()). */
  restarted: number;
  /** Session messages that announced the first session heard of from their origin. */
  session: number;
}

/** The wire counter of message number `counter` (>= 1). */
export function wireCounter(counter: number): number {
  return ((counter - 1) % WIRE_MAX) + 1;
}

export class DeliveryRecords {
  readonly window: number;
  readonly mask: number;
  /** Bitmap words per origin. */
  readonly words: number;
  /** Counters delivered without a gap (exact below 2^53). */
  readonly through = new Float64Array(ORIGINS);
  /** Highest counter delivered or refused as ahead. */
  readonly highest = new Float64Array(ORIGINS);
  /** Wire counter of through + 1. */
  readonly next = new Uint32Array(ORIGINS);
  /** Ring slot of through + 1. */
  readonly head = new Uint32Array(ORIGINS);
  /** Session of each origin's sender (see DeltaStream's session messages); 0: none announced. */
  readonly session = new BigUint64Array(ORIGINS);
  /** First word of each origin's ring in `bits`; -1: no record yet. */
  readonly offset = new Int32Array(ORIGINS).fill(-1);
  bits = new Uint32Array(0);
  private readonly touched = new Uint8Array(ORIGINS);
  private readonly touchedList = new Uint8Array(ORIGINS);

  constructor(window: number) {
    this.window = window;
    this.mask = window - 1;
    this.words = window >>> 5;
  }

  has(origin: number): boolean {
    return this.offset[origin]! >= 0;
  }

  add(origin: number): void {
    const bits = new Uint32Array(this.bits.length + this.words);
    bits.set(this.bits);
    this.offset[origin] = this.bits.length;
    this.bits = bits;
    this.next[origin] = 1;
  }

  /** The origins that have a record, ascending. */
  origins(): number[] {
    const out: number[] = [];
    for (let o = 1; o < ORIGINS; o++) if (this.offset[o]! >= 0) out.push(o);
    return out;
  }

  /** Whether counter through + 1 + ahead (ahead < window) is marked delivered. */
  marked(origin: number, ahead: number): boolean {
    const slot = (this.head[origin]! + ahead) & this.mask;
    return (this.bits[this.offset[origin]! + (slot >>> 5)]! & (1 << (slot & 31))) !== 0;
  }

  mark(origin: number, ahead: number): void {
    const slot = (this.head[origin]! + ahead) & this.mask;
    const w = this.offset[origin]! + (slot >>> 5);
    this.bits[w] = this.bits[w]! | (1 << (slot & 31));
  }

  /** Moves the record past the delivered counters at the start of its ring, a word at a time, clearing them. */
  advance(origin: number): void {
    const bits = this.bits;
    const base = this.offset[origin]!;
    const mask = this.mask;
    let head = this.head[origin]!;
    let moved = 0;
    for (;;) {
      const w = base + (head >>> 5);
      const shift = head & 31;
      const zeros = ~(bits[w]! >>> shift); // its lowest set bit: the first counter not delivered yet
      const ones = zeros === 0 ? 32 : 31 - Math.clz32(zeros & -zeros);
      if (ones === 0) break;
      bits[w] = ones === 32 ? 0 : bits[w]! & ~(((1 << ones) - 1) << shift);
      head = (head + ones) & mask;
      moved += ones;
      if (shift + ones < 32) break;
    }
    if (moved === 0) return;
    this.head[origin] = head;
    this.through[origin] = this.through[origin]! + moved;
    this.next[origin] = ((this.next[origin]! - 1 + moved) % WIRE_MAX) + 1;
  }

  /**
   * The classifier, in one place (native/stream.c is its C twin, tested
   * against it): wire counter `wire` of `origin` (which has a record) against
   * the record, marked when it is new; the record is not moved on (see
   * advance()). Returns a RECEIPT code.
   */
  private classifyOne(origin: number, wire: number): number {
    let off = wire - this.next[origin]!;
    if (off < 0) off += WIRE_MAX;
    if (off >= AHEAD_SPAN) {
      const behind = WIRE_MAX - off;
      return behind <= this.window && behind <= this.through[origin]! ? RECEIPT.duplicate : RECEIPT.stale;
    }
    const counter = this.through[origin]! + 1 + off;
    if (counter > this.highest[origin]!) this.highest[origin] = counter;
    if (off >= this.window) return RECEIPT.ahead;
    const slot = (this.head[origin]! + off) & this.mask;
    const w = this.offset[origin]! + (slot >>> 5);
    const bit = 1 << (slot & 31);
    const word = this.bits[w]!;
    this.bits[w] = word | bit;
    return (word & bit) === 0 ? RECEIPT.applied : RECEIPT.duplicate;
  }

  /** Classifies one message (receive()) and moves its record on. */
  admit(origin: number, wire: number): number {
    const code = this.classifyOne(origin, wire);
    this.advance(origin);
    return code;
  }

  /**
   * Classifies n messages (16 bytes each in `view`, every origin with a
   * record) against the records as they stood before the batch plus the
   * counters marked earlier in it; writes the byte offset of each new
   * message to `accepted`, a receipt per message to `receipts` when given,
   * and adds to counts[receipt]. Moves the touched records on at the end.
   * Returns how many were accepted.
   */
  classify(view: DataView, n: number, accepted: Int32Array, receipts: Uint8Array | undefined, counts: Float64Array): number {
    const { touched, touchedList } = this;
    let touchedCount = 0;
    let m = 0;
    for (let k = 0, at = 0; k < n; k++, at += 16) {
      const seq = view.getUint32(at + 12, false);
      const origin = seq >>> COUNTER_BITS;
      if (touched[origin] === 0) {
        touched[origin] = 1;
        touchedList[touchedCount++] = origin;
      }
      const code = this.classifyOne(origin, seq & WIRE_MAX);
      if (receipts !== undefined) receipts[k] = code;
      counts[code]!++;
      accepted[m] = at;
      if (code === RECEIPT.applied) m++;
    }
    for (let t = 0; t < touchedCount; t++) {
      touched[touchedList[t]!] = 0;
      this.advance(touchedList[t]!);
    }
    return m;
  }

  /**
   * Takes a session message of `origin` (session > 0): sessions are ordered
   * by their start time, so a later one is a sender that started again
   * without its saved state (its counters begin at 1 again): the record
   * starts afresh and the answer is 'restarted'. The same session is a
   * copy ('duplicate'), an earlier one a late copy ('stale'). The first
   * session heard of from an origin is recorded ('session'; its record stays).
   */
  start(origin: number, session: bigint): number {
    if (!this.has(origin)) this.add(origin);
    const known = this.session[origin]!;
    if (session === known) return RECEIPT.duplicate;
    if (session < known) return RECEIPT.stale;
    this.session[origin] = session;
    // The first session heard of (maybe after some of its deltas overtook it): nothing to start afresh.
    if (known === 0n) return RECEIPT.session;
    const at = this.offset[origin]!;
    this.bits.fill(0, at, at + this.words);
    this.through[origin] = 0;
    this.highest[origin] = 0;
    this.next[origin] = 1;
    this.head[origin] = 0;
    return RECEIPT.restarted;
  }

  /** Declares every counter of `origin` through `counter` delivered (counter >= its through). */
  skip(origin: number, counter: number): void {
    const steps = counter - this.through[origin]!;
    if (steps >= this.window) {
      const at = this.offset[origin]!;
      this.bits.fill(0, at, at + this.words);
      this.head[origin] = 0;
    } else {
      for (let i = 0; i < steps; i++) {
        const slot = this.head[origin]!;
        const w = this.offset[origin]! + (slot >>> 5);
        this.bits[w] = this.bits[w]! & ~(1 << (slot & 31));
        this.head[origin] = (slot + 1) & this.mask;
      }
    }
    this.through[origin] = counter;
    this.next[origin] = wireCounter(counter + 1);
    if (this.highest[origin]! < counter) this.highest[origin] = counter;
    this.advance(origin);
  }

  /** The counters missing between through and highest, at most `limit`. */
  missing(origin: number, limit: number): number[] {
    const out: number[] = [];
    const through = this.through[origin]!;
    for (let off = 0; through + 1 + off <= this.highest[origin]! && out.length < limit; off++) {
      if (off >= this.window || !this.marked(origin, off)) out.push(through + 1 + off);
    }
    return out;
  }
}
