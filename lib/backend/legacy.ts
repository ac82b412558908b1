// The Backend interface on a board of the official ATOMiK FPGA protocol:
// one context, XOR only, no acknowledgements. With `verify`, the state is
// read back after every write and compared with what the host expects, so
// damage on the unchecked line is detected instead of silently kept.
import type { Group } from '../core/group.js';
import { DeviceError } from '../core/errors.js';
import type { Op, OpResult } from '../core/operations.js';
import { indicesInRange } from '../core/validate.js';
import type { Backend, ContextStatus } from './types.js';
import type { LegacyLink, SerialInfo } from './device.js';

export class LegacyBackend implements Backend {
  readonly name = 'serial' as const;
  readonly dialect = 'legacy' as const;
  readonly contexts = 1;
  /** Verify mode: the host's view of the board (reference, accumulator). */
  private mirror = { ref: 0n, acc: 0n };

  private constructor(
    readonly serial: SerialInfo,
    readonly group: Group,
    private readonly client: LegacyLink,
    private readonly verify: boolean,
  ) {}

  static async start(serial: SerialInfo, group: Group, client: LegacyLink, verify: boolean): Promise<LegacyBackend> {
    if (group !== 'xor') throw new DeviceError(`the official FPGA protocol only has the 'xor' group, '${group}' was asked for`, [], 'BAD_GROUP');
    const backend = new LegacyBackend(serial, group, client, verify);
    if (verify) await backend.syncMirror();
    return backend;
  }

  /** Reads that timed out (each followed by a resync). */
  get retransmissions(): number {
    return this.client.timeouts;
  }

  async load(_index: number, value: bigint): Promise<void> {
    await this.client.load(value);
    this.mirror = { ref: value, acc: 0n };
    await this.check();
  }

  async accum(_index: number, delta: bigint): Promise<void> {
    await this.client.accum(delta);
    this.mirror.acc ^= delta;
    await this.check();
  }

  async accumMany(_index: number, deltas: BigUint64Array): Promise<void> {
    let combined = 0n;
    for (const d of deltas) combined ^= d; // read now: the caller may change the array once we return
    await this.client.accumMany(deltas);
    this.mirror.acc ^= combined;
    await this.check();
  }

  /** A board of the official protocol has one context: every index must be 0. */
  async scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void> {
    indicesInRange(indices, 1, 'indices');
    await this.accumMany(0, deltas);
  }

  read(): Promise<bigint> {
    return this.client.read();
  }

  async gather(indices: Uint32Array, out: BigUint64Array): Promise<BigUint64Array> {
    indicesInRange(indices, 1, 'indices');
    if (indices.length > 0) out.fill(await this.client.read());
    return out;
  }

  /** The official protocol has no swap: read, then load the new reference (not atomic against another writer). */
  async swap(_index: number, reference?: bigint): Promise<bigint> {
    const before = await this.client.read();
    await this.load(0, reference ?? before);
    return before;
  }

  async status(): Promise<ContextStatus> {
    return { clean: await this.client.isClean() };
  }

  async batch(ops: readonly Op[]): Promise<OpResult[]> {
    const results: OpResult[] = [];
    for (const o of ops) {
      switch (o.op) {
        case 'load':
          await this.load(0, o.value);
          results.push(null);
          break;
        case 'accum':
          await this.accum(0, o.value);
          results.push(null);
          break;
        case 'accumRun':
          await this.accumMany(0, o.deltas);
          results.push(null);
          break;
        case 'read':
          results.push(await this.read());
          break;
        case 'swap':
          results.push(await this.swap(0));
          break;
        case 'swapTo':
          results.push(await this.swap(0, o.value));
          break;
        case 'status':
          results.push((await this.status()).clean);
          break;
      }
    }
    return results;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async syncMirror(): Promise<void> {
    const ref = await this.client.reference();
    const state = await this.client.read();
    this.mirror = { ref, acc: ref ^ state };
  }

  /** Verify mode: the board must hold exactly what the host sent. */
  private async check(): Promise<void> {
    if (!this.verify) return;
    const expected = this.mirror.ref ^ this.mirror.acc;
    const actual = await this.client.read();
    if (actual !== expected) {
      await this.client.resync();
      await this.syncMirror();
      throw new DeviceError(
        `verify failed on ${this.serial.port}: the board holds 0x${actual.toString(16)}, expected 0x${expected.toString(16)} ` +
          '(bytes were lost or corrupted on the line; the official protocol cannot tell which)',
        [],
        'VERIFY',
      );
    }
  }
}
