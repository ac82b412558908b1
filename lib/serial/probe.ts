// Which dialect answers on a port: our framed firmware (hello probe) or the
// official FPGA protocol (S command). Only bytes an idle official board
// ignores are sent before the S. On a noisy line either question or its
// answer may be lost, so the probe asks again, in rounds with growing
// waits, until its deadline; every failure is a DeviceError with a
// deviceCode (NO_ANSWER, BAD_REPLY, BAD_HELLO).
import { DeviceError } from '../core/errors.js';
import { RESYNC } from './frame.js';
import type { Transport } from './transport.js';
import type { ProgressListener } from '../core/progress.js';
import type { HelloInfo } from '../backend/device.js';
import type { Dialect } from '../backend/device.js';
import { probeHello } from './framed/session.js';

export interface ProbeResult {
  dialect: Dialect;
  /** What our firmware reported (framed only). */
  hello?: HelloInfo;
  /** The official board's S answer: true when its accumulator is zero (legacy only). */
  clean?: boolean;
}

export interface ProbeOptions {
  /** The first wait for an answer, doubled after each silent round up to 4 times (default 200 ms). */
  timeoutMs?: number;
  /** Ask until this long has passed (default 10,000 ms). */
  deadlineMs?: number;
  /** 'auto' (default) tries the framed protocol, then the official one. */
  dialect?: Dialect | 'auto';
  /** Told each step: the hello probe, then the S command. */
  onProgress?: ProgressListener;
}

/** How long a lone answer to S must stay alone: a second byte means something else is talking. */
const QUIET_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends S and collects what comes back within `ms`, then `QUIET_MS` more: the official board's one status byte, or anything else. */
async function askStatus(transport: Transport, ms: number, resync: boolean): Promise<number[]> {
  const received: number[] = [];
  let wake = () => {};
  const off = transport.onData((data) => {
    received.push(...data);
    wake();
  });
  try {
    if (resync) await transport.write(RESYNC);
    await transport.write(Uint8Array.of(0x53)); // 'S'
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (received.length > 0) await sleep(QUIET_MS);
    return received;
  } finally {
    off();
  }
}

export async function probe(transport: Transport, options: ProbeOptions = {}): Promise<ProbeResult> {
  const firstWaitMs = options.timeoutMs ?? 200;
  const deadline = performance.now() + (options.deadlineMs ?? 10_000);
  const wanted = options.dialect ?? 'auto';
  const steps = wanted === 'auto' ? 2 : 1;
  const progress = (done: number, message: string) => options.onProgress?.({ task: 'probe', done, total: steps, message });
  const path = transport.path;
  if (wanted === 'framed') {
    progress(0, `hello probe on ${path}`);
    const hello = await probeHello(transport, { deadline, firstWaitMs, maxWaitMs: 4 * firstWaitMs });
    if (!hello) throw new DeviceError(`no framed-protocol device answered the hello probe on ${path}`, [], 'NO_ANSWER');
    progress(steps, 'framed protocol');
    return { dialect: 'framed', hello };
  }
  let odd: number[] | null = null; // the last answer to S that was not the official board's
  for (let wait = firstWaitMs, round = 0; performance.now() < deadline; wait = Math.min(4 * firstWaitMs, wait * 2), round++) {
    if (wanted === 'auto') {
      if (round === 0) progress(0, `hello probe on ${path}`);
      // One attempt a round: the S question comes between.
      const hello = await probeHello(transport, { deadline: Math.min(deadline, performance.now() + wait), firstWaitMs: wait, maxWaitMs: wait });
      if (hello) {
        progress(steps, 'framed protocol');
        return { dialect: 'framed', hello };
      }
    }
    if (round === 0) progress(steps - 1, `official S command on ${path}`);
    const answer = await askStatus(transport, Math.max(1, Math.min(wait, deadline - performance.now())), wanted === 'legacy');
    if (answer.length === 1 && (answer[0] === 0x80 || answer[0] === 0x00)) {
      progress(steps, 'official protocol');
      return { dialect: 'legacy', clean: answer[0] === 0x80 };
    }
    if (answer.length > 0) odd = answer;
  }
  if (odd) {
    const shown = odd
      .slice(0, 8)
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(' ');
    throw new DeviceError(`unexpected answer ${shown}${odd.length > 8 ? ' ...' : ''} to S on ${path}`, [], 'BAD_REPLY');
  }
  const tried = wanted === 'auto' ? 'the framed hello probe and the official S command' : 'the official S command';
  throw new DeviceError(`no ATOMiK device answered on ${path} (tried ${tried})`, [], 'NO_ANSWER');
}
