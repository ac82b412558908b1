import { execFileSync } from 'node:child_process';
import { TOOL_PACKAGES } from '../../lib/board/emulate.js';

/** The Debian package of each command that only the tests look for. */
const TEST_TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ...TOOL_PACKAGES,
  'g++': 'g++',
  yosys: 'yosys',
  'nextpnr-ice40': 'nextpnr-ice40',
  icepack: 'fpga-icestorm',
  iceprog: 'fpga-icestorm',
};

/**
 * Null when every command exists on this machine, else why not: the first
 * missing one and the Debian package to install (its tests are then skipped
 * with that reason). With ATOMIK_REQUIRE_BOARDS=1 (CI) a missing command is
 * an error instead: nothing may be skipped there.
 */
export function missing(...commands: string[]): string | null {
  for (const c of commands) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      const why = `${c} not installed (apt-get install ${TEST_TOOL_PACKAGES[c] ?? c})`;
      if (process.env.ATOMIK_REQUIRE_BOARDS === '1') throw new Error(`ATOMIK_REQUIRE_BOARDS=1 but ${why}`);
      return why;
    }
  }
  return null;
}
