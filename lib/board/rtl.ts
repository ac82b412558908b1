// The RTL board: our Verilog (firmware/rtl) compiled by Verilator into a
// program that owns a PTY and shifts the bytes into the design's UART pins
// bit by bit, at the design's own baud divider.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AtomikRangeError } from '../core/errors.js';
import { buildCacheDir, cachedBuild, firmwareDir } from './build-cache.js';

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

/**
 * Builds (once per source digest, divider and size) the Verilated board in
 * the build cache (build-cache.ts) and returns its path.
 */
export async function buildRtlBoard(design: RtlDesign, clocksPerBit: number, contexts = RTL_DEFAULT_CONTEXTS, cacheDir?: string): Promise<string> {
  const variant = design === 'framed' ? `${design}-${clocksPerBit}-c${contexts}` : `${design}-${clocksPerBit}`;
  try {
    const { path } = await cachedBuild(join(buildCacheDir(cacheDir), `atomik-rtl-${variant}`), async (scratch) => {
      await promisify(execFile)(
        'make',
        [
          '-C',
          firmwareDir(),
          'rtl-board',
          `BUILD=${scratch}`,
          `RTL_DESIGN=${design}`,
          `RTL_CPB=${clocksPerBit}`,
          `RTL_CONTEXTS=${contexts}`,
          `RTL_OUT=${scratch}`,
        ],
        { maxBuffer: 1 << 26 },
      );
      return join(scratch, `atomik-rtl-${design}-${clocksPerBit}`);
    });
    return path;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `cannot build the RTL board (make -C firmware rtl-board; needs verilator and a C++ compiler): ${e.stderr?.trim().slice(-2000) || e.message}`,
    );
  }
}
