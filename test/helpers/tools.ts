import { execFileSync } from 'node:child_process';

/**
 * Null when every command exists on this machine, else the first missing
 * one (its tests are then reported as skipped). With ATOMIK_REQUIRE_BOARDS=1
 * (CI) a missing command is an error instead: nothing may be skipped there.
 */
export function missing(...commands: string[]): string | null {
  for (const c of commands) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      if (process.env.ATOMIK_REQUIRE_BOARDS === '1') throw new Error(`ATOMIK_REQUIRE_BOARDS=1 but ${c} is not installed`);
      return c;
    }
  }
  return null;
}
