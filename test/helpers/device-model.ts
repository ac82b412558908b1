// A framed-protocol device written in TypeScript, on the in-memory
// transport, for what the C firmware will not do: advertise hostile limits,
// refuse a chosen frame, stream garbage. Honest otherwise: it keeps a
// replay cache by SEQ and applies accumulates (XOR) to its contexts, so the
// host's exactly-once bookkeeping is checked against real state.
import { FRAME, FrameDecoder, encodeFrame } from '../../lib/serial/frame.js';
import type { Transport } from '../../lib/serial/transport.js';
import { WIRE_OP } from '../../lib/core/operations.js';

export interface ModelOptions {
  contexts?: number;
  maxOps?: number;
  maxPayload?: number;
  replayDepth?: number;
  /** Replaces the HELLO_REPLY payload (hostile devices). */
  hello?: Uint8Array;
  /** Frames (by order of arrival, 1-based, new frames only) answered with ERROR INDEX_RANGE instead of being applied. */
  refuse?: number[];
  /** Extra bytes appended to every RESULT (a device that answers the wrong size). */
  resultPadding?: number;
  /** Frames of any type (by order of arrival, 1-based, copies included) taken off the line unseen: no effect, no answer. */
  swallow?: (arrival: number) => boolean;
}

export interface DeviceModel {
  states: BigUint64Array;
  /** BATCH frames applied, in order. */
  applied: number[];
  /** Starts sending `bytes` of garbage every millisecond; returns a stop function. */
  babble(bytes: Uint8Array): () => void;
  /** Stops answering frames. */
  mute(): void;
  /** Serves another transport (a replugged cable), keeping its state and session. */
  attach(transport: Transport): void;
  /** Advertises other limits in later HELLO replies (a firmware update under the same session). */
  setLimits(limits: { maxOps?: number; maxPayload?: number; replayDepth?: number }): void;
  /** The largest BATCH payload and the most operations in one BATCH received since the last setLimits. */
  readonly largest: { payload: number; ops: number };
  /** Frames received so far, copies included. */
  readonly arrivals: number;
}

export function helloPayload(o: { contexts: number; maxOps: number; maxPayload: number; replayDepth: number; session?: number; bootId?: number }): Uint8Array {
  const name = new TextEncoder().encode('model');
  const out = new Uint8Array(13 + name.length + 8);
  const view = new DataView(out.buffer);
  out[0] = 2;
  out.set([0, 1, 0], 1);
  view.setUint16(4, o.contexts);
  view.setUint16(6, o.maxOps);
  view.setUint16(8, o.maxPayload);
  out[10] = 3;
  out[11] = o.replayDepth;
  out[12] = name.length;
  out.set(name, 13);
  view.setUint32(13 + name.length, o.session ?? 0);
  view.setUint32(17 + name.length, o.bootId ?? 0x1234);
  return out;
}

export function startDeviceModel(first: Transport, options: ModelOptions = {}): DeviceModel {
  let transport = first;
  const contexts = options.contexts ?? 16;
  const limits = { contexts, maxOps: options.maxOps ?? 256, maxPayload: options.maxPayload ?? 2304, replayDepth: options.replayDepth ?? 16 };
  const states = new BigUint64Array(contexts);
  const cache = new Map<number, Uint8Array>();
  const applied: number[] = [];
  const refuse = new Set(options.refuse ?? []);
  let session = 0;
  let frames = 0;
  let arrivals = 0;
  const largest = { payload: 0, ops: 0 };
  let muted = false;
  let decoder = new FrameDecoder();
  const reply = (seq: number, type: number, payload: Uint8Array, keep: boolean) => {
    const bytes = encodeFrame(seq, type, payload);
    if (keep) {
      cache.set(seq, bytes);
      if (cache.size > limits.replayDepth) cache.delete(cache.keys().next().value!);
    }
    void transport.write(bytes).catch(() => {});
  };
  const serve = (data: Uint8Array) => {
    if (muted) return;
    for (const f of decoder.push(data)) {
      if (options.swallow?.(++arrivals)) continue;
      if (f.type === FRAME.hello) {
        reply(f.seq, FRAME.helloReply, options.hello ?? helloPayload({ ...limits, session }), false);
        continue;
      }
      const seen = cache.get(f.seq);
      if (seen) {
        void transport.write(seen).catch(() => {});
        continue;
      }
      if (f.type === FRAME.open) {
        session = new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0);
        reply(f.seq, FRAME.result, new Uint8Array(0), true);
        continue;
      }
      frames++;
      largest.payload = Math.max(largest.payload, f.payload.length);
      if (refuse.has(frames)) {
        reply(f.seq, FRAME.error, Uint8Array.of(0x04, 0, 0), true);
        continue;
      }
      // Accumulates only (ACCUM, ACCUM_RUN): what the tests send.
      const view = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
      let ops = 0;
      for (let at = 0; at < f.payload.length; ops++) {
        const op = f.payload[at]!;
        const index = view.getUint16(at + 1);
        if (op === WIRE_OP.accum) {
          states[index]! ^= view.getBigUint64(at + 3);
          at += 11;
        } else if (op === WIRE_OP.accumRun) {
          const count = view.getUint16(at + 3);
          for (let k = 0; k < count; k++) states[index]! ^= view.getBigUint64(at + 5 + 8 * k);
          at += 5 + 8 * count;
        } else {
          throw new Error(`the device model does not do op ${op}`);
        }
      }
      largest.ops = Math.max(largest.ops, ops);
      applied.push(f.seq);
      reply(f.seq, FRAME.result, new Uint8Array(options.resultPadding ?? 0), true);
    }
  };
  transport.onData(serve);
  return {
    states,
    applied,
    babble(bytes) {
      const timer = setInterval(() => void transport.write(bytes).catch(() => {}), 1);
      return () => clearInterval(timer);
    },
    mute: () => {
      muted = true;
    },
    setLimits(next) {
      Object.assign(limits, next);
      largest.payload = 0;
      largest.ops = 0;
    },
    largest,
    get arrivals() {
      return arrivals;
    },
    attach(next) {
      transport = next;
      decoder = new FrameDecoder();
      next.onData(serve);
    },
  };
}
