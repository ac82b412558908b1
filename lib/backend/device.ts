// What a board tells about itself and its link, and what the serial
// backends need of a device client. The clients under lib/serial/ implement
// these contracts; the backends here drive them without knowing the port.
import type { Op, OpResult } from '../core/operations.js';

/** The two ways of talking to a board: our framed protocol, or the official ATOMiK board's. */
export type Dialect = 'framed' | 'legacy';

/** A framed board's HELLO reply, as decoded (firmware/PROTOCOL.md). */
export interface HelloInfo {
  protocol: number;
  firmware: string;
  contexts: number;
  maxOps: number;
  maxPayload: number;
  groups: ('xor' | 'add')[];
  replayDepth: number;
  name: string;
  /** Version 2: the session of the device's last OPEN since boot (0: none); null for version 1. */
  session: number | null;
  /** Version 2: chosen by the device at boot (0: it cannot tell boots apart); null for version 1. */
  bootId: number | null;
}

/** What a serial backend reports about its board. */
export interface SerialInfo {
  port: string;
  dialect: Dialect;
  hello: HelloInfo | null;
}

/** What the framed link has measured and done. */
export interface LinkStats {
  /** Frames sent again, for any reason. */
  retransmissions: number;
  /** ... because a later frame was answered first, or the device or host saw the frame damaged. */
  fastRetransmissions: number;
  /** ... because its reply timed out. */
  timeouts: number;
  /** Timeouts found to have been too short (the reply to the earlier copy came in right after the resend). */
  spuriousTimeouts: number;
  /** Frames confirmed. */
  frames: number;
  /** Frames too large for the line whose operations were sent again in smaller frames. */
  reframed: number;
  /** Reconnections after the port went away. */
  reconnects: number;
  /** The current frame budget in payload bytes (request plus reply) and the measured damaged frames per byte. */
  frameBudget: number;
  errorRate: number;
}

/** A framed-protocol client: packs, pipelines and resends submitted ops, exactly once. */
export interface FramedLink {
  submit(ops: readonly Op[]): Promise<OpResult[]>;
  readonly retransmissions: number;
  readonly stats: LinkStats;
  close(): Promise<void>;
}

/** A client of the official protocol: one context, no acknowledgements. */
export interface LegacyLink {
  /** Reads that timed out (each followed by a resync). */
  readonly timeouts: number;
  load(value: bigint): Promise<void>;
  accum(delta: bigint): Promise<void>;
  accumMany(deltas: BigUint64Array): Promise<void>;
  read(): Promise<bigint>;
  reference(): Promise<bigint>;
  isClean(): Promise<boolean>;
  resync(): Promise<void>;
  close(): Promise<void>;
}
