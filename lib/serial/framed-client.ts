// Host side of the framed protocol: packs queued operations into frames,
// keeps a window of frames in flight with bounded bytes (accumulates only:
// other operations wait for what came before them), retransmits on
// timeout or BAD_CRC (the device's replay cache makes that exactly-once),
// and fails every unconfirmed operation with a DeviceError when the device
// stops answering or goes away.
import {
  FRAME,
  FRAME_OVERHEAD,
  FrameDecoder,
  decodeError,
  decodeHello,
  decodeResults,
  encodeFrame,
  encodeOpen,
  encodeOps,
  opBytes,
  resultBytes,
  type Frame,
  type HelloInfo,
} from './frame.js';
import type { Transport } from './transport.js';
import type { Op, OpResult } from '../operations.js';
import { DeviceError, type Unconfirmed } from '../errors.js';

// DeviceError lives with the other errors; imported from here before.
export { DeviceError, type Unconfirmed } from '../errors.js';

export interface FramedClientOptions {
  /** Reply timeout beyond the time the bytes need on the line (default 300 ms). */
  timeoutMs?: number;
  /** Retransmissions of one frame before giving up (default 6). */
  retries?: number;
  /** Frames in flight (default 8; at most half the device's replay cache). */
  window?: number;
  /** Bytes in flight (default 6144: two of the largest frames). */
  maxBytesInFlight?: number;
}

type Item =
  | { kind: 'ops'; ops: Op[]; results: OpResult[]; next: number; confirmed: number; done: boolean; resolve(r: OpResult[]): void; reject(e: Error): void }
  | { kind: 'raw'; type: number; payload: Uint8Array; done: boolean; resolve(f: Frame): void; reject(e: Error): void };

interface Part {
  item: Item;
  start: number;
  count: number;
}

interface InFlight {
  seq: number;
  bytes: Uint8Array;
  parts: Part[];
  ops: Op[];
  /** Holds order: sent alone, after everything before it is confirmed. */
  barrier: boolean;
  attempts: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Accumulates commute, so frames of only those may be in flight together and
 * be applied in any order (a retransmitted frame lands after later ones).
 * Any other op (load, read, swap, status) must see exactly the ops before it:
 * its frame is a barrier.
 */
const commutes = (o: Op) => o.op === 'accum' || o.op === 'accumRun';

export class FramedClient {
  hello: HelloInfo | null = null;
  /** Retransmissions so far (timeouts and BAD_CRC). */
  retransmissions = 0;
  private readonly transport: Transport;
  private readonly decoder = new FrameDecoder();
  private readonly timeoutMs: number;
  private readonly retries: number;
  private window: number;
  private readonly maxBytes: number;
  private maxOps = 256;
  private maxPayload = 2304;
  private seq = 0;
  private readonly queue = new Queue<Item>();
  private readonly inflight = new Map<number, InFlight>();
  private bytesInFlight = 0;
  private barriersInFlight = 0;
  private lineFreeAt = 0;
  private failure: Error | null = null;
  private readonly byteMs: number;

  constructor(transport: Transport, options: FramedClientOptions = {}) {
    this.transport = transport;
    this.timeoutMs = options.timeoutMs ?? 300;
    this.retries = options.retries ?? 6;
    this.window = options.window ?? 8;
    this.maxBytes = options.maxBytesInFlight ?? 6144;
    this.byteMs = 10_000 / transport.baudRate;
    transport.onData((data) => this.receive(data));
    transport.onClose((err) => this.fail(new DeviceError(`the port ${transport.path} closed${err ? `: ${err.message}` : ''}`)));
  }

  /** Asks the device who it is, then opens a session in the given group. */
  async start(group: 'xor' | 'add'): Promise<HelloInfo> {
    const reply = await this.raw(FRAME.hello, new Uint8Array(0));
    if (reply.type !== FRAME.helloReply) throw new DeviceError(`unexpected reply type 0x${reply.type.toString(16)} to HELLO`);
    const hello = decodeHello(reply.payload);
    this.hello = hello;
    this.maxOps = hello.maxOps;
    this.maxPayload = hello.maxPayload;
    this.window = Math.max(1, Math.min(this.window, Math.floor(hello.replayDepth / 2)));
    if (!hello.groups.includes(group)) throw new DeviceError(`the device does not support the '${group}' group (it has ${hello.groups.join(', ')})`);
    const session = (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
    const opened = await this.raw(FRAME.open, encodeOpen(session, group));
    if (opened.type === FRAME.error) throw new DeviceError(`OPEN refused: ${decodeError(opened.payload).code}`);
    return hello;
  }

  /** Queues operations; resolves with one result per op once the device confirmed them all. */
  submit(ops: Op[]): Promise<OpResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (ops.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'ops', ops: this.splitRuns(ops), results: [], next: 0, confirmed: 0, done: false, resolve, reject });
      this.pump();
    });
  }

  /** Largest ACCUM_RUN that fits one frame. */
  get maxRunDeltas(): number {
    return Math.floor((this.maxPayload - 5) / 8);
  }

  async close(): Promise<void> {
    this.fail(new DeviceError('the accumulator was closed'));
    await this.transport.close();
  }

  private raw(type: number, payload: Uint8Array): Promise<Frame> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'raw', type, payload, done: false, resolve, reject });
      this.pump();
    });
  }

  private splitRuns(ops: Op[]): Op[] {
    const max = this.maxRunDeltas;
    return ops.flatMap((o) => {
      if (o.op !== 'accumRun' || o.deltas.length <= max) return [o];
      const parts: Op[] = [];
      for (let at = 0; at < o.deltas.length; at += max) parts.push({ op: 'accumRun', index: o.index, deltas: o.deltas.subarray(at, at + max) });
      return parts;
    });
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0xffff ? 1 : this.seq + 1; // 0 is the probe's
    return this.seq;
  }

  private pump(): void {
    while (!this.failure && this.queue.length > 0 && this.inflight.size < this.window) {
      const head = this.queue.peek()!;
      const seq = this.nextSeq();
      const parts: Part[] = [];
      const ops: Op[] = [];
      let bytes: Uint8Array;
      if (head.kind === 'raw') {
        this.queue.shift();
        parts.push({ item: head, start: 0, count: 0 });
        bytes = encodeFrame(seq, head.type, head.payload);
      } else {
        let size = 0;
        let replySize = 0;
        while (this.queue.length > 0 && this.queue.peek()!.kind === 'ops' && ops.length < this.maxOps) {
          const item = this.queue.peek() as Extract<Item, { kind: 'ops' }>;
          const start = item.next;
          while (item.next < item.ops.length && ops.length < this.maxOps) {
            const o = item.ops[item.next]!;
            if (size + opBytes(o) > this.maxPayload || replySize + resultBytes(o) > this.maxPayload) break;
            size += opBytes(o);
            replySize += resultBytes(o);
            ops.push(o);
            item.next++;
          }
          if (item.next > start) parts.push({ item, start, count: item.next - start });
          if (item.next < item.ops.length) break; // frame full
          this.queue.shift();
        }
        bytes = encodeFrame(seq, FRAME.batch, encodeOps(ops));
      }
      const barrier = head.kind === 'raw' || !ops.every(commutes);
      const mustWait = this.barriersInFlight > 0 || (barrier && this.inflight.size > 0);
      if (mustWait || (this.inflight.size > 0 && this.bytesInFlight + bytes.length > this.maxBytes)) {
        this.unpack(parts, seq);
        break;
      }
      const f: InFlight = { seq, bytes, parts, ops, barrier, attempts: 0, timer: null };
      this.inflight.set(seq, f);
      this.bytesInFlight += bytes.length;
      if (barrier) this.barriersInFlight++;
      this.send(f);
    }
  }

  /** Puts the ops of a frame that could not be sent yet back at the head of the queue. */
  private unpack(parts: Part[], seq: number): void {
    this.seq = seq - 1 < 1 ? 0xffff : seq - 1;
    for (let i = parts.length - 1; i >= 0; i--) {
      const { item, start } = parts[i]!;
      if (item.kind === 'ops') item.next = start;
      if (this.queue.peek() !== item) this.queue.unshift(item);
    }
  }

  private send(f: InFlight): void {
    f.attempts++;
    const now = Date.now();
    const replyBytes = FRAME_OVERHEAD + f.ops.reduce((n, o) => n + resultBytes(o), 0) + 64;
    this.lineFreeAt = Math.max(this.lineFreeAt, now) + (f.bytes.length + replyBytes) * this.byteMs;
    if (f.timer) clearTimeout(f.timer);
    f.timer = setTimeout(() => this.onTimeout(f), this.lineFreeAt - now + this.timeoutMs);
    this.transport.write(f.bytes).catch((err: Error) => this.fail(new DeviceError(`write to ${this.transport.path} failed: ${err.message}`)));
  }

  private retransmit(f: InFlight, why: string): void {
    if (f.attempts > this.retries) {
      this.fail(new DeviceError(`no valid reply to frame ${f.seq} after ${f.attempts} attempts (${why})`));
      return;
    }
    this.retransmissions++;
    this.send(f);
  }

  private onTimeout(f: InFlight): void {
    f.timer = null;
    if (this.inflight.get(f.seq) === f) this.retransmit(f, 'timeout');
  }

  private receive(data: Uint8Array): void {
    for (const frame of this.decoder.push(data)) this.onFrame(frame);
    this.pump();
  }

  private onFrame(frame: Frame): void {
    const f = this.inflight.get(frame.seq);
    if (!f || this.failure) return; // a late duplicate or an unsolicited hello
    if (frame.type === FRAME.error) {
      const err = safe(() => decodeError(frame.payload));
      if (err && err.code === 'BAD_CRC') return this.retransmit(f, 'the device saw a bad CRC');
      this.complete(f);
      const error = new DeviceError(`the device refused frame ${f.seq}: ${err ? `${err.code} at operation ${err.at}` : 'malformed ERROR'}`, [], err?.code);
      for (const { item } of f.parts) this.rejectItem(item, error);
      return;
    }
    const raw = f.parts[0]?.item.kind === 'raw' ? f.parts[0].item : null;
    if (raw) {
      this.complete(f);
      raw.done = true;
      raw.resolve(frame);
      return;
    }
    if (frame.type !== FRAME.result) return this.retransmit(f, `unexpected reply type 0x${frame.type.toString(16)}`);
    const results = safe(() => decodeResults(f.ops, frame.payload));
    if (!results) return this.retransmit(f, 'a RESULT of the wrong size');
    this.complete(f);
    let at = 0;
    for (const { item, start, count } of f.parts) {
      if (item.kind !== 'ops' || item.done) continue;
      for (let k = 0; k < count; k++) item.results[start + k] = results[at + k]!;
      at += count;
      item.confirmed += count;
      if (item.confirmed === item.ops.length) {
        item.done = true;
        item.resolve(item.results);
      }
    }
  }

  private complete(f: InFlight): void {
    if (f.timer) clearTimeout(f.timer);
    this.inflight.delete(f.seq);
    this.bytesInFlight -= f.bytes.length;
    if (f.barrier) this.barriersInFlight--;
  }

  private rejectItem(item: Item, error: Error): void {
    if (item.done) return;
    item.done = true;
    this.queue.remove(item);
    item.reject(error);
  }

  /** Fails everything in flight and queued; later calls reject with the same error. */
  private fail(error: DeviceError): void {
    if (this.failure) return;
    const unconfirmed: Unconfirmed[] = [];
    const items = new Set<Item>();
    for (const f of [...this.inflight.values()].sort((a, b) => a.seq - b.seq)) {
      if (f.timer) clearTimeout(f.timer);
      for (const { item, start, count } of f.parts) {
        items.add(item);
        if (item.kind === 'ops' && !item.done) {
          for (let k = 0; k < count; k++) unconfirmed.push({ op: item.ops[start + k]!.op, index: item.ops[start + k]!.index, state: 'sent', seq: f.seq });
        }
      }
    }
    for (const item of this.queue.drain()) {
      items.add(item);
      if (item.kind === 'ops') {
        for (let k = item.next; k < item.ops.length; k++) unconfirmed.push({ op: item.ops[k]!.op, index: item.ops[k]!.index, state: 'queued' });
      }
    }
    this.failure = new DeviceError(error.message, unconfirmed, error.deviceCode);
    this.inflight.clear();
    this.bytesInFlight = 0;
    this.barriersInFlight = 0;
    for (const item of items) this.rejectItem(item, this.failure);
  }
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
