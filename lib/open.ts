// open(): an Accumulator of N contexts on the best available backend, with
// one validation layer in front of every backend.
import { validateBatch, type BatchOp, type BatchResult } from './batch.js';
import { LocalBackend } from './backend/local.js';
import type { Backend, BackendName, ContextStatus } from './backend/types.js';
import { selectEngine, type EngineChoice } from './engine/select.js';
import { groupOption, type Group } from './group.js';
import type { AtomikTable } from './table.js';
import { MAX_TABLE_SIZE } from './table.js';
import { bigU64Array, index, indicesInRange, integer, sameLength, u32Array, u64 } from './validate.js';

export interface OpenOptions {
  /** 'auto' (default; ATOMIK_BACKEND overrides it), 'js' or 'native'. */
  backend?: EngineChoice;
  /** Number of contexts (default 256). */
  contexts?: number;
  /** 'xor' (default) or 'add'. */
  group?: Group;
}

export interface BackendInfo {
  /** The backend that runs the operations. */
  backend: BackendName;
  /** Why it was chosen. */
  reason: string;
  /** Backends that were not chosen, each with the reason. */
  rejected: Partial<Record<BackendName, string>>;
}

export const DEFAULT_CONTEXTS = 256;

/**
 * The common interface over every backend. Each method validates its
 * arguments (TypeError/RangeError naming the argument) before the backend
 * sees them; a rejected call changes nothing.
 */
export class Accumulator {
  readonly info: BackendInfo;
  private readonly backend: Backend;
  private closed = false;

  constructor(backend: Backend, info: BackendInfo) {
    this.backend = backend;
    this.info = info;
  }

  get contexts(): number {
    return this.backend.contexts;
  }

  get group(): Group {
    return this.backend.group;
  }

  /** Synchronous access to the same contexts when they live in this process (null on a device). */
  get table(): AtomikTable | null {
    return this.backend instanceof LocalBackend ? this.backend.table : null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private open(): void {
    if (this.closed) throw new Error('the accumulator is closed');
  }

  private ctx(i: unknown): number {
    return index(i, this.backend.contexts, 'index');
  }

  /** Runs fn after the checks; a throwing check becomes a rejected promise. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    this.open();
    return fn();
  }

  load(i: number, value: bigint): Promise<void> {
    return this.guard(() => this.backend.load(this.ctx(i), u64(value, 'value')));
  }

  accum(i: number, delta: bigint): Promise<void> {
    return this.guard(() => this.backend.accum(this.ctx(i), u64(delta, 'delta')));
  }

  accumMany(i: number, deltas: BigUint64Array): Promise<void> {
    return this.guard(() => this.backend.accumMany(this.ctx(i), bigU64Array(deltas, 'deltas')));
  }

  scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void> {
    return this.guard(() => {
      u32Array(indices, 'indices');
      bigU64Array(deltas, 'deltas');
      sameLength(indices, 'indices', deltas, 'deltas');
      indicesInRange(indices, this.backend.contexts, 'indices');
      return this.backend.scatter(indices, deltas);
    });
  }

  read(i: number): Promise<bigint> {
    return this.guard(() => this.backend.read(this.ctx(i)));
  }

  gather(indices: Uint32Array, out?: BigUint64Array): Promise<BigUint64Array> {
    return this.guard(() => {
      u32Array(indices, 'indices');
      const target = out === undefined ? new BigUint64Array(indices.length) : bigU64Array(out, 'out');
      sameLength(indices, 'indices', target, 'out');
      indicesInRange(indices, this.backend.contexts, 'indices');
      return this.backend.gather(indices, target);
    });
  }

  swap(i: number, newReference?: bigint): Promise<bigint> {
    return this.guard(() => {
      const k = this.ctx(i);
      return this.backend.swap(k, newReference === undefined ? undefined : u64(newReference, 'newReference'));
    });
  }

  status(i: number): Promise<ContextStatus> {
    return this.guard(() => this.backend.status(this.ctx(i)));
  }

  batch(ops: readonly BatchOp[]): Promise<BatchResult[]> {
    return this.guard(() => this.backend.batch(validateBatch(ops, this.backend.contexts)));
  }

  /** Releases the backend. Later calls reject; closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.close();
  }
}

/** Opens an accumulator; see OpenOptions. */
export async function open(options: OpenOptions = {}): Promise<Accumulator> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const contexts = options.contexts === undefined ? DEFAULT_CONTEXTS : integer(options.contexts, 1, MAX_TABLE_SIZE, 'options.contexts');
  const group = groupOption(options.group);
  const selection = selectEngine(options.backend, 'options.backend');
  const backend = new LocalBackend(contexts, group, selection.engine);
  return new Accumulator(backend, { backend: selection.engine.name, reason: selection.reason, rejected: selection.rejected });
}
