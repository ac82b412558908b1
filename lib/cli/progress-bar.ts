// Draws Progress (lib/core/progress.ts) for people: on a terminal, one bar
// redrawn in place and cleared at the end; elsewhere (a pipe, a CI log),
// one plain line per step, so logs stay readable.
import type { Progress, ProgressListener } from '../core/progress.js';

/** What the renderer writes to: process.stderr, or any stream with the same shape. */
export interface ProgressStream {
  write(text: string): unknown;
  /** True for a terminal: the bar is drawn in place. */
  isTTY?: boolean;
  /** The terminal's width; lines are cut to fit it. */
  columns?: number;
}

export interface ProgressBar {
  readonly listener: ProgressListener;
  /** Clears the bar (a terminal); call it before printing anything else. */
  end(): void;
}

const BAR_WIDTH = 20;
/** Return to the line's start and erase it. */
const CLEAR_LINE = '\r\x1b[2K';

function counter(p: Progress): string {
  return p.total > 0 ? `${p.done}/${p.total}` : `${p.done}`;
}

/** The plain form: `[build 1/2] starting the host board` (the count is left out while nothing is counted). */
export function progressLine(p: Progress): string {
  return p.total > 0 || p.done > 0 ? `[${p.task} ${counter(p)}] ${p.message}` : `[${p.task}] ${p.message}`;
}

/** The terminal form: `build [##########----------] 1/2 starting the host board`. */
export function progressBarLine(p: Progress): string {
  if (p.total <= 0) return `${p.task} ${counter(p)} ${p.message}`;
  const filled = Math.round((BAR_WIDTH * Math.min(p.done, p.total)) / p.total);
  return `${p.task} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${counter(p)} ${p.message}`;
}

export function createProgressBar(stream: ProgressStream): ProgressBar {
  let shown = ''; // what is on the terminal line, or the last plain line written
  let drawn = false;
  if (!stream.isTTY) {
    let topic = '';
    return {
      // A line for every count would flood a log during a long batch: a line is
      // written when the task or message changes, and for the last count.
      listener: (p) => {
        const line = progressLine(p);
        const next = `${p.task}\0${p.message}`;
        if (line === shown || (next === topic && p.done !== p.total)) return;
        topic = next;
        shown = line;
        stream.write(`${line}\n`);
      },
      end: () => {},
    };
  }
  return {
    listener: (p) => {
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      const line = progressBarLine(p).slice(0, width);
      if (drawn && line === shown) return;
      shown = line;
      drawn = true;
      stream.write(`${CLEAR_LINE}${line}`);
    },
    end: () => {
      if (drawn) stream.write(CLEAR_LINE);
      drawn = false;
      shown = '';
    },
  };
}
