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

/** Receipt codes (see Receipt in message.ts); native/stream.h uses the same numbers. */
export const RECEIPT = { applied: 0, duplicate: 1, stale: 2, ahead: 3 } as const;

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
   * Classifies wire counter `wire` of `origin` (which has a record) and
   * records it when it is new, moving the record on; returns a RECEIPT code.
   */
  admit(origin: number, wire: number): number {
    let off = wire - this.next[origin]!;
    if (off < 0) off += WIRE_MAX;
    if (off >= AHEAD_SPAN) {
      const behind = WIRE_MAX - off;
      return behind <= this.window && behind <= this.through[origin]! ? RECEIPT.duplicate : RECEIPT.stale;
    }
    const counter = this.through[origin]! + 1 + off;
    if (counter > this.highest[origin]!) this.highest[origin] = counter;
    if (off >= this.window) return RECEIPT.ahead;
    if (this.marked(origin, off)) return RECEIPT.duplicate;
    this.mark(origin, off);
    if (off === 0) this.advance(origin);
    return RECEIPT.applied;
  }

  /**
   * Classifies n messages (16 bytes each in `view`, every origin with a
   * record) against the records as they stood before the batch plus the
   * counters marked earlier in it; writes the byte offset of each new
   * message to `accepted`, a receipt per message to `receipts` when given,
   * and adds to counts[receipt]. Moves the touched records on at the end.
   * Returns how many were accepted. native/stream.c does the same.
   */
  classify(view: DataView, n: number, accepted: Int32Array, receipts: Uint8Array | undefined, counts: Float64Array): number {
    const { through, highest, next, head, offset, bits, touched, touchedList, window, mask } = this;
    let touchedCount = 0;
    let m = 0;
    for (let k = 0, at = 0; k < n; k++, at += 16) {
      const seq = view.getUint32(at + 12, false);
      const origin = seq >>> COUNTER_BITS;
      if (touched[origin] === 0) {
        touched[origin] = 1;
        touchedList[touchedCount++] = origin;
      }
      let off = (seq & WIRE_MAX) - next[origin]!;
      if (off < 0) off += WIRE_MAX;
      let code: number;
      if (off < window) {
        const slot = (head[origin]! + off) & mask;
        const w = offset[origin]! + (slot >>> 5);
        const bit = 1 << (slot & 31);
        const word = bits[w]!;
        bits[w] = word | bit;
        code = (word & bit) === 0 ? RECEIPT.applied : RECEIPT.duplicate;
        const counter = through[origin]! + 1 + off;
        if (counter > highest[origin]!) highest[origin] = counter;
      } else if (off < AHEAD_SPAN) {
        code = RECEIPT.ahead;
        const counter = through[origin]! + 1 + off;
        if (counter > highest[origin]!) highest[origin] = counter;
      } else {
        const behind = WIRE_MAX - off;
        code = behind <= window && behind <= through[origin]! ? RECEIPT.duplicate : RECEIPT.stale;
      }
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
