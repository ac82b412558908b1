// The package's numeric limits and defaults in one frozen object, so the
// main entry carries one name for all of them. Each value is defined once,
// in the module that enforces it; this only gathers them.
import { U64_MAX } from './core/validate.js';
import { MAX_TABLE_SIZE } from './table/table.js';
import { COUNTER_BITS, DELTA_MESSAGE_BYTES, MAX_COUNTER, MAX_ORIGIN, MIN_ORIGIN, ORIGIN_BITS } from './stream/message.js';
import { DEFAULT_WINDOW, MAX_WINDOW, MIN_WINDOW } from './stream/delta-stream.js';
import { DEFAULT_CONTEXTS } from './open.js';

export const limits = Object.freeze({
  /** The largest 64-bit value, 2^64 - 1: every delta, value and state lies in [0, U64_MAX]. */
  U64_MAX,
  /** The most contexts one AtomikTable (or in-process accumulator) holds. */
  MAX_TABLE_SIZE,
  /** Contexts open() gives an accumulator when `contexts` is not set. */
  DEFAULT_CONTEXTS,
  /** Bytes of a DeltaMessage in its wire form. */
  DELTA_MESSAGE_BYTES,
  /** A seq is an origin of ORIGIN_BITS and a wire counter of COUNTER_BITS. */
  ORIGIN_BITS,
  COUNTER_BITS,
  /** The origins an exactly-once DeltaStream may use. */
  MIN_ORIGIN,
  MAX_ORIGIN,
  /** The largest wire counter; it cycles through 1..MAX_COUNTER. */
  MAX_COUNTER,
  /** A DeltaStream receiver's window: counters tracked per origin. */
  DEFAULT_WINDOW,
  MIN_WINDOW,
  MAX_WINDOW,
});

export type Limits = typeof limits;
