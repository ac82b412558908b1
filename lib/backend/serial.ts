// The serial backend: the Backend interface carried out on a device, in
// either dialect. Arguments arrive validated (see Accumulator).
import type { Group } from '../group.js';
import { DeviceError } from '../errors.js';
import { FramedClient, type FramedClientOptions } from '../serial/framed-client.js';
import type { HelloInfo } from '../serial/frame.js';
import type { Op, OpResult } from '../operations.js';
import { LegacyClient } from '../serial/legacy-client.js';
import { probe, type Dialect } from '../serial/probe.js';
import { openSerialTransport, type Transport } from '../serial/transport.js';
import { indicesInRange } from '../validate.js';
import type { Backend, ContextStatus } from './types.js';

export interface SerialOptions extends FramedClientOptions {
  /** The device path, e.g. /dev/ttyUSB0 or a virtual board's PTY. */
  port: string;
  baudRate?: number;
  /** 'auto' (default) probes; 'framed' or 'legacy' skip the other dialect. */
  dialect?: Dialect | 'auto';
  /** Exclusive lock on the port (default true). */
  lock?: boolean;
  /** Probe timeout in ms (default 500). */
  probeTimeoutMs?: number;
  /**
   * Legacy dialect only: read the state back after every write and compare
   * it with what the host expects, so a byte lost or corrupted on the
   * unchecked line is detected (a DeviceError) instead of silently kept.
   */
  verify?: boolean;
}

export interface SerialInfo {
  port: string;
  dialect: Dialect;
  hello: HelloInfo | null;
}

function legacyOnly(group: Group): void {
  if (group !== 'xor') throw new DeviceError(`the official FPGA protocol only has the 'xor' group, '${group}' was asked for`);
}

export class SerialBackend implements Backend {
  readonly name = 'serial' as const;
  readonly contexts: number;
  readonly group: Group;
  readonly serial: SerialInfo;
  private readonly framed: FramedClient | null;
  private readonly legacy: LegacyClient | null;
  private readonly verify: boolean;
  /** Legacy verify mode: the host's view of the board (reference, accumulator). */
  private mirror = { ref: 0n, acc: 0n };

  private constructor(info: SerialInfo, group: Group, framed: FramedClient | null, legacy: LegacyClient | null, verify: boolean) {
    this.serial = info;
    this.group = group;
    this.framed = framed;
    this.legacy = legacy;
    this.verify = verify;
    this.contexts = info.hello ? info.hello.contexts : 1;
  }

  static async open(options: SerialOptions, group: Group): Promise<SerialBackend> {
    const transport: Transport = await openSerialTransport(options.port, { baudRate: options.baudRate, lock: options.lock });
    try {
      const found = await probe(transport, { timeoutMs: options.probeTimeoutMs, dialect: options.dialect });
      if (found.dialect === 'framed') {
        const client = new FramedClient(transport, options);
        const hello = await client.start(group);
        return new SerialBackend({ port: options.port, dialect: 'framed', hello }, group, client, null, false);
      }
      legacyOnly(group);
      const client = new LegacyClient(transport, { timeoutMs: options.timeoutMs });
      const backend = new SerialBackend({ port: options.port, dialect: 'legacy', hello: null }, group, null, client, options.verify ?? false);
      if (backend.verify) await backend.syncMirror();
      return backend;
    } catch (err) {
      await transport.close().catch(() => {});
      throw err;
    }
  }

  /** Device failures so far (framed: retransmissions; legacy: read timeouts). */
  get retransmissions(): number {
    return this.framed ? this.framed.retransmissions : this.legacy!.timeouts;
  }

  async load(index: number, value: bigint): Promise<void> {
    if (this.framed) return void (await this.framed.submit([{ op: 'load', index, value }]));
    await this.legacy!.load(value);
    this.mirror = { ref: value, acc: 0n };
    await this.check();
  }

  async accum(index: number, delta: bigint): Promise<void> {
    if (this.framed) return void (await this.framed.submit([{ op: 'accum', index, value: delta }]));
    await this.legacy!.accum(delta);
    this.mirror.acc ^= delta;
    await this.check();
  }

  async accumMany(index: number, deltas: BigUint64Array): Promise<void> {
    if (this.framed) return void (await this.framed.submit([{ op: 'accumRun', index, deltas }]));
    await this.legacy!.accumMany(deltas);
    for (const d of deltas) this.mirror.acc ^= d;
    await this.check();
  }

  async scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void> {
    indicesInRange(indices, this.contexts, 'indices'); // before any frame: all or nothing
    if (this.framed) {
      await this.framed.submit(Array.from(indices, (index, k) => ({ op: 'accum' as const, index, value: deltas[k]! })));
      return;
    }
    await this.accumMany(0, deltas); // a legacy board has one context: every index is 0
  }

  async read(index: number): Promise<bigint> {
    if (this.framed) return (await this.framed.submit([{ op: 'read', index }]))[0] as bigint;
    return this.legacy!.read();
  }

  async gather(indices: Uint32Array, out: BigUint64Array): Promise<BigUint64Array> {
    indicesInRange(indices, this.contexts, 'indices');
    if (this.framed) {
      const results = await this.framed.submit(Array.from(indices, (index) => ({ op: 'read' as const, index })));
      results.forEach((r, k) => (out[k] = r as bigint));
      return out;
    }
    if (indices.length > 0) out.fill(await this.legacy!.read());
    return out;
  }

  async swap(index: number, reference?: bigint): Promise<bigint> {
    if (this.framed) {
      const op: Op = reference === undefined ? { op: 'swap', index } : { op: 'swapTo', index, value: reference };
      return (await this.framed.submit([op]))[0] as bigint;
    }
    // The official protocol has no swap: read, then load the new reference.
    const before = await this.legacy!.read();
    await this.load(0, reference ?? before);
    return before;
  }

  async status(index: number): Promise<ContextStatus> {
    if (this.framed) return { clean: (await this.framed.submit([{ op: 'status', index }]))[0] as boolean };
    return { clean: await this.legacy!.isClean() };
  }

  async batch(ops: readonly Op[]): Promise<OpResult[]> {
    if (this.framed) return this.framed.submit([...ops]);
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
          results.push(await this.read(0));
          break;
        case 'swap':
          results.push(await this.swap(0));
          break;
        case 'swapTo':
          results.push(await this.swap(0, o.value));
          break;
        case 'status':
          results.push((await this.status(0)).clean);
          break;
      }
    }
    return results;
  }

  async close(): Promise<void> {
    if (this.framed) await this.framed.close();
    else await this.legacy!.close();
  }

  private async syncMirror(): Promise<void> {
    const ref = await this.legacy!.reference();
    const state = await this.legacy!.read();
    this.mirror = { ref, acc: ref ^ state };
  }

  /** Legacy verify mode: the board must hold exactly what the host sent. */
  private async check(): Promise<void> {
    if (!this.verify) return;
    const expected = this.mirror.ref ^ this.mirror.acc;
    const actual = await this.legacy!.read();
    if (actual !== expected) {
      await this.legacy!.resync();
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
