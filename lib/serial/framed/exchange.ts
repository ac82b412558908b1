// One request on a line that may lose, damage or duplicate it or its
// answer: the request is written again, with growing waits, until a frame
// it takes arrives or the deadline passes. The hello probe, HELLO and OPEN
// when a session starts, and HELLO after a reconnect all go through here,
// so opening survives the same lines the link itself does.
import { FrameDecoder, type Frame } from '../frame.js';
import type { Transport } from '../transport.js';

/** How long one exchange may take, and how its waits grow. */
export interface Retrying {
  /** performance.now() time by which an answer must have come. */
  deadline: number;
  /** Wait for an answer after the first write, doubled after each silent attempt up to maxWaitMs. */
  firstWaitMs: number;
  maxWaitMs: number;
}

/** 'take': the answer; 'again': a sign the request was damaged, send it again now; 'skip': not for us. */
export type Verdict = 'take' | 'again' | 'skip';

/** What an exchange ended with: the frame taken, or silence (null) once the deadline passed or the port failed. */
export async function exchange(transport: Transport, request: Uint8Array, judge: (frame: Frame) => Verdict, retrying: Retrying): Promise<Frame | null> {
  let answer: Frame | null = null;
  let wake: () => void = () => {};
  let again = false;
  const decoder = new FrameDecoder();
  const off = transport.onData((data) => {
    for (const frame of decoder.push(data)) {
      const verdict = judge(frame);
      if (verdict === 'skip') continue;
      if (verdict === 'take') answer ??= frame;
      else again = true;
      wake();
    }
  });
  let closed = false;
  const offClose = transport.onClose(() => {
    closed = true;
    wake();
  });
  try {
    let wait = retrying.firstWaitMs;
    while (answer === null && !closed) {
      const left = retrying.deadline - performance.now();
      if (left <= 0) break;
      again = false;
      try {
        await transport.write(request);
      } catch {
        return null; // the port is not there (yet)
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(wait, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if (answer !== null || again) wake();
      });
      wake = () => {};
      if (!again) wait = Math.min(retrying.maxWaitMs, wait * 2);
    }
    return answer;
  } finally {
    off();
    offClose();
  }
}
