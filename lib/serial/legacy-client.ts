// Host side of the official ATOMiK FPGA protocol (L/A/R/S/D, one context,
// XOR, no acks). It respects the board's quirks: L and A stream back to
// back at line rate; a command with a reply is sent only when nothing else
// is due, and nothing is sent until its reply is in; after a failed read
// the line is resynchronised (8 zero bytes) before anything else is sent.
import { DeviceError, type Unconfirmed } from '../errors.js';
import type { Transport } from './transport.js';

export interface LegacyClientOptions {
  /** Reply timeout beyond the time queued bytes need on the line (default 300 ms). */
  timeoutMs?: number;
  /** Largest chunk of streamed L/A bytes handed to the port at once (default 4096). */
  chunkBytes?: number;
}

type Job =
  | { kind: 'write'; bytes: Uint8Array; what: Unconfirmed[]; resolve(): void; reject(e: Error): void }
  | { kind: 'read'; command: 'R' | 'S' | 'D'; resolve(v: Uint8Array): void; reject(e: Error): void };

const REPLY_BYTES = { R: 8, S: 1, D: 8 } as const;

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
  private rx: number[] = [];
  private rxWaiter: (() => void) | null = null;
  private failure: DeviceError | null = null;
  private needsResync = false;

  constructor(transport: Transport, options: LegacyClientOptions = {}) {
    this.transport = transport;
    this.timeoutMs = options.timeoutMs ?? 300;
    this.chunkBytes = options.chunkBytes ?? 4096;
    this.byteMs = 10_000 / transport.baudRate;
    transport.onData((data) => {
      for (const b of data) this.rx.push(b);
      this.rxWaiter?.();
    });
    transport.onClose((err) => this.fail(new DeviceError(`the port ${transport.path} closed${err ? `: ${err.message}` : ''}`)));
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
    return this.write(bytes, [{ op: 'accum', index: 0, state: 'queued' }]);
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
    this.fail(new DeviceError('the accumulator was closed'));
    await this.transport.close();
  }

  private write(bytes: Uint8Array, what: Unconfirmed[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.jobs.push({ kind: 'write', bytes, what, resolve, reject });
      void this.run();
    });
  }

  private ask(c: 'R' | 'S' | 'D'): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.jobs.push({ kind: 'read', command: c, resolve, reject });
      void this.run();
    });
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
      while (this.jobs.length > 0 && !this.failure) {
        const job = this.jobs[0]!;
        if (this.needsResync) {
          await this.send(new Uint8Array(8));
          this.needsResync = false;
        }
        if (job.kind === 'write') {
          await this.send(job.bytes);
          this.jobs.shift();
          job.resolve();
          continue;
        }
        this.rx = []; // nothing is due: anything buffered is stale
        await this.send(Uint8Array.of(job.command.charCodeAt(0)));
        const reply = await this.collect(REPLY_BYTES[job.command], this.lineFreeAt - Date.now() + REPLY_BYTES[job.command] * this.byteMs + this.timeoutMs);
        this.jobs.shift();
        if (reply) {
          job.resolve(reply);
        } else {
          this.timeouts++;
          this.needsResync = true;
          job.reject(
            new DeviceError(`no ${REPLY_BYTES[job.command]}-byte reply to '${job.command}' from ${this.transport.path}`, [
              { op: job.command === 'S' ? 'status' : 'read', index: 0, state: 'sent' },
            ]),
          );
        }
      }
    } catch (err) {
      this.fail(new DeviceError(`write to ${this.transport.path} failed: ${(err as Error).message}`));
    } finally {
      this.running = false;
    }
  }

  private async collect(count: number, waitMs: number): Promise<Uint8Array | null> {
    const deadline = Date.now() + Math.max(waitMs, 1);
    while (this.rx.length < count && !this.failure) {
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
    if (this.rx.length < count) return null;
    return Uint8Array.from(this.rx.splice(0, count));
  }

  private fail(error: DeviceError): void {
    if (this.failure) return;
    const unconfirmed: Unconfirmed[] = [];
    for (const job of this.jobs) {
      if (job.kind === 'write') unconfirmed.push(...job.what);
      else unconfirmed.push({ op: job.command === 'S' ? 'status' : 'read', index: 0, state: 'queued' });
    }
    this.failure = new DeviceError(error.message, unconfirmed);
    for (const job of this.jobs.splice(0)) job.reject(this.failure);
    this.rxWaiter?.();
  }
}

function command(letter: 'L' | 'A', value: bigint): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = letter.charCodeAt(0);
  new DataView(out.buffer).setBigUint64(1, value);
  return out;
}
