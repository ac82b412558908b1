// The in-process backend: an AtomikTable on the js or native engine, behind
// the awaited Backend interface. Each call runs synchronously and returns a
// settled promise; `table` offers the same contexts without promises.
import type { BatchOp, BatchResult } from '../batch.js';
import type { Engine } from '../engine/types.js';
import type { Group } from '../group.js';
import { AtomikTable } from '../table.js';
import type { Backend, ContextStatus } from './types.js';

export class LocalBackend implements Backend {
  readonly name: 'js' | 'native';
  readonly table: AtomikTable;

  constructor(contexts: number, group: Group, engine: Engine) {
    this.name = engine.name;
    this.table = new AtomikTable(contexts, { group, engine });
  }

  get contexts(): number {
    return this.table.size;
  }

  get group(): Group {
    return this.table.group;
  }

  async load(index: number, value: bigint): Promise<void> {
    this.table.load(index, value);
  }

  async accum(index: number, delta: bigint): Promise<void> {
    this.table.accum(index, delta);
  }

  async accumMany(index: number, deltas: BigUint64Array): Promise<void> {
    this.table.accumMany(index, deltas);
  }

  async scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void> {
    this.table.scatter(indices, deltas);
  }

  async read(index: number): Promise<bigint> {
    return this.table.read(index);
  }

  async gather(indices: Uint32Array, out: BigUint64Array): Promise<BigUint64Array> {
    return this.table.gather(indices, out);
  }

  async swap(index: number, reference?: bigint): Promise<bigint> {
    return this.table.swap(index, reference);
  }

  async status(index: number): Promise<ContextStatus> {
    return { clean: this.table.isClean(index) };
  }

  async batch(ops: readonly BatchOp[]): Promise<BatchResult[]> {
    return this.table.batch(ops);
  }

  async close(): Promise<void> {}
}
