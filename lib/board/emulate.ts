// Virtual boards: the firmware run as a process that owns a pseudo-terminal,
// so every hardware path can be exercised without hardware.
//  - host: firmware/boards/host on Linux (built on first use with make)
//  - cortex-m3: the firmware image under qemu-system-arm (mps2-an385),
//    its UART bridged to a PTY by socat
//  - rtl: our Verilog under Verilator, its UART pins driven from a PTY
// Firmware is built into the build cache (build-cache.ts). Every board is
// reached through a path that stays the same when it restarts, as a real
// board that reboots comes back at the same device path.
import { accessSync, constants, existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { AtomikError, AtomikTypeError } from '../core/errors.js';
import type { ProgressListener } from '../core/progress.js';
import { probe } from '../serial/probe.js';
import { openSerialTransport } from '../serial/transport.js';
import { describe, integer, knownKeys, object, oneOf, optionKeys } from '../core/validate.js';
import { buildCacheDir, cachedBuild, firmwareDir } from './build-cache.js';
import { onExit, runToEnd, spawnOwned, stopper, waitForLine } from './processes.js';
import { RTL_DEFAULT_CONTEXTS, buildRtlBoard, rtlClocksPerBit } from './rtl.js';

export type BoardKind = 'host' | 'cortex-m3' | 'rtl';
export const BOARD_KINDS: readonly BoardKind[] = ['host', 'cortex-m3', 'rtl'];

export interface BoardOptions {
  board?: BoardKind;
  /** Behave like the official FPGA board (host and rtl boards). */
  legacy?: boolean;
  /** Pace the line to this many baud (host board); the rtl board's UART divider is 27 MHz / baud (default 115200). */
  baud?: number;
  /** Number of contexts (host board, default 1024; framed rtl board, default 256). */
  contexts?: number;
  /**
   * Expose the board at this path (a symlink). Without it the board gets
   * one in a temporary directory; either way `port` stays the same across
   * restart().
   */
  link?: string;
  /** Root of the firmware build cache (default $ATOMIK_CACHE_DIR, else $XDG_CACHE_HOME/atomik-node, else ~/.cache/atomik-node). */
  cacheDir?: string;
  /** Reports each step (build, start), with task 'build'. */
  onProgress?: ProgressListener;
}

export interface VirtualBoard {
  readonly board: BoardKind;
  readonly legacy: boolean;
  /** The path to open, like a real serial device; the same after restart(). */
  readonly port: string;
  /** The board's current process (QEMU for the Cortex-M3 board). */
  readonly pid: number;
  /**
   * Power-cycles the board: its process is killed (the port disappears and
   * an open port sees it close) and started again at the same port, with
   * every context, the session and the replay cache gone and a new boot id.
   */
  restart(): Promise<void>;
  /** Stops the board (like unplugging it for good). */
  stop(): Promise<void>;
  /** Resolves when the board stops for good: stop(), or its process ending other than through restart(). */
  readonly exited: Promise<void>;
}

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

/** The Debian package that installs `command` (its own name when none is known). */
export function debianPackage(command: string): string {
  return Object.hasOwn(TOOL_PACKAGES, command) ? TOOL_PACKAGES[command]! : command;
}

/** Throws, in one line naming every missing command and its Debian package, when any is not installed (ERR_ATOMIK_MISSING_TOOL). */
export function requireTools(what: string, ...commands: string[]): void {
  const absent = commands.filter((c, i) => commands.indexOf(c) === i && !onPath(c));
  if (absent.length === 0) return;
  const packages = [...new Set(absent.map(debianPackage))];
  throw new AtomikError(
    'ERR_ATOMIK_MISSING_TOOL',
    `${what} needs ${absent.join(', ')}, ${absent.length === 1 ? 'which is' : 'which are'} not installed (Debian: apt-get install ${packages.join(' ')})`,
  );
}

/** One run of a board's processes. */
interface Run {
  pid: number;
  stop(): Promise<void>;
  exited: Promise<void>;
}

/** The steps of a board's start, reported as task 'build'. */
class Steps {
  private done = 0;
  constructor(
    private readonly listener: ProgressListener | undefined,
    private readonly total: number,
  ) {}
  step(message: string): void {
    this.note(message);
    this.done++;
  }
  /** A message that is not a step of its own (waiting for another build). */
  note(message: string): void {
    this.listener?.({ task: 'build', done: this.done, total: this.total, message });
  }
  finish(message: string): void {
    this.listener?.({ task: 'build', done: this.total, total: this.total, message });
  }
}

/** Builds firmware/ target `target` into the build cache; throws with make's output on failure. */
async function buildFirmware(target: 'host' | 'cortex-m3', output: string, cacheDir: string | undefined, steps: Steps): Promise<string> {
  const path = join(buildCacheDir(cacheDir), output);
  const { built } = await cachedBuild(
    path,
    async (scratch) => {
      requireTools(`building the ${target} firmware`, ...FIRMWARE_TOOLS[target]);
      steps.step(`building the ${target} firmware (make -C firmware ${target})`);
      await runToEnd('make', ['-C', firmwareDir(), target, `BUILD=${scratch}`], `cannot build the ${target} firmware (make -C firmware ${target})`);
      return join(scratch, output);
    },
    (owner) => steps.note(`waiting for the ${target} firmware build of process ${owner}`),
  );
  if (!built) steps.step(`${target} firmware up to date in ${path}`);
  return path;
}

/** Starts a program that prints "PORT <path>" once its PTY is ready (the host and rtl boards). */
async function startPtyProgram(binary: string, args: string[], what: string): Promise<Run> {
  const child = await spawnOwned(binary, args, ['ignore', 'pipe', 'pipe']);
  await waitForLine(child, /^PORT (\S+)$/m, what, 5000).catch(async (err: Error) => {
    child.kill('SIGKILL');
    throw err;
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { pid: child.pid!, stop: stopper([child]), exited: onExit(child) };
}

/** The commands that build each firmware. */
const FIRMWARE_TOOLS = { host: ['make', 'cc'], 'cortex-m3': ['make', 'arm-none-eabi-gcc'] } as const;

/** The tools a build of `output` would need, none when the build cache holds it already. */
function buildTools(target: 'host' | 'cortex-m3', output: string, cacheDir: string | undefined): readonly string[] {
  return existsSync(join(buildCacheDir(cacheDir), output)) ? [] : FIRMWARE_TOOLS[target];
}

async function hostLauncher(options: BoardOptions, port: string, steps: Steps): Promise<() => Promise<Run>> {
  const binary = await buildFirmware('host', 'atomik-host-board', options.cacheDir, steps);
  const args = ['--link', port];
  if (options.legacy) args.push('--legacy');
  if (options.baud !== undefined) args.push('--baud', String(options.baud));
  if (options.contexts !== undefined) args.push('--contexts', String(options.contexts));
  return () => startPtyProgram(binary, args, 'the host board');
}

async function rtlLauncher(options: BoardOptions, port: string, steps: Steps): Promise<() => Promise<Run>> {
  const contexts = options.contexts ?? RTL_DEFAULT_CONTEXTS;
  const clocksPerBit = rtlClocksPerBit(options.baud ?? 115200);
  requireTools('the rtl board', 'make', 'verilator', 'c++');
  const design = options.legacy ? 'legacy' : 'framed';
  steps.step(`the ${design} design under Verilator at ${clocksPerBit} clocks a bit (built on first use, about a minute)`);
  const binary = await buildRtlBoard(design, clocksPerBit, contexts, options.cacheDir);
  return () => startPtyProgram(binary, ['--link', port], 'the rtl board');
}

async function cortexM3Launcher(options: BoardOptions, port: string, dir: string, steps: Steps): Promise<() => Promise<Run>> {
  // Every missing tool at once, before a build that would be of no use.
  requireTools('the cortex-m3 board', 'qemu-system-arm', 'socat', ...buildTools('cortex-m3', 'atomik-cortex-m3.elf', options.cacheDir));
  const image = await buildFirmware('cortex-m3', 'atomik-cortex-m3.elf', options.cacheDir, steps);
  const socket = join(safePath(dir, 'the temporary directory (TMPDIR)'), 'uart.sock'); // inside QEMU's and socat's option syntax
  return async () => {
    rmSync(socket, { force: true }); // left by a previous run
    // QEMU waits for the socket client before it starts the CPU, so no output is lost.
    const qemu = await spawnOwned(
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
      ['ignore', 'pipe', 'pipe'],
    );
    try {
      await waitForLine(qemu, /waiting for connection/i, 'qemu-system-arm', 10000);
    } catch (err) {
      qemu.kill('SIGKILL');
      throw err;
    }
    // The port passed checkLink: no character that socat's address syntax would read.
    const socat = await spawnOwned('socat', ['-d', '-d', `pty,raw,echo=0,link=${port}`, `UNIX-CONNECT:${socket}`], ['ignore', 'pipe', 'pipe']).catch(
      (err: unknown) => {
        qemu.kill('SIGKILL');
        throw err;
      },
    );
    const stop = stopper([socat, qemu]);
    try {
      await waitForLine(socat, /starting data transfer loop/i, 'socat', 10000);
      for (const c of [qemu, socat]) {
        c.stdout?.resume();
        c.stderr?.resume();
      }
      await untilAnswering(port, 15000);
    } catch (err) {
      await stop();
      throw err;
    }
    // Either process ending unplugs the board.
    return { pid: qemu.pid!, stop, exited: Promise.race([onExit(qemu), onExit(socat)]) };
  };
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

/** The ranges of the numeric options, [min, max] (the command line checks its flags against them). */
export const BOARD_LIMITS = { contexts: [1, 65535], baud: [300, 100_000_000] } as const;

const OPTION_KEYS = optionKeys<BoardOptions>({ board: true, legacy: true, baud: true, contexts: true, link: true, cacheDir: true, onProgress: true });

/**
 * Characters a board's paths may hold: none that socat's address syntax
 * (: , ! { } [ ] quotes, backslash, %) or QEMU's option syntax would read,
 * so a path can never become a command or an option.
 */
const SAFE_PATH = /^[\w./+@=-]+$/;

/** A path that is safe to hand to socat and QEMU, or a coded error saying why not. */
function safePath(path: string, what: string): string {
  if (!SAFE_PATH.test(path)) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `${what} may hold only letters, digits and _ . / + @ = -, got ${JSON.stringify(path)}`);
  }
  return path;
}

/** A link made by a board: a symlink to a pseudo-terminal (it outlives a board killed with -9). */
function isBoardLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && /^\/dev\/(pts\/\d+|ttys\d+)$/.test(readlinkSync(path));
  } catch {
    return false;
  }
}

/**
 * The link as an absolute path: in a directory that exists, free or holding
 * an earlier board's link. Anything else there (a file, a directory, a link
 * elsewhere) is the user's and is never replaced.
 */
function checkLink(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `options.link must be a non-empty string, got ${describe(value)}`);
  const path = safePath(resolve(value), 'options.link');
  const dir = dirname(path);
  let isDirectory = false;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    // missing: said below
  }
  if (!isDirectory) throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `options.link ${path}: the directory ${dir} does not exist`);
  let taken = true;
  try {
    lstatSync(path);
  } catch {
    taken = false;
  }
  if (taken && !isBoardLink(path))
    throw new AtomikTypeError(
      'ERR_ATOMIK_INVALID_ARG_VALUE',
      `options.link ${path} exists and is not a board's link to a pseudo-terminal; it is left untouched`,
    );
  return path;
}

/** Checks the options once, with coded errors, before anything is built or started. */
function checkOptions(options: BoardOptions): Required<Pick<BoardOptions, 'board'>> & BoardOptions {
  object(options, 'options');
  knownKeys(options, OPTION_KEYS, 'options');
  const board = oneOf(options.board ?? 'host', BOARD_KINDS, 'options.board');
  if (options.legacy !== undefined && typeof options.legacy !== 'boolean')
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'options.legacy must be a boolean');
  const link = options.link === undefined ? undefined : checkLink(options.link);
  const cacheDir = options.cacheDir;
  if (cacheDir !== undefined && (typeof cacheDir !== 'string' || cacheDir === ''))
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `options.cacheDir must be a non-empty string, got ${describe(cacheDir)}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', 'options.onProgress must be a function');
  if (board === 'cortex-m3' && (options.legacy || options.baud !== undefined || options.contexts !== undefined)) {
    throw new AtomikTypeError(
      'ERR_ATOMIK_INVALID_ARG_VALUE',
      'the cortex-m3 board runs the framed firmware as built: legacy, baud and contexts are options of the host and rtl boards',
    );
  }
  if (board === 'rtl' && options.legacy && options.contexts !== undefined) {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', 'the rtl board in the official protocol has one context: contexts is for the framed rtl board');
  }
  if (options.contexts !== undefined) integer(options.contexts, ...BOARD_LIMITS.contexts, 'options.contexts');
  if (options.baud !== undefined) integer(options.baud, ...BOARD_LIMITS.baud, 'options.baud');
  return { ...options, board, link };
}

export async function startBoard(options: BoardOptions = {}): Promise<VirtualBoard> {
  const o = checkOptions(options);
  const dir = mkdtempSync(join(tmpdir(), `atomik-${o.board}-`));
  const port = o.link ?? join(dir, 'tty');
  const steps = new Steps(o.onProgress, 2);
  let current: Run;
  let launch: () => Promise<Run>;
  try {
    launch =
      o.board === 'host'
        ? await hostLauncher(o, port, steps)
        : o.board === 'rtl'
          ? await rtlLauncher(o, port, steps)
          : await cortexM3Launcher(o, port, dir, steps);
    steps.step(`starting the ${o.board} board`);
    current = await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  try {
    steps.finish(`${o.board} board ready at ${port}`);
  } catch (err) {
    // Nothing outlives a failed start, a throwing onProgress included.
    await current.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let stopped = false;
  let restarting: Promise<void> | null = null;
  let ended!: () => void;
  const exited = new Promise<void>((resolve) => (ended = resolve));
  const watch = (r: Run) =>
    void r.exited.then(() => {
      if (r === current && !restarting && !stopped) ended(); // died on its own
    });
  watch(current);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await restarting?.catch(() => {});
    await current.stop();
    rmSync(dir, { recursive: true, force: true });
    ended();
  };
  const restart = async () => {
    if (stopped) throw new AtomikError('ERR_ATOMIK_CLOSED', `the ${o.board} board was stopped`);
    if (restarting) return restarting;
    restarting = (async () => {
      await current.stop();
      current = await launch();
      watch(current);
    })();
    try {
      await restarting;
    } catch (err) {
      ended(); // it did not come back
      throw err;
    } finally {
      restarting = null;
    }
  };
  return {
    board: o.board,
    legacy: o.legacy ?? false,
    port,
    get pid() {
      return current.pid;
    },
    restart,
    stop,
    exited,
  };
}
