// open(): an Accumulator of N contexts on the best available backend, with
// one validation layer in front of every backend.
import { validateBatch, type BatchOp, type BatchResult } from './table/batch.js';
import { LocalBackend } from './backend/local.js';
import { discoverBoard, openBoard, type FoundBoard, type SerialOptions } from './serial/open-board.js';
import type { Backend, BackendName, ContextStatus } from './backend/types.js';
import { selectEngine, type EngineChoice } from './engine/select.js';
import { groupOption, type Group } from './core/group.js';
import type { AtomikTable } from './table/table.js';
import { MAX_TABLE_SIZE } from './table/table.js';
import { AtomikError, AtomikTypeError } from './core/errors.js';
import { apart, bigU64Array, groupDelta, index, integer, knownKeys, object, oneOf, optionKeys, sameLength, u32Input, u64, u64Input } from './core/validate.js';
import type { LinkStats } from './backend/device.js';
import type { SerialInfo } from './backend/device.js';

export type BackendChoice = EngineChoice | 'serial';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'js', 'native', 'serial'];

export interface OpenOptions extends Partial<Omit<SerialOptions, 'port'>> {
  /**
   * 'auto' (default): a serial device when a port is given (options.port or
   * ATOMIK_PORT) or, with `discover`, a board found by USB VID:PID that can
   * hold the requested contexts and group; else native when the addon
   * loads, else js. ATOMIK_BACKEND overrides 'auto'. 'serial' without a
   * port uses a board found by USB VID:PID (options.usbIds).
   */
  backend?: BackendChoice;
  /** Serial device path; defaults to ATOMIK_PORT. */
  port?: string;
  /** VID:PID pairs that identify boards when no port is given (default: the Tang Nano 9K, 0403:6010). */
  usbIds?: string[];
  /** 'auto' also looks for boards by USB VID:PID (default false; ATOMIK_DISCOVER=1 turns it on). */
  discover?: boolean;
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
  /** The device, for the serial backend. */
  serial?: SerialInfo;
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

  /** What a framed serial link measured and did (resends by cause, reconnects, error rate, frame budget); null on other backends. */
  get link(): LinkStats | null {
    return this.backend.link ?? null;
  }

  /** Synchronous access to the same contexts when they live in this process (null on a device). */
  get table(): AtomikTable | null {
    return this.backend.table ?? null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private open(): void {
    if (this.closed) throw new AtomikError('ERR_ATOMIK_CLOSED', 'the accumulator is closed');
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

  /** Applies a delta to context i; in the 'add' group a negative one (down to -2^63) is a decrement. */
  accum(i: number, delta: bigint): Promise<void> {
    return this.guard(() => this.backend.accum(this.ctx(i), groupDelta(delta, this.backend.group === 'add', 'delta')));
  }

  accumMany(i: number, deltas: BigUint64Array): Promise<void> {
    return this.guard(() => this.backend.accumMany(this.ctx(i), u64Input(deltas, 'deltas')));
  }

  scatter(indices: Uint32Array, deltas: BigUint64Array): Promise<void> {
    return this.guard(() => {
      const idx = u32Input(indices, 'indices');
      const d = u64Input(deltas, 'deltas');
      sameLength(idx, 'indices', d, 'deltas');
      return this.backend.scatter(idx, d); // checks the index range in the same pass as its work
    });
  }

  read(i: number): Promise<bigint> {
    return this.guard(() => this.backend.read(this.ctx(i)));
  }

  gather(indices: Uint32Array, out?: BigUint64Array): Promise<BigUint64Array> {
    return this.guard(async () => {
      const idx = u32Input(indices, 'indices');
      const result = out ?? new BigUint64Array(idx.length);
      const target = bigU64Array(result, 'out');
      sameLength(idx, 'indices', target, 'out');
      await this.backend.gather(apart(idx, target), target);
      return result;
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

function envBackend(): BackendChoice | undefined {
  const env = process.env.ATOMIK_BACKEND;
  return (BACKEND_CHOICES as readonly string[]).includes(env ?? '') ? (env as BackendChoice) : undefined;
}

/** An accumulator on the board serial/ found. */
function onBoard(found: FoundBoard, why: string): Accumulator {
  const rejected = { js: `${why}: a serial device was chosen`, native: `${why}: a serial device was chosen` };
  return new Accumulator(found.backend, { backend: 'serial', reason: found.reason, rejected, serial: found.backend.serial });
}

const OPEN_OPTION_KEYS = optionKeys<OpenOptions>({
  backend: true,
  port: true,
  usbIds: true,
  discover: true,
  contexts: true,
  group: true,
  baudRate: true,
  dialect: true,
  lock: true,
  probeTimeoutMs: true,
  openTimeoutMs: true,
  verify: true,
  reconnect: true,
  onProgress: true,
  timeoutMs: true,
  retries: true,
  window: true,
  maxBytesInFlight: true,
});

/** Opens an accumulator; see OpenOptions. */
export async function open(options: OpenOptions = {}): Promise<Accumulator> {
  object(options, 'options');
  knownKeys(options, OPEN_OPTION_KEYS, 'options');
  const contexts = options.contexts === undefined ? DEFAULT_CONTEXTS : integer(options.contexts, 1, MAX_TABLE_SIZE, 'options.contexts');
  const group = groupOption(options.group);
  const choice = options.backend === undefined ? 'auto' : oneOf(options.backend, BACKEND_CHOICES, 'options.backend');
  if (options.port !== undefined && typeof options.port !== 'string') throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'options.port must be a string');
  if (options.discover !== undefined && typeof options.discover !== 'boolean')
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'options.discover must be a boolean');
  const fromEnv = choice === 'auto' ? envBackend() : undefined;
  if (choice === 'serial' || fromEnv === 'serial') {
    const why = choice === 'serial' ? "options.backend='serial'" : 'ATOMIK_BACKEND=serial';
    return onBoard(await openBoard(options, group, why), why);
  }
  const auto = choice === 'auto' && (fromEnv === undefined || fromEnv === 'auto');
  if (auto && (options.port ?? process.env.ATOMIK_PORT)) return onBoard(await openBoard(options, group, 'auto'), 'auto');
  let serial = auto ? 'no port given (options.port or ATOMIK_PORT), and discovery is off (options.discover)' : 'not requested';
  if (auto && (options.discover ?? process.env.ATOMIK_DISCOVER === '1')) {
    const found = await discoverBoard(options, group);
    if (typeof found !== 'string') return onBoard(found, 'auto');
    serial = found;
  }
  const selection = selectEngine(choice, 'options.backend');
  const backend = new LocalBackend(contexts, group, selection.engine);
  const rejected: BackendInfo['rejected'] = { ...selection.rejected, serial };
  return new Accumulator(backend, { backend: selection.engine.name, reason: selection.reason, rejected });
}
