// The progress renderer: plain lines when the stream is not a terminal, a bar
// redrawn in place on one (a Writable that says it is a TTY, as
// process.stderr does), and the CLI drawing a board's build steps.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressBar, progressBarLine, progressLine } from '../../lib/cli/progress-bar.js';
import type { Progress } from '../../lib/core/progress.js';
import { cli } from '../helpers/cli.js';
import { missing } from '../helpers/tools.js';

/** A real Writable that records what it is given; `tty` makes it look like a terminal of `columns`. */
function recorder(tty: boolean, columns = 80): Writable & { isTTY?: boolean; columns?: number; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text(): string };
  if (tty) Object.assign(stream, { isTTY: true, columns });
  stream.text = () => chunks.join('');
  return stream;
}

const steps: Progress[] = [
  { task: 'build', done: 0, total: 2, message: 'building the host firmware (make -C firmware host)' },
  { task: 'build', done: 1, total: 2, message: 'starting the host board' },
  { task: 'build', done: 2, total: 2, message: 'host board ready at /tmp/b/tty' },
];

describe('progress lines', () => {
  it('formats a counted step, an uncounted one, and the bar at 0, half and full', () => {
    expect(progressLine(steps[1]!)).toBe('[build 1/2] starting the host board');
    expect(progressLine({ task: 'probe', done: 0, total: 0, message: 'hello probe' })).toBe('[probe] hello probe');
    expect(progressLine({ task: 'batch', done: 300, total: 0, message: 'accumulates' })).toBe('[batch 300] accumulates');
    expect(steps.map(progressBarLine)).toEqual([
      'build [--------------------] 0/2 building the host firmware (make -C firmware host)',
      'build [##########----------] 1/2 starting the host board',
      'build [####################] 2/2 host board ready at /tmp/b/tty',
    ]);
    expect(progressBarLine({ task: 'batch', done: 7, total: 0, message: 'frames' })).toBe('batch 7 frames');
    expect(progressBarLine({ task: 'batch', done: 9, total: 4, message: 'x' })).toBe('batch [####################] 9/4 x');
  });
});

describe('createProgressBar', () => {
  it('not a terminal: one plain line per step, nothing to clear', () => {
    const out = recorder(false);
    const bar = createProgressBar(out);
    for (const p of steps) bar.listener(p);
    bar.end();
    expect(out.text()).toBe(
      '[build 0/2] building the host firmware (make -C firmware host)\n' +
        '[build 1/2] starting the host board\n' +
        '[build 2/2] host board ready at /tmp/b/tty\n',
    );
  });

  it('not a terminal: a long batch writes its first and last count, not every one', () => {
    const out = recorder(false);
    const bar = createProgressBar(out);
    for (let done = 0; done <= 1000; done += 10) bar.listener({ task: 'batch', done, total: 1000, message: 'accumulates' });
    bar.listener({ task: 'batch', done: 1000, total: 1000, message: 'accumulates' });
    expect(out.text()).toBe('[batch 0/1000] accumulates\n[batch 1000/1000] accumulates\n');
  });

  it('a terminal: the bar is redrawn in place (CR, erase line), cut to the width, and cleared at the end', () => {
    const out = recorder(true, 42); // lines of at most 41 characters
    const bar = createProgressBar(out);
    for (const p of steps) bar.listener(p);
    bar.listener(steps[2]!); // unchanged: not drawn again
    bar.end();
    bar.end(); // nothing left to clear
    expect(out.text()).toBe(
      '\r\x1b[2Kbuild [--------------------] 0/2 building' +
        '\r\x1b[2Kbuild [##########----------] 1/2 starting' +
        '\r\x1b[2Kbuild [####################] 2/2 host boa' +
        '\r\x1b[2K',
    );
  });

  it('a terminal that was never drawn on is left alone', () => {
    const out = recorder(true);
    createProgressBar(out).end();
    expect(out.text()).toBe('');
  });
});

const noHost = missing('make', 'cc');
describe.skipIf(noHost !== null)(`the CLI draws a board's build${noHost ? ` (skipped: ${noHost} not found)` : ''}`, () => {
  it('emulate, stderr not a terminal: the build steps as plain lines, then the port', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'atomik-cli-cache-'));
    const child = spawn(process.execPath, [cli, 'emulate', '--contexts', '4'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ATOMIK_CACHE_DIR: cache },
    });
    try {
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => stderr.includes('Ctrl-C stops it.') && (clearInterval(poll), resolve()), 20);
        child.once('exit', () => (clearInterval(poll), reject(new Error(`emulate exited: ${stderr}`))));
      });
      const port = /^PORT (\S+)\n$/.exec(stdout)![1]!;
      expect(stderr).toBe(
        '[build 0/2] building the host firmware (make -C firmware host)\n' +
          '[build 1/2] starting the host board\n' +
          `[build 2/2] host board ready at ${port}\n` +
          `host board running; open ${port}. Ctrl-C stops it.\n`,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(cache, { recursive: true, force: true });
    }
  }, 60_000);
});
