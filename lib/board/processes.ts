// The processes behind a virtual board (the host and rtl programs, QEMU,
// socat, make). Each runs in a process group of its own, watched by a small
// shell that holds one end of a pipe to us: when our process ends in any way,
// kill -9 included, the pipe closes and the shell kills the whole group, so no
// board outlives the program that started it. A program that cannot start
// (missing, not executable, a directory) rejects with a coded error instead of
// an unhandled 'error' event.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { AtomikError } from '../core/errors.js';

/** Starts `command` in its own process group, killed with us; resolves once it runs. */
export function spawnOwned(command: string, args: string[], stdio: StdioOptions): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio, detached: true });
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new AtomikError('ERR_ATOMIK_MISSING_TOOL', `cannot run ${command}: ${err.code === 'ENOENT' ? 'not found' : (err.code ?? err.message)}`, {
          cause: err,
        }),
      );
    });
    child.once('spawn', () => {
      child.on('error', () => {}); // a later failure (a kill after exit) is not a crash; 'exit' tells the story
      const watchdog = spawn('sh', ['-c', `read line; kill -9 -${child.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      watchdog.on('error', () => {}); // without sh the group still ends with stop(), only not on kill -9
      watchdog.unref();
      (watchdog.stdin as Socket | null)?.unref();
      // Once the child is gone its group id may be reused: the watchdog goes first.
      child.once('exit', () => watchdog.kill('SIGKILL'));
      resolve(child);
    });
  });
}

/** Resolves when the child has ended. */
export function onExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

/** Sends `signal` to the child's whole group (what it started itself included). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!running(child)) return;
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal); // the group is already gone
  }
}

/** Stops the children (SIGTERM to each group) and resolves when all have ended. */
export function stopper(children: ChildProcess[]): () => Promise<void> {
  return async () => {
    for (const c of children) killGroup(c, 'SIGTERM');
    await Promise.all(children.map(onExit));
  };
}

/** Runs a command to its end; rejects with its stderr. */
export async function runToEnd(command: string, args: string[], failure: string): Promise<void> {
  const child = await spawnOwned(command, args, ['ignore', 'ignore', 'pipe']);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) =>
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${failure}: ${stderr.trim() || `exit ${code ?? signal}`}`)))),
  );
}

/** Waits for a line matching `pattern` on a child's stdout or stderr. */
export function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpMatchArray> {
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
