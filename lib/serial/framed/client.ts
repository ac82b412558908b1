// Host side of the framed protocol, composed of its parts: the session
// (HELLO, OPEN, reconnect: session.ts), the call ledger (ledger.ts), the
// packer (packer.ts) and the window with its resend policy (window.ts).
// This file routes what comes off the line to them and settles calls.
// With `reconnect`, a port that goes away is reopened and the board is
// asked whether it kept our session; a board that rebooted is reported.
import { DeviceError } from '../../core/errors.js';
import type { Group } from '../../core/group.js';
import type { Op, OpResult } from '../../core/operations.js';
import type { ProgressListener } from '../../core/progress.js';
import type { HelloInfo, LinkStats } from '../../backend/device.js';
import { FRAME, FRAME_OVERHEAD, FrameDecoder, decodeError, decodeReplyResults, resultBytes, type Frame } from '../frame.js';
import { PendingCalls } from '../pending.js';
import type { Transport } from '../transport.js';
import type { Retrying } from './exchange.js';
import { Call, unitsOf } from './ledger.js';
import { Packer } from './packer.js';
import { reopenSession, startSession, type Reconnector } from './session.js';
import { Window, type InFlight } from './window.js';

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

/** A device that sends this many bytes without one frame for us is not speaking the protocol. */
export const GARBAGE_LIMIT = 32_768;
const PROGRESS_EVERY_MS = 100;
/** Completes a frame that lost up to this many bytes on the way (see flush). */
const FILLER = new Uint8Array(2);
const START_RETRYING = { firstWaitMs: 200, maxWaitMs: 1600, totalMs: 10_000 };

export class FramedClient {
  hello: HelloInfo | null = null;
  private transport: Transport;
  private detach: (() => void)[] = [];
  private decoder: FrameDecoder;
  private readonly window: Window;
  private readonly packer = new Packer();
  private readonly pending: PendingCalls;
  private readonly onProgress: ProgressListener | undefined;
  private session = 0;
  private seq = 0;
  private pumpScheduled = false;
  /** Frames sent in this turn of the event loop, written together at its end. */
  private outgoing: Uint8Array[] = [];
  private garbageMark = 0;
  /** Ends a wait between reopen attempts. */
  private stopPause: (() => void) | null = null;
  /** 'up': working; 'down': reconnecting; 'closed': failed or closed. */
  private state: 'up' | 'down' | 'closed' = 'up';

  constructor(
    transport: Transport,
    options: FramedClientOptions = {},
    private readonly reconnector: Reconnector | null = null,
  ) {
    this.transport = transport;
    const wire = {
      get up() {
        return client.state === 'up';
      },
      write: (bytes: Uint8Array) => this.write(bytes),
      fail: (message: string, deviceCode: string) => this.failLink(message, deviceCode),
    };
    const client = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the wire's getter reads the state as it is then
    this.window = new Window(
      wire,
      {
        timeoutMs: options.timeoutMs ?? 1000,
        retries: options.retries ?? 8,
        window: options.window ?? Infinity,
        maxBytesInFlight: options.maxBytesInFlight ?? 6144,
      },
      transport.baudRate,
    );
    this.onProgress = options.onProgress;
    this.pending = new PendingCalls(() => this.transport.close());
    this.decoder = this.attach(transport);
  }

  /** Once the link failed or was closed. */
  private get failed(): boolean {
    return this.state === 'closed';
  }

  /** What the link has measured and done. */
  get stats(): LinkStats {
    return this.window.stats;
  }

  /** Frames sent again so far. */
  get retransmissions(): number {
    return this.window.counts.retransmissions;
  }

  /**
   * Asks the device who it is, then opens a session in the given group;
   * HELLO and OPEN are sent again with growing waits until `retrying`'s
   * deadline (default: 10 s from now).
   */
  async start(group: Group, retrying?: Retrying): Promise<HelloInfo> {
    const r = retrying ?? { ...START_RETRYING, deadline: performance.now() + START_RETRYING.totalMs };
    try {
      const { hello, session } = await startSession(this.transport, () => this.nextSeq(), group, r);
      this.adopt(hello);
      this.session = session;
      return hello;
    } catch (err) {
      this.failLink((err as Error).message, (err as DeviceError).deviceCode ?? 'BAD_REPLY');
      throw err;
    }
  }

  /** Queues operations; resolves with one result per op once the device confirmed them all. */
  submit(ops: readonly Op[]): Promise<OpResult[]> {
    if (this.pending.failed) return Promise.reject(this.pending.refusal(ops));
    const total = ops.reduce((n, o) => n + unitsOf(o), 0);
    if (total === 0) return Promise.resolve(ops.map(() => null));
    return new Promise((resolve, reject) => {
      const call = new Call(ops, total, resolve, reject);
      this.pending.add(call);
      this.packer.add(call);
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
    const decoder = new FrameDecoder((seq) => this.window.damagedReply(seq));
    this.garbageMark = 0;
    this.detach = [
      transport.onData((data) => this.receive(decoder, data)),
      transport.onClose((err) => this.lost(transport, `the port ${transport.path} closed${err ? `: ${err.message}` : ''}`)),
    ];
    return decoder;
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
    this.packer.maxOps = hello.maxOps;
    this.packer.maxPayload = hello.maxPayload;
    this.window.adopt(hello.replayDepth, hello.maxPayload);
  }

  private write(bytes: Uint8Array): void {
    this.outgoing.push(bytes);
    if (this.outgoing.length === 1) queueMicrotask(() => this.flush());
  }

  /**
   * Writes the frames sent in one turn of the event loop with one write: one
   * system call, one chunk for the line. On a line that damages bytes, a few
   * zero bytes follow: a frame that lost bytes on the way is then completed
   * at once (and fails its CRC, which the device answers with BAD_CRC)
   * instead of waiting for the next frame to fill it. Bytes between frames
   * are skipped by every receiver (PROTOCOL.md, "Frames").
   */
  private flush(): void {
    const frames = this.outgoing;
    this.outgoing = [];
    if (frames.length === 0 || this.state !== 'up') return;
    if (this.window.link.errorRate > 0) frames.push(FILLER);
    const bytes = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    const transport = this.transport;
    transport.write(bytes).catch((err: Error) => this.lost(transport, `write to ${transport.path} failed: ${err.message}`));
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0xffff ? 1 : this.seq + 1; // 0 is the probe's
    return this.seq;
  }

  // ---- sending -----------------------------------------------------------------

  /** Calls made in the same turn of the event loop are packed together: the first would otherwise leave alone in a frame of its own. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Sends frames while the window has room (see Window.room). */
  private pump(): void {
    while (this.state === 'up' && !this.packer.empty) {
      const room = this.window.room();
      if (!room) return;
      const packed = this.packer.pack(room.commutingOnly, room.bytes, this.window.budget());
      if (!packed) return;
      const f = this.window.open(this.nextSeq(), packed);
      for (const part of packed.parts) part.call.inFlight.set(part, f.seq);
    }
  }

  // ---- receiving ------------------------------------------------------------------------

  private receive(decoder: FrameDecoder, data: Uint8Array): void {
    if (decoder !== this.decoder || this.failed) return;
    for (const frame of decoder.push(data)) {
      if (this.failed) return; // a frame before it in the same chunk failed the link
      const f = this.window.frames.get(frame.seq);
      if (f) {
        this.garbageMark = decoder.skipped;
        this.onReply(f, frame);
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

  private onReply(f: InFlight, frame: Frame): void {
    this.window.replied(f);
    if (this.state !== 'up') return;
    if (frame.type === FRAME.error) {
      const err = safe(() => decodeError(frame.payload));
      if (!err) return this.failLink(`malformed ERROR reply to frame ${f.seq} (${frame.payload.length} bytes)`, 'BAD_REPLY');
      if (err.code === 'BAD_CRC') return this.window.damagedCopy(f, 'the device saw a bad CRC');
      // A frame-level BAD_LENGTH answers a header whose LEN was damaged on the way (this host never sends too long a frame).
      if (err.code === 'BAD_LENGTH' && err.at === 0xffff) return this.window.damagedCopy(f, 'the device saw a damaged header');
      this.window.complete(f, true);
      const error = new DeviceError(`the device refused frame ${f.seq}: ${err.code} at operation ${err.at}`, [], err.code);
      for (const part of f.packed.parts) {
        this.packer.remove(part.call.refuse(part, f.seq, error));
        this.settle(part.call);
      }
      return;
    }
    if (frame.type !== FRAME.result) return this.failLink(`unexpected reply type 0x${frame.type.toString(16)} to frame ${f.seq}`, 'BAD_REPLY');
    if (this.window.queryRan(f, frame.payload.length)) {
      this.window.complete(f, true); // the query ran: the original never did
      this.window.counts.reframed++;
      const back = f.packed.parts.map((part) => [part, part.call.returned(part)] as const);
      this.packer.putBack(back.flatMap(([, seg]) => (seg ? [seg] : [])));
      for (const [part] of back) this.settle(part.call);
      return;
    }
    const ops = f.packed.ops;
    const results = safe(() => decodeReplyResults(ops, frame.payload));
    if (!results) {
      const expected = ops.reduce((n, o) => n + resultBytes(o), 0);
      return this.failLink(`the RESULT for frame ${f.seq} has ${frame.payload.length} bytes, expected ${expected}`, 'BAD_REPLY');
    }
    this.window.complete(f, true);
    let at = 0;
    for (const part of f.packed.parts) {
      part.call.answered(part, results.slice(at, at + part.slots.length));
      at += part.slots.length;
      this.settle(part.call);
    }
  }

  private settle(call: Call): void {
    if (!call.settled) return this.report(call);
    this.pending.delete(call);
    this.packer.remove(call.segments);
    if (call.refused) {
      call.reject(new DeviceError(call.refused.error.message, call.unconfirmed(), call.refused.error.deviceCode));
    } else {
      call.fulfil();
      this.report(call, true);
    }
  }

  private report(call: Call, final = false): void {
    if (!this.onProgress || call.total <= this.packer.maxOps) return;
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

  // ---- failure and reconnection ------------------------------------------------------------

  /** Fails the link once: every pending call is rejected with its own list (Call.unconfirmed), the port is closed. */
  private failLink(message: string, deviceCode: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopPause?.();
    this.window.pause();
    this.packer.clear();
    this.pending.fail(message, deviceCode);
    this.window.clear();
    for (const off of this.detach) off();
  }

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

  /**
   * The port went away: reopen it with backoff, ask the board who it is
   * (reopenSession), and carry on only if it kept our session; then every
   * frame in flight goes again, exactly-once through the replay cache.
   */
  private async reconnect(why: string): Promise<void> {
    const policy = this.reconnector!;
    this.state = 'down';
    this.window.pause();
    await this.transport.close().catch(() => {}); // after a failed write it may still be open, and hold the lock
    const wait = this.window.link.slackMs(1) + 300 * this.window.byteMs;
    const outcome = await reopenSession(policy, {
      pause: (ms) => this.pause(ms),
      gone: () => this.state !== 'down',
      nextSeq: () => this.nextSeq(),
      session: this.session,
      bootId: this.hello?.bootId ?? null,
      waitMs: wait,
    });
    if (this.state !== 'down') {
      await outcome.transport?.close().catch(() => {}); // closed meanwhile
      return;
    }
    if (outcome.transport) {
      this.transport = outcome.transport;
      this.decoder = this.attach(outcome.transport);
    }
    if ('failure' in outcome) {
      return this.failLink(outcome.failure ?? `${why}, and it did not come back after ${policy.attempts} attempts`, outcome.deviceCode);
    }
    this.adopt(outcome.hello);
    this.window.counts.reconnects++;
    this.state = 'up';
    this.window.resume(outcome.transport.baudRate);
    this.pump();
  }
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

export type { Reconnector, ReconnectOptions } from './session.js';
