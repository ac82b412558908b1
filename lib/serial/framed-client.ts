// Host side of the framed protocol. It packs queued operations into frames
// sized for the line's measured error rate, keeps a window of frames in
// flight (accumulates only: other operations wait for what came before
// them), and recovers as fast as the line allows: a frame is sent again as
// soon as the device shows it is missing (a later frame answered, ERROR
// BAD_CRC, a damaged reply), else after a timeout measured from the link.
// The device's replay cache makes every resend exactly-once. With
// `reconnect`, a port that goes away is reopened and the board is asked
// whether it kept our session; a board that rebooted is reported as such.
import { DeviceError, type Unconfirmed } from '../core/errors.js';
import type { Op, OpResult } from '../core/operations.js';
import type { ProgressListener } from '../core/progress.js';
import { FRAME, FRAME_OVERHEAD, FrameDecoder, decodeError, decodeReplyResults, encodeFrame, encodeOps, opBytes, resultBytes, type Frame } from './frame.js';
import { LinkEstimator } from './link.js';
import { PendingCalls, type PendingCall } from './pending.js';
import type { Transport } from './transport.js';
import type { Retrying } from './framed/exchange.js';
import { askHello, startSession } from './framed/session.js';
import type { HelloInfo } from '../backend/device.js';
import type { LinkStats } from '../backend/device.js';

export interface ReconnectOptions {
  /** Reopen attempts before giving up (default 20). */
  attempts?: number;
  /** First wait before reopening, doubled after each failed attempt (default 100 ms). */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 2000 ms). */
  maxDelayMs?: number;
}

export interface FramedClientOptions {
  /**
   * The ceiling a backed-off reply timeout grows to while the device says
   * nothing (default 1000 ms: about 3 s of silence fail the link), and the
   * timeout before the link has been measured (at most 300 ms).
   */
  timeoutMs?: number;
  /** Resends of one frame before the link is declared failed (default 8; four times as many while the device keeps answering other frames). */
  retries?: number;
  /**
   * Frames from the oldest unconfirmed one to the newest sent (default and
   * ceiling: half the device's replay cache depth). Between a frame's first
   * processing and the last copy of it the host may send, the device can
   * process at most the frames of two such spans: with half the depth, the
   * frame's cached reply is still there, so a copy is never applied twice.
   */
  window?: number;
  /** Bytes in flight (default 6144: two of the largest frames). */
  maxBytesInFlight?: number;
  /** Reports the progress of calls that span several frames. */
  onProgress?: ProgressListener;
}

/** What the client needs to come back after the port went away. */
export interface Reconnector extends Required<ReconnectOptions> {
  reopen(): Promise<Transport>;
}

/** ACCUM_RUN's opcode, index and count before its deltas. */
const RUN_HEADER_BYTES = 5;
/** A device that sends this many bytes without one frame for us is not speaking the protocol. */
export const GARBAGE_LIMIT = 32_768;
const PROGRESS_EVERY_MS = 100;

/** Position in a call's operations: op `op`, and for a run the next delta. */
interface Cursor {
  op: number;
  delta: number;
}

/** One submitted call: a class, not an object of closures, since a busy link holds hundreds of thousands. */
class Call implements PendingCall {
  readonly kind = 'call';
  readonly results: OpResult[];
  /** Units (an op, or a delta of a run) confirmed so far. */
  confirmed = 0;
  /** Its units still to be sent, in the queue. */
  segments: Segment[] = [];
  /** Parts of it in flight. */
  partsInFlight = 0;
  /** Set once a frame of it was refused: the call fails once its other frames have settled. */
  refused: { error: DeviceError; list: Entry[] } | null = null;
  reportedAt = 0;

  constructor(
    private readonly owner: FramedClient,
    readonly ops: Op[],
    /** Units in all. */
    readonly total: number,
    private readonly resolveWith: (results: OpResult[]) => void,
    private readonly rejectWith: (error: DeviceError) => void,
  ) {
    this.results = ops.map(() => null);
  }

  unconfirmed(): Unconfirmed[] {
    return this.owner.unconfirmedOf(this);
  }

  fulfil(): void {
    this.owner.forget(this);
    this.resolveWith(this.results);
  }

  reject(error: DeviceError): void {
    this.owner.forget(this);
    this.rejectWith(error);
  }
}

interface Raw extends PendingCall {
  kind: 'raw';
  type: number;
  payload: Uint8Array;
  resolveFrame(frame: Frame): void;
}

/** A stretch of a call's units waiting to be sent: the whole call at first, or a frame's share sent again in smaller frames. */
interface Segment {
  kind: 'ops';
  call: Call;
  next: Cursor;
  end: Cursor;
}

type Item = Segment | Raw;

/** The share of one call a frame carries, and where each wire op's result goes. */
interface Part {
  item: Call | Raw;
  from: Cursor;
  to: Cursor;
  /** Per wire op of this part: the call's op index for its result, -1 for a run piece (no result). */
  slots: number[];
  units: number;
}

interface InFlight {
  seq: number;
  /** Frames in the order they were first sent (the window is a span of these). */
  number: number;
  bytes: Uint8Array;
  ops: Op[];
  parts: Part[];
  /** Request plus reply bytes. */
  roundBytes: number;
  /** RESULT payload bytes the ops produce. */
  resultBytes: number;
  /**
   * Set when the frame is too large for the line: its SEQ is sent again with
   * a single read-only op of another result size. The reply tells whether
   * the device had applied the original (its cached RESULT comes back) or
   * not (the query's own result); in the latter case the ops are sent again
   * in smaller frames. The query's result size is kept here.
   */
  query: number | null;
  barrier: boolean;
  attempts: number;
  /** Copies sent that the device has not answered yet, as far as the host can tell (a copy whose header was lost is never answered). */
  unanswered: number;
  /** Transmission numbers (increasing over the link) of the first and latest send. */
  firstTx: number;
  lastTx: number;
  /** When its bytes could at the earliest have crossed the line and back (ms, performance.now clock). */
  lineDoneAt: number;
  /** The same for its first copy; when its first and its latest copy were sent. */
  firstLineDoneAt: number;
  firstSentAt: number;
  sentAt: number;
  /** Its latest copy was sent because the reply timed out. */
  timedOut: boolean;
  /** Timeouts in a row with the device silent meanwhile: each doubles the next timeout. */
  backoff: number;
  /** When its timer should fire, and how often it was given more time because this process had been busy. */
  deadline: number;
  deferrals: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Accumulates commute, so frames of only those may be in flight together and
 * be applied in any order (a resent frame lands after later ones). Any other
 * op (load, read, swap, status) must see exactly the ops before it: its
 * frame is a barrier.
 */
const commutes = (o: Op) => o.op === 'accum' || o.op === 'accumRun';
const unitsOf = (o: Op) => (o.op === 'accumRun' ? o.deltas.length : 1);
const before = (a: Cursor, b: Cursor) => a.op < b.op || (a.op === b.op && a.delta < b.delta);

export class FramedClient {
  hello: HelloInfo | null = null;
  private transport: Transport;
  private detach: (() => void)[] = [];
  private decoder: FrameDecoder;
  private readonly link: LinkEstimator;
  private readonly retries: number;
  private window: number;
  private readonly windowOption: number;
  private readonly maxBytes: number;
  private readonly onProgress: ProgressListener | undefined;
  private readonly reconnector: Reconnector | null;
  private readonly pending: PendingCalls;
  private maxOps = 256;
  private maxPayload = 2304;
  private session = 0;
  private seq = 0;
  private tx = 0;
  private frameNumber = 0;
  private pumpScheduled = false;
  /** Frames sent in this turn of the event loop, written together at its end. */
  private outgoing: Uint8Array[] = [];
  private readonly queue = new Queue<Item>();
  private readonly inflight = new Map<number, InFlight>();
  private bytesInFlight = 0;
  private barriersInFlight = 0;
  private lineFreeAt = 0;
  private garbageMark = 0;
  /** While the link fails: each call's entries in frames in flight. */
  private sentByCall: Map<Call, Entry[]> | null = null;
  /** Ends a wait between reopen attempts. */
  private stopPause: (() => void) | null = null;
  /** When the device last sent a frame for this host. */
  private lastReplyAt = 0;
  private byteMs: number;
  /** 'up': working; 'down': reconnecting; 'closed': failed or closed. */
  private state: 'up' | 'down' | 'closed' = 'up';
  private readonly counts = { retransmissions: 0, fastRetransmissions: 0, timeouts: 0, frames: 0, reframed: 0, spuriousTimeouts: 0, reconnects: 0 };

  constructor(transport: Transport, options: FramedClientOptions = {}, reconnector: Reconnector | null = null) {
    this.transport = transport;
    const ceiling = options.timeoutMs ?? 1000;
    this.link = new LinkEstimator(Math.min(ceiling, 300), ceiling);
    this.retries = options.retries ?? 8;
    this.windowOption = options.window ?? Infinity;
    this.window = this.windowOption;
    this.maxBytes = options.maxBytesInFlight ?? 6144;
    this.onProgress = options.onProgress;
    this.reconnector = reconnector;
    this.byteMs = 10_000 / transport.baudRate;
    this.pending = new PendingCalls(() => this.transport.close());
    this.decoder = this.attach(transport);
  }

  get stats(): LinkStats {
    return { ...this.counts, frameBudget: this.link.frameBudget(2 * this.maxPayload), errorRate: this.link.errorRate };
  }

  /** False once the link failed or was closed (a frame handled earlier in the same chunk may have done it). */
  private get working(): boolean {
    return this.state !== 'closed';
  }

  /** Frames sent again so far. */
  get retransmissions(): number {
    return this.counts.retransmissions;
  }

  /**
   * Asks the device who it is, then opens a session in the given group;
   * HELLO and OPEN are sent again with growing waits until `retrying`'s
   * deadline (default: 10 s from now).
   */
  async start(group: 'xor' | 'add', retrying: Retrying = { deadline: performance.now() + 10_000, firstWaitMs: 200, maxWaitMs: 1600 }): Promise<HelloInfo> {
    try {
      const { hello, session } = await startSession(this.transport, () => this.nextSeq(), group, retrying);
      this.adopt(hello);
      this.session = session;
      return hello;
    } catch (err) {
      this.failLink((err as Error).message, (err as DeviceError).deviceCode);
      throw err;
    }
  }

  /** Queues operations; resolves with one result per op once the device confirmed them all. */
  submit(ops: Op[]): Promise<OpResult[]> {
    if (this.pending.failed) return Promise.reject(this.pending.refusal(ops));
    const total = ops.reduce((n, o) => n + unitsOf(o), 0);
    if (total === 0) return Promise.resolve(ops.map(() => null));
    return new Promise((resolve, reject) => {
      const call = new Call(this, ops, total, resolve, reject);
      const segment: Segment = { kind: 'ops', call, next: skipEmpty(ops, { op: 0, delta: 0 }), end: { op: ops.length, delta: 0 } };
      call.segments.push(segment);
      this.pending.add(call);
      this.queue.push(segment);
      this.schedulePump();
    });
  }

  /** Closes the port; pending calls fail with a DeviceError. */
  async close(): Promise<void> {
    const transport = this.transport;
    this.failLink('the accumulator was closed', 'CLOSED');
    await transport.close();
  }

  // ---- the port --------------------------------------------------------------

  private attach(transport: Transport): FrameDecoder {
    for (const off of this.detach) off();
    const decoder = new FrameDecoder((seq) => this.onDamaged(seq));
    this.garbageMark = 0;
    this.detach = [transport.onData((data) => this.receive(decoder, data)), transport.onClose((err) => this.onPortClosed(transport, err))];
    return decoder;
  }

  private onPortClosed(transport: Transport, err: Error | null): void {
    this.lost(transport, `the port ${transport.path} closed${err ? `: ${err.message}` : ''}`);
  }

  /** The port went away (closed, or a write failed): reconnect when asked to, else fail. */
  private lost(transport: Transport, why: string): void {
    if (transport !== this.transport || this.state !== 'up') return;
    if (this.reconnector && this.session !== 0) void this.reconnect(why);
    else this.failLink(why, 'PORT_CLOSED');
  }

  /** Keeps to the limits a checked HELLO_REPLY advertises (at start and after every reconnect). */
  private adopt(hello: HelloInfo): void {
    this.hello = hello;
    this.maxOps = hello.maxOps;
    this.maxPayload = hello.maxPayload;
    this.window = Math.max(1, Math.min(this.windowOption, Math.floor(hello.replayDepth / 2)));
  }

  // ---- packing -----------------------------------------------------------------

  private raw(type: number, payload: Uint8Array): Promise<Frame> {
    if (this.pending.failed) return Promise.reject(this.pending.refusal([]));
    return new Promise((resolve, reject) => {
      const item: Raw = {
        kind: 'raw',
        type,
        payload,
        resolveFrame: (frame) => {
          this.pending.delete(item);
          resolve(frame);
        },
        reject: (error) => {
          this.pending.delete(item);
          this.queue.remove(item);
          reject(error);
        },
        unconfirmed: () => [],
      };
      this.pending.add(item);
      this.queue.push(item);
      this.schedulePump();
    });
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0xffff ? 1 : this.seq + 1; // 0 is the probe's
    return this.seq;
  }

  /**
   * Calls made in the same turn of the event loop are packed together: the
   * first would otherwise leave alone in a frame of its own.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * Sends frames while the window allows: at most `window` frames from the
   * oldest unconfirmed one to the newest (see FramedClientOptions.window), a
   * bounded number of bytes, and nothing beside a barrier.
   */
  private pump(): void {
    while (this.state === 'up' && this.queue.length > 0 && this.barriersInFlight === 0) {
      const oldest = this.inflight.values().next().value;
      if (oldest && this.frameNumber + 1 - oldest.number >= this.window) return;
      const head = this.queue.peek()!;
      let frame: InFlight | null;
      if (head.kind === 'raw') {
        if (oldest) return;
        frame = this.packRaw(head);
      } else {
        frame = oldest ? this.packOps(true, this.maxBytes - this.bytesInFlight) : this.packOps(false, Infinity);
        if (!frame) return;
      }
      this.inflight.set(frame.seq, frame);
      this.bytesInFlight += frame.bytes.length;
      if (frame.barrier) this.barriersInFlight++;
      for (const part of frame.parts) if (part.item.kind !== 'raw') part.item.partsInFlight++;
      this.send(frame);
    }
  }

  private packRaw(item: Raw): InFlight {
    this.queue.shift();
    const seq = this.nextSeq();
    const part: Part = { item, from: { op: 0, delta: 0 }, to: { op: 0, delta: 0 }, slots: [], units: 0 };
    return this.frame(seq, encodeFrame(seq, item.type, item.payload), [], [part], true, 128);
  }

  /**
   * Fills one frame from the head of the queue, within the device's limits,
   * the frame budget for the line and `room` bytes; a run is cut where the
   * frame is full and continues in the next one. Beside frames in flight
   * (`commutingOnly`) it takes accumulates only. Null when nothing fits.
   */
  private packOps(commutingOnly: boolean, room: number): InFlight | null {
    const budget = this.link.frameBudget(2 * this.maxPayload);
    const limit = Math.min(this.maxPayload, room - FRAME_OVERHEAD);
    const ops: Op[] = [];
    const parts: Part[] = [];
    let size = 0;
    let reply = 0;
    let full = false;
    while (!full && this.queue.length > 0 && this.queue.peek()!.kind === 'ops') {
      const seg = this.queue.peek() as Segment;
      const call = seg.call;
      const part: Part = { item: call, from: { ...seg.next }, to: seg.next, slots: [], units: 0 };
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
    const seq = this.nextSeq();
    return this.frame(seq, encodeFrame(seq, FRAME.batch, encodeOps(ops)), ops, parts, !ops.every(commutes), reply);
  }

  private frame(seq: number, bytes: Uint8Array, ops: Op[], parts: Part[], barrier: boolean, resultBytes: number): InFlight {
    return {
      seq,
      number: ++this.frameNumber,
      bytes,
      ops,
      parts,
      roundBytes: bytes.length + FRAME_OVERHEAD + resultBytes,
      resultBytes,
      query: null,
      barrier,
      attempts: 0,
      unanswered: 0,
      firstTx: 0,
      lastTx: 0,
      lineDoneAt: 0,
      firstLineDoneAt: 0,
      sentAt: 0,
      timedOut: false,
      backoff: 0,
      deadline: 0,
      deferrals: 0,
      firstSentAt: 0,
      timer: null,
    };
  }

  /** The device did not apply a frame that was too large for the line: its shares go back to the head of the queue. */
  private requeue(f: InFlight): void {
    for (let i = f.parts.length - 1; i >= 0; i--) {
      const part = f.parts[i]!;
      const call = part.item as Call;
      call.partsInFlight--;
      if (call.refused) {
        // A frame of it was refused meanwhile: nothing more of it is sent.
        call.refused.list.push(...rangeOf(call.ops, part.from, part.to, 'queued'));
        this.settle(call);
        continue;
      }
      const seg: Segment = { kind: 'ops', call, next: part.from, end: part.to };
      call.segments.unshift(seg);
      this.queue.unshift(seg);
    }
  }

  /** A call settled: out of the pending set, its unsent units out of the queue. */
  forget(call: Call): void {
    this.pending.delete(call);
    for (const seg of call.segments) this.queue.remove(seg);
    call.segments = [];
  }

  // ---- sending and resending -------------------------------------------------------

  private send(f: InFlight): void {
    f.attempts++;
    f.unanswered++;
    f.lastTx = ++this.tx;
    if (f.attempts === 1) f.firstTx = f.lastTx;
    const now = performance.now();
    this.lineFreeAt = Math.max(this.lineFreeAt, now) + f.roundBytes * this.byteMs;
    f.lineDoneAt = this.lineFreeAt;
    f.sentAt = now;
    if (f.attempts === 1) {
      f.firstLineDoneAt = f.lineDoneAt;
      f.firstSentAt = now;
    }
    f.deferrals = 0;
    this.arm(f, f.lineDoneAt - now + this.link.slackMs(1 + f.backoff));
    this.outgoing.push(f.bytes);
    if (this.outgoing.length === 1) queueMicrotask(() => this.flush());
  }

  /** Writes the frames sent in one turn of the event loop with one write: one system call, one chunk for the line. */
  private flush(): void {
    const frames = this.outgoing;
    this.outgoing = [];
    if (frames.length === 0 || this.state !== 'up') return;
    const bytes = frames.length === 1 ? frames[0]! : concat(frames);
    const transport = this.transport;
    transport.write(bytes).catch((err: Error) => this.lost(transport, `write to ${transport.path} failed: ${err.message}`));
  }

  private resend(f: InFlight, fast: boolean, why: string): void {
    // Every sign of damage and every timeout counts toward the error rate, so a line that loses whole frames
    // silently shrinks them too; a timeout found spurious later is taken back (LinkEstimator.spurious).
    this.link.outcome(f.roundBytes, false);
    // Larger than the line now carries well (packed before it was measured): ask, then send it again smaller.
    // Twice the budget at the first loss, the budget itself from the second.
    const oversized = f.roundBytes - 2 * FRAME_OVERHEAD > (f.attempts >= 2 ? 1 : 2) * this.link.frameBudget(2 * this.maxPayload);
    if (f.query === null && oversized && this.splittable(f)) this.toQuery(f);
    // A device that answers other frames is alive on a noisy line: the frame gets four times the resends.
    else if (f.attempts > (this.lastReplyAt > f.firstSentAt ? 4 * this.retries : this.retries)) {
      this.failLink(`no valid reply to frame ${f.seq} after ${f.attempts} attempts (${why})`, 'NO_REPLY');
      return;
    }
    this.counts.retransmissions++;
    if (fast) this.counts.fastRetransmissions++;
    else this.counts.timeouts++;
    f.timedOut = !fast;
    this.send(f);
  }

  /** A batch of more than one unit can be sent again in smaller frames. */
  private splittable(f: InFlight): boolean {
    return f.parts.length > 0 && f.parts[0]!.item.kind !== 'raw' && f.parts.reduce((n, p) => n + p.units, 0) > 1;
  }

  /** From now on the frame's SEQ carries a query (see InFlight.query) instead of its ops. */
  private toQuery(f: InFlight): void {
    const probe: Op = f.resultBytes === 8 ? { op: 'status', index: 0 } : { op: 'read', index: 0 };
    this.bytesInFlight -= f.bytes.length;
    f.bytes = encodeFrame(f.seq, FRAME.batch, encodeOps([probe]));
    this.bytesInFlight += f.bytes.length;
    f.query = resultBytes(probe);
    f.roundBytes = f.bytes.length + FRAME_OVERHEAD + f.query;
    f.attempts = 0;
  }

  /** Arms the reply timer of a frame's latest copy. */
  private arm(f: InFlight, ms: number): void {
    if (f.timer) clearTimeout(f.timer);
    f.deadline = performance.now() + ms;
    f.timer = setTimeout(() => this.onTimeout(f), ms);
  }

  /**
   * A timer that fires well after its deadline means this process was busy:
   * replies may be waiting unread (Node runs expired timers before it reads
   * input). The frame then gets another slack period, twice at most, before
   * it counts as lost.
   */
  private onTimeout(f: InFlight): void {
    f.timer = null;
    if (this.state !== 'up' || this.inflight.get(f.seq) !== f) return;
    const slack = this.link.slackMs(1);
    if (performance.now() - f.deadline > slack / 2 && f.deferrals < 2) {
      f.deferrals++;
      this.arm(f, slack);
      return;
    }
    f.unanswered = 0; // given up on
    // Back off only while the device says nothing at all: on a noisy line that answers other frames, a loss is not congestion.
    f.backoff = this.lastReplyAt > f.sentAt ? 0 : f.backoff + 1;
    this.resend(f, false, 'timeout');
  }

  /**
   * The device (BAD_CRC) or the host (a reply with a sound header and a bad
   * CRC) saw a copy of the frame damaged. It is sent again at once, unless a
   * newer copy is still on its way: then this was the answer to an older one.
   */
  private onDamagedCopy(f: InFlight, why: string): void {
    f.unanswered = Math.max(0, f.unanswered - 1);
    if (f.unanswered === 0) this.resend(f, true, why);
  }

  private onDamaged(seq: number): void {
    const f = this.inflight.get(seq);
    if (!f || this.state !== 'up') return;
    this.lastReplyAt = performance.now(); // damaged on the way back, but the device answered
    this.onDamagedCopy(f, 'a damaged reply');
  }

  // ---- receiving ------------------------------------------------------------------------

  private receive(decoder: FrameDecoder, data: Uint8Array): void {
    if (decoder !== this.decoder || !this.working) return;
    for (const frame of decoder.push(data)) {
      if (!this.working) return;
      if (this.inflight.has(frame.seq)) {
        this.garbageMark = decoder.skipped;
        this.lastReplyAt = performance.now();
        this.onFrame(frame);
      } else {
        decoder.skipped += FRAME_OVERHEAD + frame.payload.length; // frames for nobody count as garbage
      }
    }
    if (decoder.skipped - this.garbageMark > GARBAGE_LIMIT) {
      this.failLink(`the device sent ${decoder.skipped - this.garbageMark} bytes without a frame for this host`, 'GARBAGE');
      return;
    }
    this.pump();
  }

  private onFrame(frame: Frame): void {
    const f = this.inflight.get(frame.seq)!;
    // The line keeps order: frames sent before this one's first send and still unanswered were lost.
    for (const g of this.inflight.values()) {
      if (g !== f && g.lastTx < f.firstTx) {
        g.unanswered = 0; // every copy of it was answered or lost
        this.resend(g, true, 'a later frame was answered first');
      }
      if (this.state !== 'up') return;
    }
    if (frame.type === FRAME.error) {
      const err = safe(() => decodeError(frame.payload));
      if (!err) return this.failLink(`malformed ERROR reply to frame ${f.seq} (${frame.payload.length} bytes)`, 'BAD_REPLY');
      if (err.code === 'BAD_CRC') return this.onDamagedCopy(f, 'the device saw a bad CRC');
      // A frame-level BAD_LENGTH answers a header whose LEN was damaged on the way (this host never sends too long a frame).
      if (err.code === 'BAD_LENGTH' && err.at === 0xffff) return this.onDamagedCopy(f, 'the device saw a damaged header');
      this.complete(f, true);
      const error = new DeviceError(`the device refused frame ${f.seq}: ${err.code} at operation ${err.at}`, [], err.code);
      for (const part of f.parts) this.refuse(part, f.seq, error);
      return;
    }
    const raw = f.parts[0]?.item.kind === 'raw' ? f.parts[0].item : null;
    if (raw) {
      this.complete(f, true);
      raw.resolveFrame(frame);
      return;
    }
    if (frame.type !== FRAME.result) return this.failLink(`unexpected reply type 0x${frame.type.toString(16)} to frame ${f.seq}`, 'BAD_REPLY');
    if (f.query !== null && frame.payload.length === f.query && frame.payload.length !== f.resultBytes) {
      this.complete(f, true); // the query ran: the original never did
      this.counts.reframed++;
      this.requeue(f);
      return;
    }
    const results = safe(() => decodeReplyResults(f.ops, frame.payload));
    if (!results) {
      return this.failLink(
        `the RESULT for frame ${f.seq} has ${frame.payload.length} bytes, expected ${f.ops.reduce((n, o) => n + resultBytes(o), 0)}`,
        'BAD_REPLY',
      );
    }
    this.complete(f, true);
    let at = 0;
    for (const part of f.parts) {
      const call = part.item as Call;
      for (const slot of part.slots) {
        if (slot >= 0) call.results[slot] = results[at]!;
        at++;
      }
      call.partsInFlight--;
      call.confirmed += part.units;
      this.settle(call);
    }
  }

  private complete(f: InFlight, delivered: boolean): void {
    if (f.timer) clearTimeout(f.timer);
    f.timer = null;
    // Its reply is in: only frames sent after it are still on the line (an unpaced line is faster than its nominal rate).
    let after = 0;
    for (const g of this.inflight.values()) if (g.lastTx > f.lastTx) after += g.roundBytes;
    this.lineFreeAt = Math.min(this.lineFreeAt, performance.now() + after * this.byteMs);
    if (delivered) {
      const now = performance.now();
      this.link.outcome(f.roundBytes, true);
      if (f.attempts === 1) {
        this.link.sample(now - f.lineDoneAt, now - f.sentAt); // Karn: only frames sent once say how late replies are
      } else if (f.timedOut && f.query === null && now - f.sentAt < 0.75 * this.link.minRttMs) {
        // Back sooner than any copy could have been: the reply to an earlier copy, and the timeout was too short.
        this.link.spurious();
        this.link.sample(now - f.firstLineDoneAt, null);
        this.counts.spuriousTimeouts++;
      }
      this.counts.frames++;
    }
    this.inflight.delete(f.seq);
    this.bytesInFlight -= f.bytes.length;
    if (f.barrier) this.barriersInFlight--;
  }

  /** A frame of the call was refused: nothing more of it is sent; it fails once its other frames have settled. */
  private refuse(part: Part, seq: number, error: DeviceError): void {
    if (part.item.kind === 'raw') {
      part.item.reject(error);
      return;
    }
    const call = part.item;
    call.partsInFlight--;
    if (!call.refused) {
      call.refused = { error, list: [] };
      for (const seg of call.segments) call.refused.list.push(...rangeOf(call.ops, seg.next, seg.end, 'queued'));
      for (const seg of call.segments) this.queue.remove(seg);
      call.segments = [];
    }
    call.refused.list.push(...rangeOf(call.ops, part.from, part.to, 'refused', seq));
    this.settle(call);
  }

  private settle(call: Call): void {
    if (call.partsInFlight > 0) return this.report(call);
    if (call.refused) {
      call.reject(new DeviceError(call.refused.error.message, sorted(call.refused.list), call.refused.error.deviceCode));
    } else if (call.confirmed === call.total) {
      call.fulfil();
      this.report(call, true);
    }
  }

  private report(call: Call, final = false): void {
    if (!this.onProgress || call.total <= this.maxOps) return;
    const now = performance.now();
    if (!final && now - call.reportedAt < PROGRESS_EVERY_MS) return;
    call.reportedAt = now;
    try {
      this.onProgress({ task: 'batch', done: call.confirmed, total: call.total, message: `${call.confirmed} of ${call.total} operations confirmed` });
    } catch (err) {
      queueMicrotask(() => {
        throw err; // the listener's bug surfaces as an uncaught error; the link's own bookkeeping carries on
      });
    }
  }

  /** The call's operations not confirmed yet: those in flight, then those never sent. */
  unconfirmedOf(call: Call): Unconfirmed[] {
    const list = [...(call.refused?.list ?? [])];
    if (this.sentByCall) {
      list.push(...(this.sentByCall.get(call) ?? []));
    } else {
      for (const f of this.inflight.values()) {
        for (const part of f.parts) if (part.item === call) list.push(...rangeOf(call.ops, part.from, part.to, 'sent', f.seq));
      }
    }
    for (const seg of call.segments) list.push(...rangeOf(call.ops, seg.next, seg.end, 'queued'));
    return sorted(list);
  }

  // ---- failure and reconnection ------------------------------------------------------------

  /** Fails the link once: every pending call is rejected with its own list, the port is closed. */
  private failLink(message: string, deviceCode?: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopPause?.();
    // Every call's frames in flight, found in one pass (a call asks for its own list as it is rejected).
    this.sentByCall = new Map();
    for (const f of this.inflight.values()) {
      if (f.timer) clearTimeout(f.timer);
      for (const part of f.parts) {
        if (part.item.kind !== 'call') continue;
        const list = this.sentByCall.get(part.item) ?? [];
        list.push(...rangeOf(part.item.ops, part.from, part.to, 'sent', f.seq));
        this.sentByCall.set(part.item, list);
      }
    }
    this.queue.drain(); // before the calls are rejected: each would search the queue for its segments
    this.pending.fail(message, deviceCode);
    this.sentByCall = null;
    this.inflight.clear();
    this.bytesInFlight = 0;
    this.barriersInFlight = 0;
    for (const off of this.detach) off();
  }

  /**
   * The port went away: reopen it with backoff, ask the board who it is,
   * and carry on only if it kept our session (then resending the frames in
   * flight is exactly-once); a board that rebooted fails the link.
   */
  /** A wait between reopen attempts: it keeps the process alive, as the open port did, until close() or failure ends it. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stopPause = null;
        resolve();
      }, ms);
      this.stopPause = () => {
        clearTimeout(timer);
        this.stopPause = null;
        resolve();
      };
    });
  }

  private async reconnect(why: string): Promise<void> {
    const policy = this.reconnector!;
    this.state = 'down';
    for (const f of this.inflight.values()) {
      if (f.timer) clearTimeout(f.timer);
      f.timer = null;
    }
    await this.transport.close().catch(() => {}); // after a failed write it may still be open, and hold the lock
    let delay = policy.initialDelayMs;
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      await this.pause(delay);
      delay = Math.min(policy.maxDelayMs, delay * 2);
      if (this.state !== 'down') return; // closed meanwhile
      let transport: Transport;
      try {
        transport = await policy.reopen();
      } catch {
        continue;
      }
      if (this.state !== 'down') {
        await transport.close().catch(() => {});
        return;
      }
      const wait = this.link.slackMs(1) + 300 * this.byteMs;
      let hello: HelloInfo | Error | null;
      try {
        hello = await askHello(transport, this.nextSeq(), { deadline: performance.now() + 7 * wait, firstWaitMs: wait, maxWaitMs: 4 * wait });
      } catch (err) {
        hello = err as Error;
      }
      if (!hello) {
        await transport.close().catch(() => {});
        continue;
      }
      if (this.state !== 'down') {
        await transport.close().catch(() => {});
        return;
      }
      this.transport = transport;
      this.byteMs = 10_000 / transport.baudRate;
      this.decoder = this.attach(transport);
      if (hello instanceof Error)
        return this.failLink(`after reconnecting to ${transport.path}: ${hello.message}`, (hello as DeviceError).deviceCode ?? 'BAD_HELLO');
      const { session, bootId } = hello;
      if (session === null) {
        return this.failLink(
          `${transport.path} came back, but its protocol version ${hello.protocol} cannot say whether the board rebooted: its contexts cannot be trusted`,
          'REBOOTED',
        );
      }
      const before = this.hello?.bootId ?? null;
      if (session !== this.session || (before !== null && bootId !== before)) {
        return this.failLink(
          `the board at ${transport.path} rebooted or was opened by another host while the port was away (its session is ${session}, boot id ${bootId}): its contexts are gone`,
          'REBOOTED',
        );
      }
      this.adopt(hello);
      this.counts.reconnects++;
      this.state = 'up';
      this.lineFreeAt = 0;
      for (const f of [...this.inflight.values()].sort((a, b) => a.firstTx - b.firstTx)) {
        f.attempts = 0; // the link was away, not lossy
        f.unanswered = 0;
        this.send(f);
      }
      this.pump();
      return;
    }
    this.failLink(`${why}, and it did not come back after ${policy.attempts} attempts`, 'PORT_CLOSED');
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Moves a cursor past runs without deltas (they need no frame). */
function skipEmpty(ops: readonly Op[], at: Cursor): Cursor {
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

function sorted(list: Entry[]): Unconfirmed[] {
  return list.sort((a, b) => a.at - b.at).map((e) => e.entry);
}

/** A FIFO with O(1) shift: the queue can hold hundreds of thousands of calls. */
class Queue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  remove(item: T): void {
    const at = this.items.indexOf(item, this.head);
    if (at >= 0) this.items.splice(at, 1);
  }

  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
