// Opening a serial board: options checked once, the port opened, the
// dialect probed, then a FramedBackend or a LegacyBackend over the client of
// that dialect. With `reconnect`, the framed client is told how to find the
// port again (same path, or the same USB VID:PID and serial number).
import { existsSync } from 'node:fs';
import type { Group } from '../core/group.js';
import { AtomikError, AtomikRangeError, AtomikTypeError, DeviceError } from '../core/errors.js';
import type { ProgressListener } from '../core/progress.js';
import { FramedClient, type FramedClientOptions } from './framed/client.js';
import type { Reconnector, ReconnectOptions } from './framed/session.js';
import { LegacyClient } from './legacy-client.js';
import { probe } from './probe.js';
import { loadSerialPort, openSerialTransport, type PortInfo, type Transport } from './transport.js';
import { boolean, describe, integer, number, object, oneOf } from '../core/validate.js';
import { FramedBackend } from '../backend/framed.js';
import { LegacyBackend } from '../backend/legacy.js';
import type { Dialect } from '../backend/device.js';
import { findBoards, KNOWN_BOARDS } from './discover.js';

export interface SerialOptions extends FramedClientOptions {
  /** The device path, e.g. /dev/ttyUSB0 or a virtual board's PTY. */
  port: string;
  /** Line rate (default 115200); timeouts are derived from it. */
  baudRate?: number;
  /** 'auto' (default) probes; 'framed' or 'legacy' skip the other dialect. */
  dialect?: Dialect | 'auto';
  /** Exclusive lock on the port (default true). */
  lock?: boolean;
  /** The first wait for an answer to the probe, HELLO and OPEN, doubled after each silent attempt up to 4 times (default 200 ms). */
  probeTimeoutMs?: number;
  /**
   * How long opening may take in all (default 10,000 ms): the probe, HELLO
   * and OPEN are asked again until then, so a noisy line that damages one
   * answer does not fail the open. Every failure to open is a DeviceError
   * (code ERR_ATOMIK_DEVICE) with a deviceCode: NO_PORT, NO_ANSWER,
   * BAD_REPLY, BAD_HELLO, BAD_GROUP.
   */
  openTimeoutMs?: number;
  /**
   * Legacy dialect only: read the state back after every write and compare
   * it with what the host expects, so a byte lost or corrupted on the
   * unchecked line is detected (a DeviceError) instead of silently kept.
   */
  verify?: boolean;
  /**
   * Framed dialect only: when the port goes away (unplugged, board reset),
   * reopen it with backoff and carry on if the board kept our session; a
   * board that rebooted fails the pending calls with deviceCode 'REBOOTED'.
   * `true` for the defaults (20 attempts, 100 ms doubling to 2 s).
   */
  reconnect?: boolean | ReconnectOptions;
  /** Progress of probing and of calls that span several frames. */
  onProgress?: ProgressListener;
}

/** A board behind a serial port, in either dialect. */
export type SerialBackend = FramedBackend | LegacyBackend;

/** Options as checked: every field present, each within its range. */
type CheckedOptions = Required<Omit<SerialOptions, 'reconnect' | 'onProgress' | 'timeoutMs'>> & {
  timeoutMs: number | undefined;
  reconnect: Required<ReconnectOptions> | null;
  onProgress: ProgressListener | undefined;
};

const given = <T>(value: T | undefined, fallback: T, check: (v: unknown) => T): T => (value === undefined ? fallback : check(value));

/** Checks every serial option once, with errors that name the option; fills in the defaults. */
export function checkSerialOptions(options: SerialOptions): CheckedOptions {
  object(options, 'options');
  const o = { ...options }; // each option is read once
  if (typeof o.port !== 'string' || o.port.length === 0)
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `options.port must be a non-empty string, got ${describe(o.port)}`);
  let reconnect: Required<ReconnectOptions> | null = null;
  if (o.reconnect !== undefined && o.reconnect !== false) {
    const r = o.reconnect === true ? {} : { ...object(o.reconnect, 'options.reconnect') };
    const initialDelayMs = given(r.initialDelayMs, 100, (v) => number(v, 1, 60_000, 'options.reconnect.initialDelayMs'));
    reconnect = {
      attempts: given(r.attempts, 20, (v) => integer(v, 1, 1_000_000, 'options.reconnect.attempts')),
      initialDelayMs,
      maxDelayMs: given(r.maxDelayMs, Math.max(2000, initialDelayMs), (v) => number(v, initialDelayMs, 600_000, 'options.reconnect.maxDelayMs')),
    };
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `options.onProgress must be a function, got ${describe(o.onProgress)}`);
  }
  return {
    port: o.port,
    baudRate: given(o.baudRate, 115200, (v) => integer(v, 50, 20_000_000, 'options.baudRate')),
    dialect: given(o.dialect, 'auto' as const, (v) => oneOf(v, ['auto', 'framed', 'legacy'] as const, 'options.dialect')),
    lock: given(o.lock, true, (v) => boolean(v, 'options.lock')),
    probeTimeoutMs: given(o.probeTimeoutMs, 200, (v) => number(v, 1, 60_000, 'options.probeTimeoutMs')),
    openTimeoutMs: given(o.openTimeoutMs, 10_000, (v) => number(v, 1, 600_000, 'options.openTimeoutMs')),
    verify: given(o.verify, false, (v) => boolean(v, 'options.verify')),
    timeoutMs: o.timeoutMs === undefined ? undefined : number(o.timeoutMs, 1, 60_000, 'options.timeoutMs'), // each dialect has its default
    retries: given(o.retries, 8, (v) => integer(v, 0, 1000, 'options.retries')),
    window: given(o.window, 255, (v) => integer(v, 1, 255, 'options.window')),
    maxBytesInFlight: given(o.maxBytesInFlight, 6144, (v) => integer(v, 64, 1 << 24, 'options.maxBytesInFlight')),
    reconnect,
    onProgress: o.onProgress,
  };
}

/** Finds the port again: at its path, or wherever the same USB device (VID:PID and serial number) now is. */
function reopener(options: CheckedOptions, identity: PortInfo | null): () => Promise<Transport> {
  return async () => {
    let path = options.port;
    if (!existsSync(path) && identity?.serialNumber) {
      const serialport = loadSerialPort();
      const ports = serialport instanceof Error ? [] : await serialport.list();
      const same = ports.find((p) => p.vendorId === identity.vendorId && p.productId === identity.productId && p.serialNumber === identity.serialNumber);
      if (same) path = same.path;
    }
    return openSerialTransport(path, { baudRate: options.baudRate, lock: options.lock });
  };
}

/** The USB identity of the port, when it has one (PTYs do not). */
async function identify(path: string): Promise<PortInfo | null> {
  const serialport = loadSerialPort();
  if (serialport instanceof Error) return null;
  try {
    return (await serialport.list()).find((p) => p.path === path && p.serialNumber) ?? null;
  } catch {
    return null;
  }
}

/** The port itself, or a DeviceError (NO_PORT) saying why it cannot be opened. */
async function openPort(options: CheckedOptions): Promise<Transport> {
  try {
    return await openSerialTransport(options.port, { baudRate: options.baudRate, lock: options.lock });
  } catch (err) {
    throw new DeviceError((err as Error).message, [], 'NO_PORT', { cause: err });
  }
}

/** Opens the board on `options.port`: probes its dialect and starts the backend of that dialect, all within `openTimeoutMs`. */
export async function openSerialBackend(options: SerialOptions, group: Group): Promise<SerialBackend> {
  const checked = checkSerialOptions(options);
  const deadline = performance.now() + checked.openTimeoutMs;
  const transport = await openPort(checked);
  try {
    const found = await probe(transport, {
      timeoutMs: checked.probeTimeoutMs,
      deadlineMs: deadline - performance.now(),
      dialect: checked.dialect,
      onProgress: checked.onProgress,
    });
    if (found.dialect === 'framed') {
      const reconnector: Reconnector | null = checked.reconnect && { ...checked.reconnect, reopen: reopener(checked, await identify(checked.port)) };
      const client = new FramedClient(transport, checked, reconnector);
      const hello = await client.start(group, { deadline, firstWaitMs: checked.probeTimeoutMs, maxWaitMs: 4 * checked.probeTimeoutMs });
      return new FramedBackend({ port: checked.port, dialect: 'framed', hello }, group, client);
    }
    if (checked.reconnect) {
      throw new AtomikError(
        'ERR_ATOMIK_INVALID_ARG_VALUE',
        `options.reconnect needs the framed protocol: the board on ${checked.port} speaks the official one, which cannot say whether it rebooted`,
      );
    }
    const client = new LegacyClient(transport, { timeoutMs: checked.timeoutMs });
    return await LegacyBackend.start({ port: checked.port, dialect: 'legacy', hello: null }, group, client, checked.verify);
  } catch (err) {
    await transport.close().catch(() => {});
    throw err;
  }
}

/** Where a board was found, and why it was used. */
export interface FoundBoard {
  backend: SerialBackend;
  /** Why this board: the option, the environment variable or the USB id that named it, and its dialect. */
  reason: string;
}

export interface BoardChoice extends Omit<SerialOptions, 'port'> {
  /** The port; defaults to ATOMIK_PORT, then to the first board found by USB VID:PID. */
  port?: string;
  /** VID:PID pairs that identify boards (default: KNOWN_BOARDS). */
  usbIds?: string[];
  /** Contexts the caller needs: a board with fewer is closed again and refused. */
  contexts?: number;
}

const usbIdList = (choice: BoardChoice) => (choice.usbIds ?? Object.keys(KNOWN_BOARDS)).join(', ');

/** Opens the board on `port` and checks it has the contexts asked for. */
async function openOn(choice: BoardChoice, group: Group, port: string, reason: string): Promise<FoundBoard> {
  const backend = await openSerialBackend({ ...choice, port }, group);
  if (choice.contexts !== undefined && choice.contexts > backend.contexts) {
    await backend.close();
    throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `options.contexts is ${choice.contexts}, but the device on ${port} has ${backend.contexts}`);
  }
  return { backend, reason: `${reason} (${backend.serial.dialect} dialect)` };
}

/** The board named by `choice.port` or ATOMIK_PORT, else the first found by USB VID:PID; `why` says who asked for a board. */
export async function openBoard(choice: BoardChoice, group: Group, why: string): Promise<FoundBoard> {
  const port = choice.port ?? process.env.ATOMIK_PORT;
  if (port) return openOn(choice, group, port, port === choice.port ? `serial: options.port=${port}` : `serial: ATOMIK_PORT=${port}`);
  const boards = await findBoards(choice.usbIds);
  if (boards.length === 0)
    throw new AtomikError(
      'ERR_ATOMIK_NO_DEVICE',
      `${why}: no port given (options.port or ATOMIK_PORT) and no board found by USB VID:PID (${usbIdList(choice)})`,
    );
  const board = boards[0]!;
  return openOn(choice, group, board.path, `serial: ${board.path} identified by USB ${board.vendorId}:${board.productId}`);
}

/** The first board found by USB VID:PID that opens with the contexts and group asked for; or why none was used. */
export async function discoverBoard(choice: BoardChoice, group: Group): Promise<FoundBoard | string> {
  const boards = await findBoards(choice.usbIds);
  if (boards.length === 0) return `auto: no board found by USB VID:PID (${usbIdList(choice)})`;
  const skipped: string[] = [];
  for (const board of boards) {
    const id = `${board.vendorId}:${board.productId}`;
    try {
      return await openOn(choice, group, board.path, `serial: ${board.path} identified by USB ${id}`);
    } catch (err) {
      skipped.push(`${board.path} (${id}): ${(err as Error).message}`);
    }
  }
  return `auto: skipped ${skipped.join('; ')}`;
}
