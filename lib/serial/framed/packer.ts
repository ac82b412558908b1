// The packer: calls wait in one queue, in submission order, and are cut
// into frames that fit the device's limits, the frame budget the line
// allows and the bytes the window has room for. A run is cut where a frame
// is full and continues in the next one.
import type { Op } from '../../core/operations.js';
import { FRAME_OVERHEAD, opBytes, resultBytes } from '../frame.js';
import { before, commutes, skipEmpty, type Call, type Part, type Segment } from './ledger.js';
import { Queue } from './queue.js';

/** ACCUM_RUN's opcode, index and count before its deltas. */
const RUN_HEADER_BYTES = 5;

/** The contents of one BATCH frame. */
export interface Packed {
  ops: Op[];
  parts: Part[];
  /** RESULT payload bytes the ops produce. */
  resultBytes: number;
  /** An op that does not commute: nothing may be in flight beside it. */
  barrier: boolean;
}

export class Packer {
  private readonly queue = new Queue<Segment>();
  /** The device's limits (HELLO_REPLY). */
  maxOps = 256;
  maxPayload = 2304;

  get empty(): boolean {
    return this.queue.length === 0;
  }

  add(call: Call): void {
    for (const seg of call.segments) this.queue.push(seg);
  }

  /** Takes a settled or refused call's segments out of the queue. */
  remove(segments: readonly Segment[]): void {
    for (const seg of segments) this.queue.remove(seg);
  }

  /** Puts shares the device did not apply back at the head of the queue, in their order. */
  putBack(segments: readonly Segment[]): void {
    for (let i = segments.length - 1; i >= 0; i--) this.queue.unshift(segments[i]!);
  }

  /** Empties the queue (the link failed). */
  clear(): void {
    this.queue.drain();
  }

  /**
   * Fills one frame from the head of the queue, within the device's limits,
   * `budget` payload bytes (request plus reply) and `room` frame bytes.
   * Beside frames in flight (`commutingOnly`) it takes accumulates only.
   * Null when nothing fits.
   */
  pack(commutingOnly: boolean, room: number, budget: number): Packed | null {
    const limit = Math.min(this.maxPayload, room - FRAME_OVERHEAD);
    const ops: Op[] = [];
    const parts: Part[] = [];
    let size = 0;
    let reply = 0;
    let full = false;
    while (!full && this.queue.length > 0) {
      const seg = this.queue.peek()!;
      const call = seg.call;
      const part: Part = { call, from: { ...seg.next }, to: seg.next, slots: [], units: 0 };
      while (before(seg.next, seg.end)) {
        const o = call.ops[seg.next.op]!;
        if (ops.length >= this.maxOps || (commutingOnly && !commutes(o))) {
          full = true;
          break;
        }
        if (o.op === 'accumRun') {
          const stop = seg.end.op === seg.next.op ? seg.end.delta : o.deltas.length;
          const space = Math.min(limit - size, budget - size - reply) - RUN_HEADER_BYTES;
          let take = Math.min(stop - seg.next.delta, 0xffff, Math.floor(space / 8));
          if (take <= 0) {
            if (ops.length > 0 || limit - size < RUN_HEADER_BYTES + 8) {
              full = true;
              break;
            }
            take = 1; // at least one delta a frame, whatever the budget
          }
          const piece: Op = { op: 'accumRun', index: o.index, deltas: o.deltas.subarray(seg.next.delta, seg.next.delta + take) };
          ops.push(piece);
          part.slots.push(-1);
          part.units += take;
          size += opBytes(piece);
          const delta = seg.next.delta + take;
          seg.next = skipEmpty(call.ops, delta < o.deltas.length ? { op: seg.next.op, delta } : { op: seg.next.op + 1, delta: 0 });
        } else {
          const need = opBytes(o);
          const back = resultBytes(o);
          const fits = size + need <= limit && reply + back <= this.maxPayload;
          if (!fits || (ops.length > 0 && size + need + reply + back > budget)) {
            full = true;
            break;
          }
          ops.push(o);
          part.slots.push(seg.next.op);
          part.units += 1;
          size += need;
          reply += back;
          seg.next = skipEmpty(call.ops, { op: seg.next.op + 1, delta: 0 });
        }
      }
      part.to = { ...seg.next };
      if (part.slots.length > 0) parts.push(part);
      if (before(seg.next, seg.end)) break; // the frame is full
      this.queue.shift();
      call.segments.splice(call.segments.indexOf(seg), 1);
    }
    if (ops.length === 0) return null;
    return { ops, parts, resultBytes: reply, barrier: !ops.every(commutes) };
  }
}
