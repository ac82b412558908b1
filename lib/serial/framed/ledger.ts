// The call ledger: for each submitted call, what of it is still queued,
// which shares of it ride in which frames, what came back, and what was
// refused. A call answers for itself what is unconfirmed (nothing is kept
// in step elsewhere) and never calls back into the client that owns it.
import type { DeviceError, Unconfirmed } from '../../core/errors.js';
import type { Op, OpResult } from '../../core/operations.js';
import type { PendingCall } from '../pending.js';

/** Position in a call's operations: op `op`, and for a run the next delta. */
export interface Cursor {
  op: number;
  delta: number;
}

/** A stretch of a call's units waiting to be sent: the whole call at first, or a frame's share sent again in smaller frames. */
export interface Segment {
  call: Call;
  next: Cursor;
  end: Cursor;
}

/** The share of one call a frame carries, and where each wire op's result goes. */
export interface Part {
  call: Call;
  from: Cursor;
  to: Cursor;
  /** Per wire op of this part: the call's op index for its result, -1 for a run piece (no result). */
  slots: number[];
  units: number;
}

/**
 * Accumulates commute, so frames of only those may be in flight together and
 * be applied in any order (a resent frame lands after later ones). Any other
 * op (load, read, swap, status) must see exactly the ops before it: its
 * frame is a barrier.
 */
export const commutes = (o: Op) => o.op === 'accum' || o.op === 'accumRun';
export const unitsOf = (o: Op) => (o.op === 'accumRun' ? o.deltas.length : 1);
export const before = (a: Cursor, b: Cursor) => a.op < b.op || (a.op === b.op && a.delta < b.delta);

/** Moves a cursor past runs without deltas (they need no frame). */
export function skipEmpty(ops: readonly Op[], at: Cursor): Cursor {
  let op = at.op;
  if (at.delta > 0) return at;
  while (op < ops.length && unitsOf(ops[op]!) === 0) op++;
  return { op, delta: 0 };
}

/** An unconfirmed entry and where it sits in its call (op position, then delta), to list them in call order. */
interface Entry {
  at: number;
  entry: Unconfirmed;
}

/** The call's ops (or run pieces) between two cursors, as unconfirmed entries. */
function rangeOf(ops: readonly Op[], from: Cursor, to: Cursor, state: Unconfirmed['state'], seq?: number): Entry[] {
  const list: Entry[] = [];
  for (let k = from.op; k < ops.length && (k < to.op || (k === to.op && to.delta > 0)); k++) {
    const o = ops[k]!;
    const entry: Unconfirmed = { op: o.op, index: o.index, state };
    if (seq !== undefined) entry.seq = seq;
    const start = k === from.op ? from.delta : 0;
    if (o.op === 'accumRun') {
      const end = k === to.op ? to.delta : o.deltas.length;
      if (end <= start) continue;
      entry.deltas = { start, count: end - start };
    }
    list.push({ at: k * 2 ** 32 + start, entry });
  }
  return list;
}

/** One submitted call: a class, not an object of closures, since a busy link holds hundreds of thousands. */
export class Call implements PendingCall {
  readonly results: OpResult[];
  /** Units (an op, or a delta of a run) confirmed so far. */
  confirmed = 0;
  /** Its units still to be sent, in the queue. */
  segments: Segment[] = [];
  /** Its parts in frames in flight, each with the SEQ of its frame. */
  readonly inFlight = new Map<Part, number>();
  /** Set once a frame of it was refused: the call fails once its other frames have settled. */
  refused: { error: DeviceError; list: Entry[] } | null = null;
  /** When progress was last reported. */
  reportedAt = 0;

  constructor(
    readonly ops: readonly Op[],
    /** Units in all. */
    readonly total: number,
    private readonly resolveWith: (results: OpResult[]) => void,
    private readonly rejectWith: (error: DeviceError) => void,
  ) {
    this.results = ops.map(() => null);
    this.segments.push({ call: this, next: skipEmpty(ops, { op: 0, delta: 0 }), end: { op: ops.length, delta: 0 } });
  }

  /** The device answered the frame carrying `part` with `results` (one per wire op of the part). */
  answered(part: Part, results: readonly OpResult[]): void {
    part.slots.forEach((slot, k) => {
      if (slot >= 0) this.results[slot] = results[k]!;
    });
    this.inFlight.delete(part);
    this.confirmed += part.units;
  }

  /** The device did not apply `part` (a query showed it): its units go back to the head of the queue, or count as refused. */
  returned(part: Part): Segment | null {
    this.inFlight.delete(part);
    if (this.refused) {
      this.refused.list.push(...rangeOf(this.ops, part.from, part.to, 'queued'));
      return null;
    }
    const seg: Segment = { call: this, next: part.from, end: part.to };
    this.segments.unshift(seg);
    return seg;
  }

  /** The device refused the frame with `part`: nothing more of the call is sent; its queued segments are returned for removal. */
  refuse(part: Part, seq: number, error: DeviceError): Segment[] {
    this.inFlight.delete(part);
    let dropped: Segment[] = [];
    if (!this.refused) {
      this.refused = { error, list: [] };
      for (const seg of this.segments) this.refused.list.push(...rangeOf(this.ops, seg.next, seg.end, 'queued'));
      dropped = this.segments;
      this.segments = [];
    }
    this.refused.list.push(...rangeOf(this.ops, part.from, part.to, 'refused', seq));
    return dropped;
  }

  /** Settled: every part answered, and either all confirmed or a part refused. */
  get settled(): boolean {
    return this.inFlight.size === 0 && (this.refused !== null || this.confirmed === this.total);
  }

  /** The call's operations not confirmed yet: refused, in flight, then never sent, in call order. */
  unconfirmed(): Unconfirmed[] {
    const list = [...(this.refused?.list ?? [])];
    for (const [part, seq] of this.inFlight) list.push(...rangeOf(this.ops, part.from, part.to, 'sent', seq));
    for (const seg of this.segments) list.push(...rangeOf(this.ops, seg.next, seg.end, 'queued'));
    return list.sort((a, b) => a.at - b.at).map((e) => e.entry);
  }

  fulfil(): void {
    this.resolveWith(this.results);
  }

  reject(error: DeviceError): void {
    this.rejectWith(error);
  }
}
