// The operations on a table of contexts, unchecked: every argument arrives
// read once and validated by a public method (AtomikTable, Accumulator),
// so nothing here checks again. Indices of batch calls are the one
// exception: the engines check their range in the same pass as the work.
import { readOpRecordResults, encodeOpRecords } from './batch.js';
import type { Op, OpResult } from '../core/operations.js';
import { AtomikRangeError } from '../core/errors.js';
import type { Engine } from '../engine/types.js';
import { arithmetic, type Group, type GroupArithmetic } from '../core/group.js';
import { indicesInRange } from '../core/validate.js';

export class TableCore {
  readonly arith: GroupArithmetic;
  readonly ref: BigUint64Array;
  readonly acc: BigUint64Array;

  constructor(
    readonly size: number,
    readonly group: Group,
    readonly engine: Engine,
  ) {
    this.arith = arithmetic(group);
    this.ref = new BigUint64Array(size);
    this.acc = new BigUint64Array(size);
  }

  load(i: number, value: bigint): void {
    this.ref[i] = value;
    this.acc[i] = 0n;
  }

  accum(i: number, delta: bigint): void {
    this.arith.accumulate(this.acc, i, delta);
  }

  accumMany(i: number, deltas: BigUint64Array): void {
    this.accum(i, this.engine.reduce(this.group, deltas));
  }

  read(i: number): bigint {
    return this.arith.combine(this.ref[i]!, this.acc[i]!);
  }

  swap(i: number, newReference?: bigint): bigint {
    const before = this.read(i);
    this.ref[i] = newReference ?? before;
    this.acc[i] = 0n;
    return before;
  }

  isClean(i: number): boolean {
    return this.acc[i] === 0n;
  }

  scatter(indices: Uint32Array, deltas: BigUint64Array): void {
    if (!this.engine.scatter(this.group, this.ref, this.acc, indices, deltas)) this.rangeError(indices);
  }

  gather(indices: Uint32Array, out: BigUint64Array): void {
    if (!this.engine.gather(this.group, this.ref, this.acc, indices, out)) this.rangeError(indices);
  }

  loadMany(indices: Uint32Array, values: BigUint64Array): void {
    if (!this.engine.load(this.ref, this.acc, indices, values)) this.rangeError(indices);
  }

  states(out: BigUint64Array): void {
    this.engine.states(this.group, this.ref, this.acc, out);
  }

  batch(ops: readonly Op[]): OpResult[] {
    const encoded = encodeOpRecords(ops);
    this.engine.exec(this.group, this.ref, this.acc, encoded);
    return readOpRecordResults(ops, encoded);
  }

  /** Engines refuse indices out of range and change nothing; this names the culprit. */
  private rangeError(indices: Uint32Array): never {
    indicesInRange(indices, this.size, 'indices');
    throw new AtomikRangeError('ERR_ATOMIK_INDEX_OUT_OF_RANGE', `indices are out of range [0, ${this.size})`);
  }
}
