// The HELLO and OPEN exchange of the framed protocol, in one place: a probe
// asks who answers, a new session asks and then opens, a reconnect asks
// again and compares. Every failure is a DeviceError with a deviceCode.
import { DeviceError } from '../../core/errors.js';
import type { Group } from '../../core/group.js';
import { FRAME, HELLO_PROBE, RESYNC, decodeError, decodeHello, encodeFrame, encodeOpen, type Frame } from '../frame.js';
import type { Transport } from '../transport.js';
import type { HelloInfo } from '../../backend/device.js';
import { exchange, type Retrying, type Verdict } from './exchange.js';

/** The resynchronisation bytes and the hello probe, sent as one write (PROTOCOL.md, "Telling the dialects apart"). */
export const PROBE_BYTES = new Uint8Array([...RESYNC, ...HELLO_PROBE]);

/** Reads HELLO_REPLY; anything else, or a payload out of bounds, is a DeviceError (BAD_REPLY, BAD_HELLO). */
function helloOf(frame: Frame): HelloInfo {
  if (frame.type !== FRAME.helloReply) throw new DeviceError(`unexpected reply type 0x${frame.type.toString(16)} to HELLO`, [], 'BAD_REPLY');
  return decodeHello(frame.payload);
}

/** Our answer to `seq`, a damaged copy of the request (send again), or someone else's frame. */
function judgeReply(seq: number): (frame: Frame) => Verdict {
  return (frame) => {
    if (frame.seq !== seq) return 'skip';
    if (frame.type !== FRAME.error) return 'take';
    try {
      const { code, at } = decodeError(frame.payload);
      // The device saw our request damaged (bad CRC, or a header whose LEN was hit on the way).
      if (code === 'BAD_CRC' || (code === 'BAD_LENGTH' && at === 0xffff)) return 'again';
    } catch {
      // a malformed ERROR: the caller reports it
    }
    return 'take';
  };
}

/** The hello probe, repeated until a HELLO_REPLY of sequence 0 comes back; null if none did by the deadline. */
export async function probeHello(transport: Transport, retrying: Retrying): Promise<HelloInfo | null> {
  const frame = await exchange(transport, PROBE_BYTES, (f) => (f.seq === 0 && f.type === FRAME.helloReply ? 'take' : 'skip'), retrying);
  return frame && helloOf(frame);
}

/** HELLO with `seq`, repeated until answered; null if the device said nothing by the deadline. */
export async function askHello(transport: Transport, seq: number, retrying: Retrying): Promise<HelloInfo | null> {
  const frame = await exchange(transport, encodeFrame(seq, FRAME.hello), judgeReply(seq), retrying);
  return frame && helloOf(frame);
}

/**
 * OPEN `session` in `group` with `seq`, repeated until answered (the
 * device's replay cache answers a copy with the same reply). Resolves once
 * the device accepted it; a refusal or silence is a DeviceError.
 */
export async function openSession(transport: Transport, seq: number, session: number, group: Group, retrying: Retrying): Promise<void> {
  const frame = await exchange(transport, encodeFrame(seq, FRAME.open, encodeOpen(session, group)), judgeReply(seq), retrying);
  if (!frame) throw new DeviceError(`no answer to OPEN on ${transport.path}`, [], 'NO_ANSWER');
  if (frame.type === FRAME.error) {
    let code = 'BAD_REPLY';
    try {
      code = decodeError(frame.payload).code;
    } catch {
      // stays BAD_REPLY
    }
    throw new DeviceError(`OPEN refused: ${code}`, [], code);
  }
  if (frame.type !== FRAME.result || frame.payload.length !== 0)
    throw new DeviceError(`unexpected reply type 0x${frame.type.toString(16)} to OPEN`, [], 'BAD_REPLY');
}

/** A new session: HELLO, the group checked against what the device has, then OPEN with a random non-zero session. */
export async function startSession(
  transport: Transport,
  nextSeq: () => number,
  group: Group,
  retrying: Retrying,
): Promise<{ hello: HelloInfo; session: number }> {
  const hello = await askHello(transport, nextSeq(), retrying);
  if (!hello) throw new DeviceError(`no answer to HELLO on ${transport.path}`, [], 'NO_ANSWER');
  if (!hello.groups.includes(group))
    throw new DeviceError(`the device does not support the '${group}' group (it has ${hello.groups.join(', ')})`, [], 'BAD_GROUP');
  const session = (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
  await openSession(transport, nextSeq(), session, group, retrying);
  return { hello, session };
}

export interface ReconnectOptions {
  /** Reopen attempts before giving up (default 20). */
  attempts?: number;
  /** First wait before reopening, doubled after each failed attempt (default 100 ms). */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 2000 ms). */
  maxDelayMs?: number;
}

/** What the client needs to come back after the port went away. */
export interface Reconnector extends Required<ReconnectOptions> {
  reopen(): Promise<Transport>;
}

/** What a reconnect needs of the client it serves. */
export interface Reopening {
  /** A wait between attempts that the client can cut short (close()). */
  pause(ms: number): Promise<void>;
  /** True once the client was closed meanwhile. */
  gone(): boolean;
  nextSeq(): number;
  /** The session this host opened and the boot id the board had then. */
  session: number;
  bootId: number | null;
  /** The first wait for the HELLO reply on the reopened port. */
  waitMs: number;
}

/** The board is back in our session; or why not (failure null: closed meanwhile, or it never came back), with the port if one was opened. */
export type Reopened = { transport: Transport; hello: HelloInfo } | { transport: Transport | null; failure: string | null; deviceCode: string };

/**
 * Reopens the port with backoff and asks the board who it is: it is ours
 * only if it still has our session (and, when both are known, the same boot
 * id). A board that rebooted or was opened by another host is reported as
 * REBOOTED; a version-1 board cannot tell, so it is reported the same way.
 */
export async function reopenSession(policy: Reconnector, r: Reopening): Promise<Reopened> {
  const closed = async (transport: Transport | null): Promise<Reopened> => {
    await transport?.close().catch(() => {});
    return { transport: null, failure: null, deviceCode: 'CLOSED' };
  };
  let delay = policy.initialDelayMs;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    await r.pause(delay);
    delay = Math.min(policy.maxDelayMs, delay * 2);
    if (r.gone()) return closed(null);
    let transport: Transport;
    try {
      transport = await policy.reopen();
    } catch {
      continue;
    }
    if (r.gone()) return closed(transport);
    let hello: HelloInfo | null;
    try {
      hello = await askHello(transport, r.nextSeq(), { deadline: performance.now() + 7 * r.waitMs, firstWaitMs: r.waitMs, maxWaitMs: 4 * r.waitMs });
    } catch (err) {
      return {
        transport,
        failure: `after reconnecting to ${transport.path}: ${(err as Error).message}`,
        deviceCode: (err as DeviceError).deviceCode ?? 'BAD_HELLO',
      };
    }
    if (r.gone()) return closed(transport);
    if (!hello) {
      await transport.close().catch(() => {});
      continue;
    }
    const { session, bootId } = hello;
    if (session === null) {
      const failure = `${transport.path} came back, but its protocol version ${hello.protocol} cannot say whether the board rebooted: its contexts cannot be trusted`;
      return { transport, failure, deviceCode: 'REBOOTED' };
    }
    if (session !== r.session || (r.bootId !== null && bootId !== r.bootId)) {
      const failure = `the board at ${transport.path} rebooted or was opened by another host while the port was away (its session is ${session}, boot id ${bootId}): its contexts are gone`;
      return { transport, failure, deviceCode: 'REBOOTED' };
    }
    return { transport, hello };
  }
  return { transport: null, failure: null, deviceCode: 'PORT_CLOSED' };
}
