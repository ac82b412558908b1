import { AtomikContext } from './context.js';
import { resolveEngine, type EngineChoice } from '../engine/select.js';
import type { Engine } from '../engine/types.js';
import { AtomikTypeError } from '../core/errors.js';
import { positionalTerm } from '../engine/js.js';
import { bytes, integer, object, oneOf, u64 } from '../core/validate.js';

export type FingerprintMode = 'xor-fold' | 'positional';

export interface FingerprintOptions {
  /**
   * 'xor-fold' (default): the reference fold, XOR of little-endian 64-bit
   * chunks. It cannot see two chunks swapped, or the same change made twice.
   * 'positional': each chunk is mixed with its position (and the length is
   * folded in), so those changes are detected too.
   */
  mode?: FingerprintMode;
  engine?: EngineChoice | Engine;
}

export { positionalTerm };

/**
 * Change detection by fingerprint: load() the reference data, update() with
 * the current data, then `changed` says whether they differ. Not a
 * cryptographic hash: a 64-bit value, for integrity, not authentication.
 */
export class Fingerprint {
  readonly mode: FingerprintMode;
  readonly engine: Engine;
  private readonly ctx = new AtomikContext({ engine: 'js' });

  constructor(options: FingerprintOptions = {}) {
    object(options, 'options');
    this.mode = options.mode === undefined ? 'xor-fold' : oneOf(options.mode, ['xor-fold', 'positional'] as const, 'options.mode');
    this.engine = resolveEngine(options.engine);
  }

  /** The fingerprint of data, without changing this object. */
  compute(data: Uint8Array | ArrayBufferView | ArrayBuffer): bigint {
    const b = bytes(data, 'data');
    return this.mode === 'positional' ? this.engine.foldPositional(b) : this.engine.foldXor(b);
  }

  /** Makes data's fingerprint the reference and clears the delta. Returns it. */
  load(data: Uint8Array | ArrayBufferView | ArrayBuffer): bigint {
    const value = this.compute(data);
    this.ctx.load(value);
    return value;
  }

  /** Fingerprints data and records its difference from the reference. Returns the fingerprint. */
  update(data: Uint8Array | ArrayBufferView | ArrayBuffer): bigint {
    const value = this.compute(data);
    this.ctx.swap(this.ctx.reference);
    this.ctx.accum(this.ctx.reference ^ value);
    return value;
  }

  /**
   * Records that one 64-bit chunk changed from oldChunk to newChunk, without
   * rescanning the data. The positional mode needs the chunk's position
   * (its byte offset / 8).
   */
  accumulateDelta(oldChunk: bigint, newChunk: bigint, position?: number): void {
    u64(oldChunk, 'oldChunk');
    u64(newChunk, 'newChunk');
    if (this.mode === 'positional') {
      if (position === undefined) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', "position is required in 'positional' mode");
      integer(position, 0, Number.MAX_SAFE_INTEGER, 'position');
      this.ctx.accum(positionalTerm(oldChunk, position) ^ positionalTerm(newChunk, position));
    } else {
      if (position !== undefined) integer(position, 0, Number.MAX_SAFE_INTEGER, 'position');
      this.ctx.accum(oldChunk ^ newChunk);
    }
  }

  /** Marks the current data as matching the reference again. */
  reset(): void {
    this.ctx.swap(this.ctx.reference);
  }

  /** True when the data differs from the reference. */
  get changed(): boolean {
    return !this.ctx.isClean;
  }

  /** The current fingerprint: reference XOR delta. */
  get value(): bigint {
    return this.ctx.read();
  }

  /** The XOR difference between the reference and the current fingerprint. */
  get delta(): bigint {
    return this.ctx.accumulator;
  }

  /** The reference fingerprint (set by load). */
  get reference(): bigint {
    return this.ctx.reference;
  }
}
