// The Backend interface on a board of our framed protocol: every method is
// one submission to the framed client, which packs, pipelines, resends and
// keeps the failure bookkeeping. Arguments arrive validated (Accumulator);
// what the client keeps until the device answers is copied at call time.
import type { Group } from '../core/group.js';
import type { Op, OpResult } from '../core/operations.js';
import { indicesInRange } from '../core/validate.js';
import type { Backend, ContextStatus } from './types.js';
import type { FramedLink, LinkStats, SerialInfo } from './device.js';

/** The caller may change or transfer its arrays once the call returned: runs are sent from copies. */
const own = (o: Op): Op => (o.op === 'accumRun' ? { op: 'accumRun', index: o.index, deltas: o.deltas.slice() } : o);

export class FramedBackend implements Backend {
  readonly name = 'serial' as const;
  readonly dialect = 'framed' as const;
  readonly contexts: number;

  constructor(
    readonly serial: SerialInfo,
    readonly group: Group,
    private readonly client: FramedLink,
  ) {
    this.contexts = serial.hello!.contexts;
  }

  /** Frames sent again so far. */
  get retransmissions(): number {
    return this.client.retransmissions;
  }

  /** What the link has measured and done: resends by cause, reconnects, frame budget, error rate. */
  get link(): LinkStats {
    return this.client.stats;
  }

  async load(index: number, value: bigint): Promise<void> {
    await this.client.submit([{ op: 'load', index, value }]);
  }

  async accum(index: number, delta: bigint): Promise<void> {
    await this.client.submit([{ op: 'accum', index, value: delta }]);
  }

  async accumMany(index: number, deltas: BigUint64Array): Promise<void> {
    await this.client.submit([{ op: 'accumRun', index, deltas: deltas.slice() }]);
  }

  async scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void> {
    indicesInRange(indices, this.contexts, 'indices'); // before any frame: all or nothing
    await this.client.submit(Array.from(indices, (index, k) => ({ op: 'accum' as const, index, value: deltas[k]! })));
  }

  async read(index: number): Promise<bigint> {
    return (await this.client.submit([{ op: 'read', index }]))[0] as bigint;
  }

  async gather(indices: Uint32Array, out: BigUint64Array): Promise<BigUint64Array> {
    indicesInRange(indices, this.contexts, 'indices');
    const results = await this.client.submit(Array.from(indices, (index) => ({ op: 'read' as const, index })));
    results.forEach((r, k) => (out[k] = r as bigint));
    return out;
  }

  async swap(index: number, reference?: bigint): Promise<bigint> {
    const op: Op = reference === undefined ? { op: 'swap', index } : { op: 'swapTo', index, value: reference };
    return (await this.client.submit([op]))[0] as bigint;
  }

  async status(index: number): Promise<ContextStatus> {
    return { clean: (await this.client.submit([{ op: 'status', index }]))[0] as boolean };
  }

  batch(ops: readonly Op[]): Promise<OpResult[]> {
    return this.client.submit(ops.map(own));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
