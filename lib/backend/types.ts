import type { Op, OpResult } from '../core/operations.js';
import type { Group } from '../core/group.js';
import type { AtomikTable } from '../table/table.js';
import type { LinkStats } from './device.js';

export type BackendName = 'js' | 'native' | 'serial';

export interface ContextStatus {
  /** True when the context has no net pending delta (accumulator is the identity). */
  clean: boolean;
}

/**
 * What every backend implements: an accumulator of `contexts` contexts whose
 * operations are awaited, so a device that answers later fits behind the
 * same interface as the in-process engines. Arguments reach a backend
 * already validated (see Accumulator), except the index range of scatter
 * and gather, which each backend checks before it changes anything.
 */
export interface Backend {
  readonly name: BackendName;
  readonly contexts: number;
  readonly group: Group;
  /** The same contexts without promises, when they live in this process. */
  readonly table?: AtomikTable;
  /** What a framed serial link measured and did. */
  readonly link?: LinkStats;
  load(index: number, value: bigint): Promise<void>;
  accum(index: number, delta: bigint): Promise<void>;
  accumMany(index: number, deltas: BigUint64Array): Promise<void>;
  /** Rejects with a RangeError naming the first index out of range, changing nothing. */
  scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void>;
  read(index: number): Promise<bigint>;
  gather(indices: Uint32Array, out: BigUint64Array): Promise<BigUint64Array>;
  swap(index: number, reference?: bigint): Promise<bigint>;
  status(index: number): Promise<ContextStatus>;
  /** Ops arrive validated, in the internal shape. */
  batch(ops: readonly Op[]): Promise<OpResult[]>;
  close(): Promise<void>;
}
