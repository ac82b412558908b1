// The in-process backend: a table on the js or native engine, behind the
// awaited Backend interface. Each call runs synchronously on the table's
// unchecked core (the Accumulator validated the arguments) and returns a
// settled promise; `table` offers the same contexts without promises.
import type { Op, OpResult } from '../core/operations.js';
import type { Engine } from '../engine/types.js';
import type { Group } from '../core/group.js';
import { AtomikTable, tableCore } from '../table/table.js';
import type { TableCore } from '../table/table-core.js';
import type { Backend, ContextStatus } from './types.js';

export class LocalBackend implements Backend {
  readonly name: 'js' | 'native';
  readonly table: AtomikTable;
  private readonly core: TableCore;

  constructor(contexts: number, group: Group, engine: Engine) {
    this.name = engine.name;
    this.table = new AtomikTable(contexts, { group, engine });
    this.core = tableCore(this.table);
  }

  get contexts(): number {
    return this.core.size;
  }

  get group(): Group {
    return this.core.group;
  }

  async load(index: number, value: bigint): Promise<void> {
    this.core.load(index, value);
  }

  async accum(index: number, delta: bigint): Promise<void> {
    this.core.accum(index, delta);
  }

  async accumMany(index: number, deltas: BigUint64Array): Promise<void> {
    this.core.accumMany(index, deltas);
  }

  async scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void> {
    this.core.scatter(indices, deltas);
  }

  async read(index: number): Promise<bigint> {
    return this.core.read(index);
  }

  async gather(indices: Uint32Array, out: BigUint64Array): Promise<BigUint64Array> {
    this.core.gather(indices, out);
    return out;
  }

  async swap(index: number, reference?: bigint): Promise<bigint> {
    return this.core.swap(index, reference);
  }

  async status(index: number): Promise<ContextStatus> {
    return { clean: this.core.isClean(index) };
  }

  async batch(ops: readonly Op[]): Promise<OpResult[]> {
    return this.core.batch(ops);
  }

  async close(): Promise<void> {}
}
