// The RTL board: our Verilog (firmware/rtl) compiled by Verilator into a
// program that owns a PTY and shifts the bytes into the design's UART pins
// bit by bit, at the design's own baud divider.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { packageRoot } from '../engine/native.js';

/** The clock of the simulated design: the Tang Nano 9K's crystal. */
export const RTL_CLOCK_HZ = 27_000_000;
/** The UART receiver needs at least this many clocks per bit (three votes around the middle). */
export const RTL_MIN_CLOCKS_PER_BIT = 8;

/** Clocks per bit for a baud rate at RTL_CLOCK_HZ: 115200 -> 234, as on the board. */
export function rtlClocksPerBit(baud: number): number {
  if (!Number.isInteger(baud) || baud <= 0) throw new RangeError(`baud must be a positive integer, got ${baud}`);
  const cpb = Math.round(RTL_CLOCK_HZ / baud);
  if (cpb < RTL_MIN_CLOCKS_PER_BIT) {
    throw new RangeError(`baud ${baud} is too fast for a ${RTL_CLOCK_HZ / 1e6} MHz design (at most ${Math.floor(RTL_CLOCK_HZ / RTL_MIN_CLOCKS_PER_BIT)})`);
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

/**
 * Builds (once per source digest and divider) the Verilated board and
 * returns its path. Built in a private directory and renamed into place, so
 * concurrent callers never see half a build.
 */
export function buildRtlBoard(design: 'legacy', clocksPerBit: number): string {
  const dir = cacheDir();
  const name = `atomik-rtl-${design}-${clocksPerBit}-${sourceDigest()}`;
  const path = join(dir, name);
  if (existsSync(path)) return path;
  const scratch = mkdtempSync(join(dir, 'build-'));
  try {
    execFileSync('make', ['-C', firmwareDir(), 'rtl-board', `RTL_DESIGN=${design}`, `RTL_CPB=${clocksPerBit}`, `RTL_OUT=${scratch}`], { stdio: 'pipe' });
    renameSync(join(scratch, `atomik-rtl-${design}-${clocksPerBit}`), path);
    // Builds of older sources are never used again.
    for (const old of readdirSync(dir)) if (old.startsWith(`atomik-rtl-${design}-${clocksPerBit}-`) && old !== name) rmSync(join(dir, old), { force: true });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`cannot build the RTL board (make -C firmware rtl-board; needs verilator and a C++ compiler): ${e.stderr?.toString().trim().slice(-2000) || e.message}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return path;
}
