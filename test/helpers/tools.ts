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
 * Null when every command exists on this machine, else why not: every
 * missing one and the Debian packages to install, in one line (its tests are
 * then skipped with that reason). With ATOMIK_REQUIRE_BOARDS=1 (CI) a missing
 * command is an error instead: nothing may be skipped there.
 */
export function missing(...commands: string[]): string | null {
  const absent = commands.filter((c) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', c], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (absent.length === 0) return null;
  const packages = [...new Set(absent.map((c) => (Object.hasOwn(TEST_TOOL_PACKAGES, c) ? TEST_TOOL_PACKAGES[c]! : c)))];
  const why = `${absent.join(', ')} not installed (apt-get install ${packages.join(' ')})`;
  if (process.env.ATOMIK_REQUIRE_BOARDS === '1') throw new Error(`ATOMIK_REQUIRE_BOARDS=1 but ${why}`);
  return why;
}
