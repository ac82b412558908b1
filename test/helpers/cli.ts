// Runs the built command line (dist/cli.cjs) as a user would, with its exit code and output.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));

export function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return runScript(cli, args, env);
}

/** Runs a Node script to its end, whatever its exit code. */
export async function runScript(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [file, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts `atomik-node emulate` with `args`; resolves with the process and the port it printed. */
export function emulate(...args: string[]): Promise<{ child: ChildProcess; port: string }> {
  const child = spawn(process.execPath, [cli, 'emulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/^PORT (\S+)\n/);
      if (m) resolve({ child, port: m[1]! });
    });
    child.once('exit', () => reject(new Error('emulate exited early')));
  });
}
