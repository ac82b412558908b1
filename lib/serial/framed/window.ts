// The window and its resend policy: frames in flight, how long each may
// stay unanswered, and when it goes again. A frame is sent again as soon as
// the device shows it missing (a later frame answered, ERROR BAD_CRC, a
// damaged reply), else after a timeout measured from the link; a frame too
// large for the line is turned into a query (see InFlight.query). The
// device's replay cache makes every copy exactly-once.
import type { Op } from '../../core/operations.js';
import type { LinkStats } from '../../backend/device.js';
import { FRAME, FRAME_OVERHEAD, encodeFrame, encodeOps, resultBytes } from '../frame.js';
import { LinkEstimator } from '../link.js';
import type { Packed } from './packer.js';

export interface InFlight {
  seq: number;
  /** Frames in the order they were first sent (the window is a span of these). */
  number: number;
  bytes: Uint8Array;
  packed: Packed;
  /** Request plus reply bytes. */
  roundBytes: number;
  /**
   * Set when the frame is too large for the line: its SEQ is sent again with
   * a single read-only op of another result size. The reply tells whether
   * the device had applied the original (its cached RESULT comes back) or
   * not (the query's own result); in the latter case the ops are sent again
   * in smaller frames. The query's result size is kept here.
   */
  query: number | null;
  attempts: number;
  /**
   * Losses in a row the line's error rate explained when the frame was
   * first sent (LinkEstimator.lossesExplained): fixed then, so a device that
   * falls silent cannot make its own timeouts look like a noisy line.
   */
  explained: number;
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

/** What the window asks of the link it serves. */
export interface Wire {
  /** Whether frames may be sent now (not reconnecting, not failed). */
  readonly up: boolean;
  /** Queues a frame's bytes for this turn of the event loop. */
  write(bytes: Uint8Array): void;
  /** Gives up: the link fails with this reason. */
  fail(message: string, deviceCode: string): void;
}

export interface WindowOptions {
  /** The ceiling a backed-off reply timeout grows to, and the timeout before the link was measured (at most 300 ms). */
  timeoutMs: number;
  retries: number;
  /** Frames from the oldest unconfirmed to the newest (capped by the device's replay cache). */
  window: number;
  maxBytesInFlight: number;
}

export class Window {
  readonly frames = new Map<number, InFlight>();
  readonly link: LinkEstimator;
  readonly counts = { retransmissions: 0, fastRetransmissions: 0, timeouts: 0, frames: 0, reframed: 0, spuriousTimeouts: 0, reconnects: 0 };
  bytes = 0;
  barriers = 0;
  /** Frames allowed from the oldest unconfirmed to the newest: the option, capped by half the device's replay cache. */
  span: number;
  /** The device's largest payload (the frame budget's ceiling is twice it: request plus reply). */
  maxPayload = 2304;
  /** When the device last sent a frame for this host. */
  lastReplyAt = 0;
  byteMs: number;
  private tx = 0;
  private frameNumber = 0;
  private lineFreeAt = 0;

  constructor(
    private readonly wire: Wire,
    private readonly options: WindowOptions,
    baudRate: number,
  ) {
    this.link = new LinkEstimator(Math.min(options.timeoutMs, 300), options.timeoutMs);
    this.span = options.window;
    this.byteMs = 10_000 / baudRate;
  }

  /** Keeps to the device's replay cache depth and payload limit (HELLO_REPLY). */
  adopt(replayDepth: number, maxPayload: number): void {
    this.span = Math.max(1, Math.min(this.options.window, Math.floor(replayDepth / 2)));
    this.maxPayload = maxPayload;
  }

  get stats(): LinkStats {
    return { ...this.counts, frameBudget: this.budget(), errorRate: this.link.errorRate };
  }

  /** Payload bytes (request plus reply) a frame should carry on this line. */
  budget(): number {
    return this.link.frameBudget(2 * this.maxPayload);
  }

  /** Room for the next frame: null when it must wait; else whether it must commute with those in flight and how many bytes it may have. */
  room(): { commutingOnly: boolean; bytes: number } | null {
    if (this.barriers > 0) return null;
    const oldest = this.frames.values().next().value;
    if (!oldest) return { commutingOnly: false, bytes: Infinity };
    if (this.frameNumber + 1 - oldest.number >= this.span) return null;
    return { commutingOnly: true, bytes: this.options.maxBytesInFlight - this.bytes };
  }

  /** Sends a new frame. */
  open(seq: number, packed: Packed): InFlight {
    const bytes = encodeFrame(seq, FRAME.batch, encodeOps(packed.ops));
    const f: InFlight = {
      seq,
      number: ++this.frameNumber,
      bytes,
      packed,
      roundBytes: bytes.length + FRAME_OVERHEAD + packed.resultBytes,
      query: null,
      attempts: 0,
      explained: 0,
      unanswered: 0,
      firstTx: 0,
      lastTx: 0,
      lineDoneAt: 0,
      firstLineDoneAt: 0,
      firstSentAt: 0,
      sentAt: 0,
      timedOut: false,
      backoff: 0,
      deadline: 0,
      deferrals: 0,
      timer: null,
    };
    this.frames.set(seq, f);
    this.bytes += bytes.length;
    if (packed.barrier) this.barriers++;
    this.send(f);
    return f;
  }

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
      if (f.query === null) f.explained = this.link.lossesExplained(f.roundBytes);
    }
    f.deferrals = 0;
    // Silence the line's error rate explains is no reason to wait longer: back off only beyond it.
    const backoff = Math.max(0, f.backoff - f.explained);
    this.arm(f, f.lineDoneAt - now + this.link.slackMs(1 + backoff));
    this.wire.write(f.bytes);
  }

  /** A reply for `f` came in: frames sent before its first copy and still unanswered were lost (the line keeps order). */
  replied(f: InFlight): void {
    this.lastReplyAt = performance.now();
    for (const g of this.frames.values()) {
      if (g !== f && g.lastTx < f.firstTx) {
        g.unanswered = 0; // every copy of it was answered or lost
        this.resend(g, true, 'a later frame was answered first');
      }
      if (!this.wire.up) return;
    }
  }

  /** The frame is done with (answered, or refused): out of the window. */
  complete(f: InFlight, delivered: boolean): void {
    if (f.timer) clearTimeout(f.timer);
    f.timer = null;
    // Its reply is in: only frames sent after it are still on the line (an unpaced line is faster than its nominal rate).
    let after = 0;
    for (const g of this.frames.values()) if (g.lastTx > f.lastTx) after += g.roundBytes;
    this.lineFreeAt = Math.min(this.lineFreeAt, performance.now() + after * this.byteMs);
    if (delivered) {
      const now = performance.now();
      this.link.outcome(f.roundBytes, true);
      if (f.attempts === 1) {
        this.link.sample(now - f.lineDoneAt, now - f.sentAt); // Karn: only frames sent once say how late replies are
      } else if (f.timedOut && f.query === null && Number.isFinite(this.link.minRttMs) && now - f.sentAt < 0.75 * this.link.minRttMs) {
        // Back sooner than any copy could have been: the reply to an earlier copy, and the timeout was too short.
        // (Before any round trip was measured nothing can be judged so: a late sample would inflate every timeout.)
        this.link.spurious();
        this.link.sample(now - f.firstLineDoneAt, null);
        this.counts.spuriousTimeouts++;
      }
      this.counts.frames++;
    }
    this.frames.delete(f.seq);
    this.bytes -= f.bytes.length;
    if (f.packed.barrier) this.barriers--;
  }

  private resend(f: InFlight, fast: boolean, why: string): void {
    // Every sign of damage and every timeout counts toward the error rate, so a line that loses whole frames
    // silently shrinks them too; a timeout found spurious later is taken back (LinkEstimator.spurious).
    this.link.outcome(f.roundBytes, false);
    // Larger than the line now carries well (packed before it was measured): ask, then send it again smaller.
    // Twice the budget at the first loss, the budget itself from the second.
    const oversized = f.roundBytes - 2 * FRAME_OVERHEAD > (f.attempts >= 2 ? 1 : 2) * this.budget();
    if (f.query === null && oversized && f.packed.parts.reduce((n, p) => n + p.units, 0) > 1) this.toQuery(f);
    // A device that answers other frames is alive on a noisy line: the frame gets four times the resends;
    // losses in a row that the line's error rate explains come on top.
    else if (f.attempts > f.explained + (this.lastReplyAt > f.firstSentAt ? 4 : 1) * this.options.retries) {
      this.wire.fail(`no valid reply to frame ${f.seq} after ${f.attempts} attempts (${why})`, 'NO_REPLY');
      return;
    }
    this.counts.retransmissions++;
    if (fast) this.counts.fastRetransmissions++;
    else this.counts.timeouts++;
    f.timedOut = !fast;
    this.send(f);
  }

  /** From now on the frame's SEQ carries a query (see InFlight.query) instead of its ops. */
  private toQuery(f: InFlight): void {
    const probe: Op = f.packed.resultBytes === 8 ? { op: 'status', index: 0 } : { op: 'read', index: 0 };
    this.bytes -= f.bytes.length;
    f.bytes = encodeFrame(f.seq, FRAME.batch, encodeOps([probe]));
    this.bytes += f.bytes.length;
    f.query = resultBytes(probe);
    f.roundBytes = f.bytes.length + FRAME_OVERHEAD + f.query;
    f.attempts = 0;
  }

  /** Whether a RESULT of `length` bytes answers the query rather than the original: the original was never applied. */
  queryRan(f: InFlight, length: number): boolean {
    return f.query !== null && length === f.query && length !== f.packed.resultBytes;
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
    if (!this.wire.up || this.frames.get(f.seq) !== f) return;
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
  damagedCopy(f: InFlight, why: string): void {
    f.unanswered = Math.max(0, f.unanswered - 1);
    if (f.unanswered === 0) this.resend(f, true, why);
  }

  /** A reply with a sound header and a bad CRC came in for `seq`. */
  damagedReply(seq: number): void {
    const f = this.frames.get(seq);
    if (!f || !this.wire.up) return;
    this.lastReplyAt = performance.now(); // damaged on the way back, but the device answered
    this.damagedCopy(f, 'a damaged reply');
  }

  /** The port went away: no timer runs until `resume`. */
  pause(): void {
    for (const f of this.frames.values()) {
      if (f.timer) clearTimeout(f.timer);
      f.timer = null;
    }
  }

  /** The port is back, on a line of `baudRate`: every frame in flight goes again, in the order first sent. */
  resume(baudRate: number): void {
    this.byteMs = 10_000 / baudRate;
    this.lineFreeAt = 0;
    for (const f of [...this.frames.values()].sort((a, b) => a.firstTx - b.firstTx)) {
      f.attempts = 0; // the link was away, not lossy
      f.unanswered = 0;
      this.send(f);
    }
  }

  /** The link failed: every timer stops, nothing is in flight any more. */
  clear(): void {
    this.pause();
    this.frames.clear();
    this.bytes = 0;
    this.barriers = 0;
  }
}
