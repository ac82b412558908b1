// Virtual boards: the firmware run as a process that owns a pseudo-terminal,
// so every hardware path can be exercised without hardware.
//  - host: firmware/boards/host on Linux (built on first use with make)
//  - cortex-m3: the firmware image under qemu-system-arm (mps2-an385),
//    its UART bridged to a PTY by socat
//  - rtl: our Verilog under Verilator, its UART pins driven from a PTY
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AtomikError, AtomikRangeError, AtomikTypeError } from '../errors.js';
import { packageRoot } from '../engine/native.js';
import { probe } from '../serial/probe.js';
import { openSerialTransport } from '../serial/transport.js';
import { RTL_DEFAULT_CONTEXTS, buildRtlBoard, rtlClocksPerBit } from './rtl.js';

export type BoardKind = 'host' | 'cortex-m3' | 'rtl';

export interface BoardOptions {
  board?: BoardKind;
  /** Behave like the official FPGA board (host and rtl boards). */
  legacy?: boolean;
  /** Pace the line to this many baud (host board); the rtl board's UART divider is 27 MHz / baud (default 115200). */
  baud?: number;
  /** Number of contexts (host board, default 1024; framed rtl board, default 256). */
  contexts?: number;
  /** Host and rtl boards: also expose the PTY at this path (a symlink), stable across restarts. */
  link?: string;
}

export interface VirtualBoard {
  readonly board: BoardKind;
  readonly legacy: boolean;
  /** The path to open, like a real serial device. */
  readonly port: string;
  /** The board's process (QEMU for the Cortex-M3 board). */
  readonly pid: number;
  /** Stops the board (like unplugging it). */
  stop(): Promise<void>;
  /** Resolves when the board process ends, for any reason. */
  readonly exited: Promise<void>;
}

const firmwareDir = () => join(packageRoot(), 'firmware');

/** The Debian package of each command a virtual board needs. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  make: 'make',
  cc: 'gcc',
  'arm-none-eabi-gcc': 'gcc-arm-none-eabi',
  'qemu-system-arm': 'qemu-system-arm',
  socat: 'socat',
  verilator: 'verilator',
  'c++': 'g++',
};

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Throws, in one line naming the Debian package, when a command is not installed (ERR_ATOMIK_MISSING_TOOL). */
export function requireTools(what: string, ...commands: string[]): void {
  for (const command of commands) {
    if (!onPath(command)) {
      throw new AtomikError(
        'ERR_ATOMIK_MISSING_TOOL',
        `${what} needs ${command}, which is not installed (Debian: apt-get install ${TOOL_PACKAGES[command] ?? command})`,
      );
    }
  }
}

/** Builds a firmware target with make when its output is missing; throws with make's output on failure. */
export function buildFirmware(target: 'host' | 'cortex-m3', output: string): string {
  const path = join(firmwareDir(), 'build', output);
  if (existsSync(path)) return path;
  requireTools(`building the ${target} firmware`, ...(target === 'host' ? ['make', 'cc'] : ['make', 'arm-none-eabi-gcc']));
  try {
    execFileSync('make', ['-C', firmwareDir(), target], { stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`cannot build the ${target} firmware (make -C firmware ${target}): ${e.stderr?.toString().trim() || e.message}`);
  }
  return path;
}

function onExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

function stopper(children: ChildProcess[], cleanup: () => void = () => {}): () => Promise<void> {
  return async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map(onExit));
    cleanup();
  };
}

/** Waits for a line matching `pattern` on a child's stdout or stderr. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`${what} did not start within ${timeoutMs} ms: ${seen.trim().slice(-300)}`)), timeoutMs);
    const listener = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = seen.match(pattern);
      if (m) done(null, m);
    };
    const exit = () => done(new Error(`${what} exited before it was ready: ${seen.trim().slice(-300)}`));
    function done(err: Error | null, m?: RegExpMatchArray) {
      clearTimeout(timer);
      child.stdout?.off('data', listener);
      child.stderr?.off('data', listener);
      child.off('exit', exit);
      if (err) reject(err);
      else resolve(m!);
    }
    child.stdout?.on('data', listener);
    child.stderr?.on('data', listener);
    child.once('exit', exit);
  });
}

async function startHost(options: BoardOptions): Promise<VirtualBoard> {
  const binary = buildFirmware('host', 'atomik-host-board');
  const args: string[] = [];
  if (options.legacy) args.push('--legacy');
  if (options.baud !== undefined) args.push('--baud', String(options.baud));
  if (options.contexts !== undefined) args.push('--contexts', String(options.contexts));
  if (options.link !== undefined) args.push('--link', options.link);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /^PORT (\S+)$/m, 'the host board', 5000).catch(async (err: Error) => {
    child.kill('SIGKILL');
    throw err;
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { board: 'host', legacy: options.legacy ?? false, port: options.link ?? m[1]!, pid: child.pid!, stop: stopper([child]), exited: onExit(child) };
}

async function startCortexM3(options: BoardOptions): Promise<VirtualBoard> {
  if (options.legacy || options.baud !== undefined || options.contexts !== undefined || options.link !== undefined) {
    throw new Error('the cortex-m3 board runs the framed firmware as built: --legacy, --baud, --contexts and --link are host-board options');
  }
  const image = buildFirmware('cortex-m3', 'atomik-cortex-m3.elf');
  requireTools('the cortex-m3 board', 'qemu-system-arm', 'socat');
  const dir = mkdtempSync(join(tmpdir(), 'atomik-m3-'));
  const socket = join(dir, 'uart.sock');
  const tty = join(dir, 'tty');
  // QEMU waits for the socket client before it starts the CPU, so no output is lost.
  const qemu = spawn(
    'qemu-system-arm',
    [
      '-machine',
      'mps2-an385',
      '-cpu',
      'cortex-m3',
      '-nographic',
      '-monitor',
      'none',
      '-kernel',
      image,
      '-chardev',
      `socket,id=uart,path=${socket},server=on,wait=on`,
      '-serial',
      'chardev:uart',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await waitForLine(qemu, /waiting for connection/i, 'qemu-system-arm', 10000);
  } catch (err) {
    qemu.kill('SIGKILL');
    cleanup();
    throw err;
  }
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${tty}`, `UNIX-CONNECT:${socket}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = stopper([socat, qemu], cleanup);
  try {
    await waitForLine(socat, /starting data transfer loop/i, 'socat', 10000);
  } catch (err) {
    await stop();
    throw err;
  }
  qemu.stdout?.resume();
  qemu.stderr?.resume();
  socat.stdout?.resume();
  socat.stderr?.resume();
  // Either process ending unplugs the board.
  const exited = Promise.race([onExit(qemu), onExit(socat)]);
  try {
    await untilAnswering(tty, 15000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { board: 'cortex-m3', legacy: false, port: tty, pid: qemu.pid!, stop, exited };
}

/** Probes until the firmware answers: QEMU may sit on the first bytes for a while after boot. */
async function untilAnswering(port: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const transport = await openSerialTransport(port, { lock: false });
    try {
      await probe(transport, { dialect: 'framed', timeoutMs: 1000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the board on ${port} did not answer within ${timeoutMs} ms: ${(err as Error).message}`);
    } finally {
      await transport.close();
    }
  }
}

async function startRtl(options: BoardOptions): Promise<VirtualBoard> {
  if (options.legacy && options.contexts !== undefined)
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', 'the rtl board in the official protocol has one context: --contexts is for the framed rtl board');
  const contexts = options.contexts ?? RTL_DEFAULT_CONTEXTS;
  if (!Number.isInteger(contexts) || contexts < 1 || contexts > 65535)
    throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `contexts must be an integer in [1, 65535], got ${contexts}`);
  const clocksPerBit = rtlClocksPerBit(options.baud ?? 115200);
  requireTools('the rtl board', 'make', 'verilator', 'c++');
  const binary = await buildRtlBoard(options.legacy ? 'legacy' : 'framed', clocksPerBit, contexts);
  const child = spawn(binary, options.link === undefined ? [] : ['--link', options.link], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /^PORT (\S+)$/m, 'the rtl board', 5000).catch(async (err: Error) => {
    child.kill('SIGKILL');
    throw err;
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { board: 'rtl', legacy: options.legacy ?? false, port: options.link ?? m[1]!, pid: child.pid!, stop: stopper([child]), exited: onExit(child) };
}

export function startBoard(options: BoardOptions = {}): Promise<VirtualBoard> {
  const board = options.board ?? 'host';
  if (board === 'rtl') return startRtl(options);
  return board === 'host' ? startHost(options) : startCortexM3(options);
}
