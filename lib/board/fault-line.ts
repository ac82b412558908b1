// A fault-injecting serial line for hardware-in-the-loop tests: socat makes
// a PTY pair, the host opens one end, and this process shuttles bytes
// between the other end and the board's port (a virtual board or real
// hardware), dropping, duplicating, bit-flipping and delaying them with a
// seeded generator. Faults can be changed while the host is connected, and
// the line can be unplugged and plugged in again.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomikError, AtomikRangeError, AtomikTypeError } from '../core/errors.js';
import { openSerialTransport, type Transport } from '../serial/transport.js';
import { describe, integer, knownKeys, object } from '../core/validate.js';
import { spawnOwned } from './processes.js';
import { requireTools } from './emulate.js';

export interface Faults {
  /** Probability per byte that it is lost. */
  drop: number;
  /** Probability per byte that it arrives twice. */
  duplicate: number;
  /** Probability per byte that one of its bits (chosen at random) is inverted. */
  flip: number;
  /** Each chunk is held back a random 0..delayMs milliseconds (order is kept). */
  delayMs: number;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({ drop: 0, duplicate: 0, flip: 0, delayMs: 0 });

export interface FaultLineOptions extends Partial<Faults> {
  /** Seeds the generator that decides which bytes are hit (default 1): the same seed and traffic give the same faults. */
  seed?: number;
}

export interface FaultStats {
  /** Bytes that entered the line, both directions. */
  bytes: number;
  dropped: number;
  duplicated: number;
  flipped: number;
  /** Bytes discarded because the line was unplugged or the board's port was gone. */
  lost: number;
}

export interface FaultLine {
  /** The port the host opens instead of the board's. */
  readonly port: string;
  /** The faults in force; assign to change them at once (omitted rates are 0). */
  get faults(): Readonly<Faults>;
  set faults(value: Partial<Faults>);
  /** Counters since the line started (a copy). */
  readonly stats: Readonly<FaultStats>;
  /** False between unplug() and replug(). */
  readonly plugged: boolean;
  /** Pulls the cable: `port` disappears and the host sees its port close. The board is untouched. */
  unplug(): Promise<void>;
  /** Plugs it back in at the same `port` path. */
  replug(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_DELAY_MS = 10_000;
const FAULT_KEYS = ['drop', 'duplicate', 'flip', 'delayMs'] as const;

function rate(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name} must be a number in [0, 1], got ${describe(value)}`);
  if (!(value >= 0 && value <= 1)) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `${name} must be in [0, 1], got ${value}`);
  return value;
}

/** Reads a complete, checked Faults out of `value`; anything not named is 0. */
function checkFaults(value: Partial<Faults>, name: string, extra: readonly string[] = []): Faults {
  object(value, name);
  knownKeys(value, [...FAULT_KEYS, ...extra], name);
  const delayMs = value.delayMs ?? 0;
  if (typeof delayMs !== 'number') throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `${name}.delayMs must be a number, got ${describe(delayMs)}`);
  if (!(delayMs >= 0 && delayMs <= MAX_DELAY_MS))
    throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `${name}.delayMs must be in [0, ${MAX_DELAY_MS}], got ${delayMs}`);
  return Object.freeze({
    drop: rate(value.drop ?? 0, `${name}.drop`),
    duplicate: rate(value.duplicate ?? 0, `${name}.duplicate`),
    flip: rate(value.flip ?? 0, `${name}.flip`),
    delayMs,
  });
}

/** Mulberry32: small, seeded, good enough to schedule faults reproducibly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Puts a faulty line in front of `boardPort`: open `line.port` instead.
 * When the board's port goes away (a board restarting), the line keeps
 * trying to reach it at the same path, like a cable still plugged in.
 */
export async function startFaultLine(boardPort: string, options: FaultLineOptions = {}): Promise<FaultLine> {
  if (typeof boardPort !== 'string' || boardPort === '')
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `boardPort must be a non-empty string, got ${describe(boardPort)}`);
  let faults = checkFaults(options, 'options', ['seed']);
  const rand = random(integer(options.seed ?? 1, 0, 0xffffffff, 'options.seed'));
  requireTools('the fault-injecting line', 'socat');

  const dir = mkdtempSync(join(tmpdir(), 'atomik-line-'));
  const hostSide = join(dir, 'host');
  const lineSide = join(dir, 'line');
  const stats: FaultStats = { bytes: 0, dropped: 0, duplicated: 0, flipped: 0, lost: 0 };
  let socat: ChildProcess | null = null;
  let near: Transport | null = null; // our end of the socat pair
  let far: Transport | null = null; // the board's port
  let stopped = false;

  /** Applies the faults to one chunk and passes it on, in order, to whatever `to()` is then. */
  const forward = (to: () => Transport | null) => {
    let chain = Promise.resolve();
    return (data: Uint8Array) => {
      const f = faults;
      const out: number[] = [];
      for (const byte of data) {
        stats.bytes++;
        if (rand() < f.drop) {
          stats.dropped++;
          continue;
        }
        let b = byte;
        if (rand() < f.flip) {
          b ^= 1 << Math.floor(rand() * 8);
          stats.flipped++;
        }
        out.push(b);
        if (rand() < f.duplicate) {
          out.push(b);
          stats.duplicated++;
        }
      }
      const delay = f.delayMs > 0 ? rand() * f.delayMs : 0;
      chain = chain
        .then(() => (delay > 0 ? sleep(delay) : undefined))
        .then(() => {
          const target = to();
          if (!target) stats.lost += out.length;
          else if (out.length) return target.write(Uint8Array.from(out));
        })
        .catch(() => {}); // the port went away: the bytes are lost, as on a cable
    };
  };
  const toBoard = forward(() => far);
  const toHost = forward(() => near);

  const plug = async () => {
    // Owned: socat ends with this process, kill -9 included.
    const child = await spawnOwned('socat', [`pty,raw,echo=0,link=${hostSide}`, `pty,raw,echo=0,link=${lineSide}`], 'ignore');
    socat = child;
    for (let i = 0; i < 500 && !(existsSync(hostSide) && existsSync(lineSide)); i++) {
      if (child.exitCode !== null) break;
      await sleep(10);
    }
    if (!(existsSync(hostSide) && existsSync(lineSide))) {
      child.kill('SIGKILL');
      throw new AtomikError('ERR_ATOMIK_DEVICE', `socat did not create the fault line's PTY pair in ${dir}`);
    }
    const t = await openSerialTransport(lineSide, { lock: false });
    t.onData(toBoard);
    near = t;
  };
  const unplug = async () => {
    const child = socat;
    const t = near;
    near = null;
    socat = null;
    await t?.close();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };

  /** The board's end; when its port goes away, it is reopened as soon as it reappears. */
  const attachBoard = async () => {
    const t = await openSerialTransport(boardPort, { lock: false });
    if (stopped) return void (await t.close());
    t.onData(toHost);
    t.onClose(() => {
      if (far === t) far = null;
      void reattachBoard();
    });
    far = t;
  };
  const reattachBoard = async () => {
    while (!stopped && !far) await attachBoard().catch(() => sleep(50));
  };

  try {
    await attachBoard(); // fails at once when the board's port does not exist
    await plug();
  } catch (err) {
    stopped = true;
    await Promise.all([unplug(), (far as Transport | null)?.close()]);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let busy: Promise<void> = Promise.resolve();
  const serial = (fn: () => Promise<void>) => (busy = busy.then(fn, fn));
  return {
    port: hostSide,
    get faults(): Readonly<Faults> {
      return faults;
    },
    set faults(value: Partial<Faults>) {
      faults = checkFaults(value, 'faults');
    },
    get stats() {
      return { ...stats };
    },
    get plugged() {
      return near !== null;
    },
    unplug: () =>
      serial(async () => {
        if (stopped) throw new AtomikError('ERR_ATOMIK_CLOSED', 'the fault line was stopped');
        await unplug();
      }),
    replug: () =>
      serial(async () => {
        if (stopped) throw new AtomikError('ERR_ATOMIK_CLOSED', 'the fault line was stopped');
        if (!near) await plug();
      }),
    stop: () =>
      serial(async () => {
        if (stopped) return;
        stopped = true;
        const board = far;
        far = null;
        await Promise.all([unplug(), board?.close()]);
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}
