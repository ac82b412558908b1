// Host side of the official ATOMiK FPGA protocol (L/A/R/S/D, one context,
// XOR, no acks). It respects the board's quirks: L and A stream back to
// back at line rate; a command with a reply is sent only when nothing else
// is due, and nothing is sent until its reply is in; after a failed read
// the line is resynchronised (8 zero bytes) before anything else is sent.
import { DeviceError, type Unconfirmed } from '../core/errors.js';
import { PendingCalls, type PendingCall } from './pending.js';
import type { Transport } from './transport.js';

export interface LegacyClientOptions {
  /** Reply timeout beyond the time queued bytes need on the line (default 300 ms). */
  timeoutMs?: number;
  /** Largest chunk of streamed L/A bytes handed to the port at once (default 4096). */
  chunkBytes?: number;
}

type Job = PendingCall & { started: boolean } & (
    { kind: 'write'; bytes: Uint8Array; what: Unconfirmed[]; resolve(): void } | { kind: 'read'; command: 'R' | 'S' | 'D'; resolve(v: Uint8Array): void }
  );

const REPLY_BYTES = { R: 8, S: 1, D: 8 } as const;
/** The official board never speaks unasked: this many bytes nobody asked for means something else is on the line. */
export const LEGACY_GARBAGE_LIMIT = 4096;

export class LegacyClient {
  /** Reads that timed out (each followed by a resync). */
  timeouts = 0;
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly chunkBytes: number;
  private readonly byteMs: number;
  private readonly jobs: Job[] = [];
  private running = false;
  private lineFreeAt = 0;
  /** The reply being collected: at most 8 bytes are ever kept. */
  private readonly rx = new Uint8Array(8);
  private rxLen = 0;
  private rxWant = 0;
  private unasked = 0;
  private rxWaiter: (() => void) | null = null;
  private readonly pending: PendingCalls;
  private needsResync = false;

  constructor(transport: Transport, options: LegacyClientOptions = {}) {
    this.transport = transport;
    this.timeoutMs = options.timeoutMs ?? 300;
    this.chunkBytes = options.chunkBytes ?? 4096;
    this.byteMs = 10_000 / transport.baudRate;
    this.pending = new PendingCalls(() => transport.close());
    transport.onData((data) => this.receive(data));
    transport.onClose((err) => this.fail(`the port ${transport.path} closed${err ? `: ${err.message}` : ''}`, 'PORT_CLOSED'));
  }

  load(value: bigint): Promise<void> {
    return this.write(command('L', value), [{ op: 'load', index: 0, state: 'queued' }]);
  }

  accum(delta: bigint): Promise<void> {
    return this.write(command('A', delta), [{ op: 'accum', index: 0, state: 'queued' }]);
  }

  /** Streams one A command per delta. */
  accumMany(deltas: BigUint64Array): Promise<void> {
    const bytes = new Uint8Array(9 * deltas.length);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < deltas.length; i++) {
      bytes[9 * i] = 0x41;
      view.setBigUint64(9 * i + 1, deltas[i]!);
    }
    return this.write(bytes, [{ op: 'accumRun', index: 0, state: 'queued' }]);
  }

  async read(): Promise<bigint> {
    return new DataView((await this.ask('R')).buffer).getBigUint64(0);
  }

  /** Reference only (single-bank boards). */
  async reference(): Promise<bigint> {
    return new DataView((await this.ask('D')).buffer).getBigUint64(0);
  }

  /** True when the accumulator is zero (S answers 0x80). */
  async isClean(): Promise<boolean> {
    return (await this.ask('S'))[0] === 0x80;
  }

  /** Finishes any half-received command on the board: 8 zero bytes. */
  resync(): Promise<void> {
    return this.write(new Uint8Array(8), []);
  }

  async close(): Promise<void> {
    this.fail('the accumulator was closed', 'CLOSED');
    await this.transport.close();
  }

  private receive(data: Uint8Array): void {
    if (this.pending.failed) return;
    for (const b of data) {
      if (this.rxLen < this.rxWant) this.rx[this.rxLen++] = b;
      else this.unasked++;
    }
    if (this.unasked > LEGACY_GARBAGE_LIMIT) {
      this.fail(`the board sent ${this.unasked} bytes nobody asked for (a board of the official protocol answers only R, S and D)`, 'GARBAGE');
    }
    this.rxWaiter?.();
  }

  private write(bytes: Uint8Array, what: Unconfirmed[]): Promise<void> {
    if (this.pending.failed) return Promise.reject(this.pending.refusal(what));
    return new Promise((resolve, reject) => {
      const job: Job = {
        kind: 'write',
        bytes,
        what,
        started: false,
        resolve,
        reject,
        unconfirmed: () => what.map((u) => ({ ...u, state: job.started ? 'sent' : 'queued' })),
      };
      this.enqueue(job);
    });
  }

  private ask(c: 'R' | 'S' | 'D'): Promise<Uint8Array> {
    const what: Unconfirmed[] = [{ op: c === 'S' ? 'status' : 'read', index: 0, state: 'queued' }];
    if (this.pending.failed) return Promise.reject(this.pending.refusal(what));
    return new Promise((resolve, reject) => {
      const job: Job = {
        kind: 'read',
        command: c,
        started: false,
        resolve,
        reject,
        unconfirmed: () => what.map((u) => ({ ...u, state: job.started ? 'sent' : 'queued' })),
      };
      this.enqueue(job);
    });
  }

  private enqueue(job: Job): void {
    this.pending.add(job);
    this.jobs.push(job);
    void this.run();
  }

  /** Takes the job at the head off the queue once it is done. */
  private finish(job: Job): void {
    this.jobs.shift();
    this.pending.delete(job);
  }

  /**
   * Streams bytes chunk by chunk. A chunk the port has not taken within its
   * line time plus the timeout means the board stopped reading: that fails
   * the link rather than waiting forever.
   */
  private async send(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length; at += this.chunkBytes) {
      const chunk = bytes.subarray(at, at + this.chunkBytes);
      this.lineFreeAt = Math.max(this.lineFreeAt, Date.now()) + chunk.length * this.byteMs;
      const waitMs = Math.round(this.lineFreeAt - Date.now() + this.timeoutMs);
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the board stopped taking bytes (${chunk.length} not written within ${waitMs} ms)`)), waitMs);
      });
      try {
        await Promise.race([this.transport.write(chunk), stalled]);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Runs jobs one at a time, in order. */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.jobs.length > 0 && !this.pending.failed) {
        const job = this.jobs[0]!;
        if (this.needsResync) {
          await this.send(new Uint8Array(8));
          this.needsResync = false;
        }
        job.started = true;
        if (job.kind === 'write') {
          await this.send(job.bytes);
          this.finish(job);
          job.resolve();
          continue;
        }
        const want = REPLY_BYTES[job.command];
        this.rxLen = 0; // nothing is due: anything received before is stale
        this.rxWant = want;
        this.unasked = 0;
        await this.send(Uint8Array.of(job.command.charCodeAt(0)));
        const reply = await this.collect(want, this.lineFreeAt - Date.now() + want * this.byteMs + this.timeoutMs);
        this.rxWant = 0;
        if (this.pending.failed) break;
        this.finish(job);
        if (reply) {
          job.resolve(reply);
        } else {
          this.timeouts++;
          this.needsResync = true;
          job.reject(new DeviceError(`no ${want}-byte reply to '${job.command}' from ${this.transport.path}`, job.unconfirmed(), 'NO_REPLY'));
        }
      }
    } catch (err) {
      this.fail(`write to ${this.transport.path} failed: ${(err as Error).message}`, 'PORT_CLOSED');
    } finally {
      this.running = false;
    }
  }

  private async collect(count: number, waitMs: number): Promise<Uint8Array | null> {
    const deadline = Date.now() + Math.max(waitMs, 1);
    while (this.rxLen < count && !this.pending.failed) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.rxWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.rxWaiter = null;
    }
    if (this.rxLen < count) return null;
    return this.rx.slice(0, count);
  }

  /** Fails the link: every pending call is rejected with its own list and the port is released. */
  private fail(message: string, deviceCode: string): void {
    if (this.pending.failed) return;
    this.pending.fail(message, deviceCode);
    this.jobs.length = 0;
    this.rxWaiter?.();
  }
}

function command(letter: 'L' | 'A', value: bigint): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = letter.charCodeAt(0);
  new DataView(out.buffer).setBigUint64(1, value);
  return out;
}
