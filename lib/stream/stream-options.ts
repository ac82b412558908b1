// What a DeltaStream is made from: its options, their limits and the
// session a new sender takes.
import { randomInt } from 'node:crypto';
import type { Group } from '../core/group.js';
import type { EngineChoice } from '../engine/select.js';
import type { Engine } from '../engine/types.js';
import type { AtomikTable } from '../table/table.js';
import { optionKeys } from '../core/validate.js';

/** Receiver window: how many counters per origin a receiver tracks (see receive()). */
export const DEFAULT_WINDOW = 4096;
export const MIN_WINDOW = 32;
export const MAX_WINDOW = 2 ** 20;
/** Largest outbox (messages queued for pending()). */
export const MAX_OUTBOX = 2 ** 24;

export interface DeltaStreamOptions {
  /** 'xor' (default) or 'add'; with `table`, the table's group (giving another one is an error). */
  group?: Group;
  /**
   * This sender's origin id (1..255). With it, accum() numbers messages as
   * origin + counter (see packSeq), so that receivers can use receive() to
   * apply each message exactly once. Without it, messages carry the
   * reference numbering (origin 0), which receive() refuses.
   */
  origin?: number;
  /** Messages this sender numbered before (resume after a restart); the next one is counter + 1. Default 0. */
  counter?: number;
  /**
   * This sender's session (a bigint in [1, 2^64)): receivers take a later
   * session from the same origin for a sender that started again from
   * counter 1 (see sessionMessage()). Default: a new one from the clock
   * (milliseconds since 1970 times 2^20, plus 20 random bits) when the
   * stream has an origin and no `counter`; none otherwise.
   */
  session?: bigint;
  /** Counters tracked per origin by receive(): a power of two in [32, 2^20], default 4096. */
  window?: number;
  /** Capacity of the queue that pending() drains; 0 (default) keeps no queue. accum() refuses a message when it is full. */
  outbox?: number;
  /** Apply to this table's contexts (addr = table index) instead of the stream's own. */
  table?: AtomikTable;
  /** Batch kernels for the stream's own contexts ('auto', 'js', 'native' or an Engine); a table brings its own. */
  engine?: EngineChoice | Engine;
}

/** A new session: ordered by start time (ms since 1970 in the high bits), 20 random bits below. */
export function newSession(): bigint {
  return (BigInt(Date.now()) << 20n) | BigInt(randomInt(1, 2 ** 20));
}

export const STREAM_KEYS = optionKeys<DeltaStreamOptions>({
  group: true,
  origin: true,
  counter: true,
  session: true,
  window: true,
  outbox: true,
  table: true,
  engine: true,
});
