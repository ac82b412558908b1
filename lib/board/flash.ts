// Flashing a bitstream onto a real FPGA board through the usual open tools:
// openFPGALoader for the Tang Nano 9K, iceprog for iCE40 boards with an
// FTDI programmer (iCEBreaker, HX8K breakout).
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { AtomikError, AtomikTypeError } from '../core/errors.js';
import { boolean, describe, knownKeys, object, oneOf } from '../core/validate.js';

export const FLASH_BOARDS = {
  tangnano9k: { tool: 'openFPGALoader', debian: 'openfpgaloader', extension: '.fs' },
  ice40: { tool: 'iceprog', debian: 'fpga-icestorm', extension: '.bin' },
} as const;

export type FlashBoard = keyof typeof FLASH_BOARDS;

export interface FlashOptions {
  board: FlashBoard;
  bitstream: string;
  /** Load the FPGA's SRAM only (lost at power-off) instead of writing the configuration flash. */
  sram?: boolean;
}

/** The command that flashes the bitstream; checks the board name and the file first. */
export function flashCommand(options: FlashOptions): { command: string; args: string[] } {
  object(options, 'options');
  knownKeys(options, ['board', 'bitstream', 'sram'], 'options');
  const { board, bitstream, sram = false } = options;
  const boards = Object.keys(FLASH_BOARDS) as FlashBoard[];
  oneOf(board, boards, 'options.board'); // own keys only: never __proto__ or toString
  const spec = FLASH_BOARDS[board];
  if (typeof bitstream !== 'string' || bitstream === '')
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `options.bitstream must be a file name, got ${describe(bitstream)}`);
  boolean(sram, 'options.sram');
  const path = resolve(bitstream); // absolute: a file name can never be taken for an option
  if (extname(path) !== spec.extension)
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `${board} bitstreams are ${spec.extension} files, got ${bitstream}`);
  try {
    accessSync(path, constants.R_OK);
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch {
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', `cannot read the bitstream ${bitstream}`);
  }
  if (board === 'tangnano9k') return { command: spec.tool, args: ['-b', 'tangnano9k', ...(sram ? [] : ['-f']), path] };
  return { command: spec.tool, args: [...(sram ? ['-S'] : []), path] };
}

/** Quotes a command for printing, so that it can be pasted into a shell. */
export function shellLine(command: string, args: string[]): string {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs a command made by flashCommand, its output shown as it comes; rejects when it fails or is missing. */
export function runFlash({ command, args }: { command: string; args: string[] }): Promise<void> {
  const debian = Object.values(FLASH_BOARDS).find((b) => b.tool === command)?.debian ?? command;
  return new Promise((resolveDone, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new AtomikError('ERR_ATOMIK_MISSING_TOOL', `flashing needs ${command}, which is not installed (Debian: apt-get install ${debian})`)
          : err,
      ),
    );
    child.once('exit', (code, signal) => {
      if (code === 0) resolveDone();
      else reject(new AtomikError('ERR_ATOMIK_DEVICE', `${command} failed (${signal ?? `exit code ${code}`}): ${shellLine(command, args)}`));
    });
  });
}
