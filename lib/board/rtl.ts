// The RTL board: our Verilog (firmware/rtl) compiled by Verilator into a
// program that owns a PTY and shifts the bytes into the design's UART pins
// bit by bit, at the design's own baud divider.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../engine/native.js';
import { AtomikRangeError } from '../errors.js';

/** The clock of the simulated design: the Tang Nano 9K's crystal. */
export const RTL_CLOCK_HZ = 27_000_000;
/** The official dialect (one context) or the framed protocol (firmware/PROTOCOL.md). */
export type RtlDesign = 'legacy' | 'framed';
/** Contexts of the framed design unless told otherwise; its block RAM holds them. */
export const RTL_DEFAULT_CONTEXTS = 256;

/** The UART receiver needs at least this many clocks per bit (three votes around the middle). */
export const RTL_MIN_CLOCKS_PER_BIT = 8;

/** Clocks per bit for a baud rate at RTL_CLOCK_HZ: 115200 -> 234, as on the board. */
export function rtlClocksPerBit(baud: number): number {
  if (!Number.isInteger(baud) || baud <= 0) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `baud must be a positive integer, got ${baud}`);
  const cpb = Math.round(RTL_CLOCK_HZ / baud);
  if (cpb < RTL_MIN_CLOCKS_PER_BIT) {
    throw new AtomikRangeError(
      'ERR_ATOMIK_OUT_OF_RANGE',
      `baud ${baud} is too fast for a ${RTL_CLOCK_HZ / 1e6} MHz design (at most ${Math.floor(RTL_CLOCK_HZ / RTL_MIN_CLOCKS_PER_BIT)})`,
    );
  }
  return cpb;
}

const firmwareDir = () => join(packageRoot(), 'firmware');

/** Where built simulators are kept: firmware/build/rtl when writable, else the user's cache. */
function cacheDir(): string {
  const local = join(firmwareDir(), 'build', 'rtl');
  try {
    mkdirSync(local, { recursive: true });
    accessSync(local, constants.W_OK);
    return local;
  } catch {
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'atomik-node', 'rtl');
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}

/** A digest of everything the simulator is built from, so a cached build is never stale. */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) add(join(path, name));
    } else {
      hash.update(relative(firmwareDir(), path)).update(readFileSync(path));
    }
  };
  for (const p of ['rtl', 'boards/host/pty.c', 'boards/host/pty.h', 'Makefile']) add(join(firmwareDir(), p));
  return hash.digest('hex').slice(0, 12);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Builds (once per source digest and divider) the Verilated board and
 * returns its path. One process builds while the others wait for it (a lock
 * directory); the build happens in a private directory and is renamed into
 * place, so nobody ever runs half a build.
 */
export async function buildRtlBoard(design: RtlDesign, clocksPerBit: number, contexts = RTL_DEFAULT_CONTEXTS): Promise<string> {
  const dir = cacheDir();
  const variant = design === 'framed' ? `${design}-${clocksPerBit}-c${contexts}` : `${design}-${clocksPerBit}`;
  const name = `atomik-rtl-${variant}-${sourceDigest()}`;
  const path = join(dir, name);
  const lock = `${path}.lock`;
  for (;;) {
    if (existsSync(path)) return path;
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building it; a lock older than 10 minutes is left over from a killed build.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // the lock went away meanwhile
      }
      await sleep(250);
    }
  }
  const scratch = mkdtempSync(join(dir, 'build-'));
  try {
    if (existsSync(path)) return path; // built while we took the lock
    await promisify(execFile)(
      'make',
      ['-C', firmwareDir(), 'rtl-board', `RTL_DESIGN=${design}`, `RTL_CPB=${clocksPerBit}`, `RTL_CONTEXTS=${contexts}`, `RTL_OUT=${scratch}`],
      { maxBuffer: 1 << 26 },
    );
    renameSync(join(scratch, `atomik-rtl-${design}-${clocksPerBit}`), path);
    // Builds of older sources are never used again.
    for (const old of readdirSync(dir))
      if (old.startsWith(`atomik-rtl-${variant}-`) && old !== name && !old.endsWith('.lock')) rmSync(join(dir, old), { force: true });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `cannot build the RTL board (make -C firmware rtl-board; needs verilator and a C++ compiler): ${e.stderr?.trim().slice(-2000) || e.message}`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
  return path;
}
