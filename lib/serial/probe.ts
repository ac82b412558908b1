// Which dialect answers on a port: our framed firmware (hello probe) or the
// official FPGA protocol (S command). Only bytes an idle official board
// ignores are sent before the S.
import { DeviceError } from '../core/errors.js';
import { FRAME, FrameDecoder, HELLO_PROBE, RESYNC, decodeHello } from './frame.js';
import type { Transport } from './transport.js';
import type { ProgressListener } from '../core/progress.js';
import type { HelloInfo } from '../backend/device.js';
import type { Dialect } from '../backend/device.js';

export interface ProbeResult {
  dialect: Dialect;
  /** What our firmware reported (framed only). */
  hello?: HelloInfo;
  /** The official board's S answer: true when its accumulator is zero (legacy only). */
  clean?: boolean;
}

/** Listens (beside any other listener) until `take` finds something or `ms` pass. */
function waitFor<T>(transport: Transport, ms: number, take: (data: Uint8Array) => T | null): Promise<T | null> {
  return new Promise((resolve) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      resolve(null);
    }, ms);
    off = transport.onData((data) => {
      const found = take(data);
      if (found !== null) {
        clearTimeout(timer);
        off();
        resolve(found);
      }
    });
  });
}

export interface ProbeOptions {
  /** How long each probe waits for an answer (default 500 ms). */
  timeoutMs?: number;
  /** 'auto' (default) tries the framed protocol, then the official one. */
  dialect?: Dialect | 'auto';
  /** Told each step: the hello probe, then the S command. */
  onProgress?: ProgressListener;
}

export async function probe(transport: Transport, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 500;
  const wanted = options.dialect ?? 'auto';
  const steps = wanted === 'auto' ? 2 : 1;
  let step = 0;
  const progress = (message: string) => options.onProgress?.({ task: 'probe', done: step++, total: steps, message });
  if (wanted !== 'legacy') {
    const decoder = new FrameDecoder();
    const waiting = waitFor(transport, timeoutMs, (data) => {
      const hello = decoder.push(data).find((f) => f.type === FRAME.helloReply && f.seq === 0);
      if (!hello) return null;
      try {
        return decodeHello(hello.payload);
      } catch (err) {
        return err as Error; // a HELLO out of bounds: said, not thrown from the data listener
      }
    });
    const probeBytes = new Uint8Array(16);
    probeBytes.set(RESYNC);
    probeBytes.set(HELLO_PROBE, 8);
    progress(`hello probe on ${transport.path}`);
    await transport.write(probeBytes);
    const hello = await waiting;
    if (hello instanceof Error) throw hello;
    if (hello) {
      options.onProgress?.({ task: 'probe', done: steps, total: steps, message: 'framed protocol' });
      return { dialect: 'framed', hello };
    }
    if (wanted === 'framed') throw new DeviceError(`no framed-protocol device answered the hello probe on ${transport.path}`, [], 'NO_ANSWER');
  }
  const received: number[] = [];
  const waiting = waitFor(transport, timeoutMs, (data) => {
    received.push(...data);
    return received.length >= 1 ? received[0]! : null;
  });
  progress(`official S command on ${transport.path}`);
  if (wanted === 'legacy') await transport.write(RESYNC);
  await transport.write(Uint8Array.of(0x53)); // 'S'
  const status = await waiting;
  if (status === 0x80 || status === 0x00) {
    // A late second byte would mean something else is talking: let it drain.
    await new Promise((r) => setTimeout(r, 20));
    options.onProgress?.({ task: 'probe', done: steps, total: steps, message: 'official protocol' });
    return { dialect: 'legacy', clean: status === 0x80 };
  }
  throw new DeviceError(
    status === null
      ? `no ATOMiK device answered on ${transport.path} (tried the framed hello probe and the official S command)`
      : `unexpected answer 0x${status.toString(16)} to S on ${transport.path}`,
  );
}
