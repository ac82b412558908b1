// The command line's arguments: each command declares its flags, and
// anything else is refused by name (with the nearest flag when it looks
// like a typo), so a misspelt flag never runs a command with defaults.
import { AtomikTypeError } from '../core/errors.js';
import { integer, nearestName } from '../core/validate.js';

/** A flag that takes a value, or a switch that does not. */
export type FlagSpec = Readonly<Record<string, 'value' | 'switch'>>;

export interface Parsed {
  values: Map<string, string>;
  switches: Set<string>;
  positionals: string[];
}

/** A usage mistake on the command line. */
export function usageError(message: string): AtomikTypeError {
  return new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_VALUE', message);
}

/** Splits `args` by `spec`: --flag value, --flag=value, switches; `--` ends the flags. */
export function parseArgs(command: string, args: readonly string[], spec: FlagSpec): Parsed {
  const parsed: Parsed = { values: new Map(), switches: new Set(), positionals: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      parsed.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!Object.hasOwn(spec, name)) {
      const near = nearestName(name, Object.keys(spec));
      throw usageError(`${command} has no flag ${name}${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (spec[name] === 'switch') {
      if (eq > 0) throw usageError(`${name} takes no value`);
      parsed.switches.add(name);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw usageError(`${name} needs a value`);
    if (parsed.values.has(name)) throw usageError(`${name} is given twice`);
    parsed.values.set(name, value);
  }
  return parsed;
}

/** A flag's integer value in [min, max], checked as the library checks the option it becomes. */
export function integerFlag(value: string | undefined, min: number, max: number, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usageError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  return integer(Number(value), min, max, name);
}

/** The only positional arguments a command takes; more is a mistake. */
export function positionals(parsed: Parsed, max: number): string[] {
  if (parsed.positionals.length > max) throw usageError(`unexpected argument(s): ${parsed.positionals.slice(max).join(' ')}`);
  return parsed.positionals;
}
