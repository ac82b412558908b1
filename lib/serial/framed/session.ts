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
