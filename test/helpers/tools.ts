import { execFileSync } from 'node:child_process';

/** Null when every command exists on this machine, else the first missing one. */
export function missing(...commands: string[]): string | null {
  for (const c of commands) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      return c;
    }
  }
  return null;
}
