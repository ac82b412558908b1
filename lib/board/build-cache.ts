// Where the virtual boards' firmware is built: a cache directory outside the
// package, which may sit read-only under node_modules. One subdirectory per
// package version and digest of the firmware sources, so a build is never
// stale and never shared between different sources:
//   $ATOMIK_CACHE_DIR, else $XDG_CACHE_HOME/atomik-node, else ~/.cache/atomik-node
//   └── <version>-<digest>/atomik-host-board, atomik-cortex-m3.elf, atomik-rtl-...
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { packageRoot } from '../engine/native.js';
import { AtomikError } from '../core/errors.js';

export const firmwareDir = (): string => join(packageRoot(), 'firmware');

/** The cache root: `override`, else $ATOMIK_CACHE_DIR, else the XDG cache directory. */
export function cacheRoot(override?: string): string {
  if (override) return resolve(override);
  if (process.env.ATOMIK_CACHE_DIR) return resolve(process.env.ATOMIK_CACHE_DIR);
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'atomik-node');
}

let digest: string | undefined;

/** A digest of everything firmware is built from (firmware/ but its build output, and the C core in native/). */
function sourceDigest(): string {
  if (digest !== undefined) return digest;
  const root = packageRoot();
  const hash = createHash('sha256');
  const add = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name !== 'build') add(join(path, name));
    } else {
      hash.update(relative(root, path)).update('\0').update(readFileSync(path));
    }
  };
  add(firmwareDir());
  for (const name of ['atomik.c', 'atomik.h']) add(join(root, 'native', name));
  digest = hash.digest('hex').slice(0, 12);
  return digest;
}

/** The directory for this package version and these sources (created). */
export function buildCacheDir(override?: string): string {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  const dir = join(cacheRoot(override), `${version}-${sourceDigest()}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new AtomikError(
      'ERR_ATOMIK_MISSING_TOOL',
      `cannot create the firmware build cache ${dir} (${(err as Error).message}); set ATOMIK_CACHE_DIR or the cacheDir option to a writable directory`,
    );
  }
  return dir;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lock older than this with no owner we can check is left over from a killed build. */
const ABANDONED_LOCK_MS = 600_000;

/**
 * Takes the lock directory `lock`, made whole (with its owner file) before it
 * appears under its name, so that whoever sees the lock can read its owner.
 */
function takeLock(lock: string): boolean {
  const mine = mkdtempSync(`${lock}.take-`);
  writeFileSync(join(mine, 'owner'), `${process.pid} ${hostname()}\n`);
  try {
    renameSync(mine, lock); // fails while another lock (never empty) is in place
    return true;
  } catch {
    rmSync(mine, { recursive: true, force: true });
    return false;
  }
}

/** The process holding `lock` when it still runs, 'stale' when the lock is left over from a killed build. */
function lockOwner(lock: string): number | 'stale' | undefined {
  try {
    const [pid, host] = readFileSync(join(lock, 'owner'), 'utf8').trim().split(' ');
    if (host === hostname() && Number(pid) > 0) {
      try {
        process.kill(Number(pid), 0);
        return Number(pid);
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'EPERM' ? Number(pid) : 'stale';
      }
    }
  } catch {
    // no owner to read (gone meanwhile, or another machine's): judged by age
  }
  try {
    return Date.now() - statSync(lock).mtimeMs > ABANDONED_LOCK_MS ? 'stale' : undefined;
  } catch {
    return undefined; // the lock went away meanwhile
  }
}

/**
 * Returns `path`, building it first when it is missing: `build` runs in a
 * private scratch directory and returns the file it made, which is renamed
 * into place, so nobody ever runs half a build. One process builds while
 * the others wait (a lock directory naming its owner's pid: the lock of a
 * build that was killed is taken over at once). `built` says whether this
 * call built it; `onWait` hears of a build by another process being waited for.
 */
export async function cachedBuild(
  path: string,
  build: (scratch: string) => Promise<string>,
  onWait?: (owner: number) => void,
): Promise<{ path: string; built: boolean }> {
  const lock = `${path}.lock`;
  let told = false;
  for (;;) {
    if (existsSync(path)) return { path, built: false };
    if (takeLock(lock)) break;
    const owner = lockOwner(lock);
    if (owner === 'stale') {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (owner !== undefined && !told) {
      told = true;
      onWait?.(owner);
    }
    await sleep(250);
  }
  const scratch = mkdtempSync(`${path}.build-`);
  try {
    if (existsSync(path)) return { path, built: false }; // built while we took the lock
    renameSync(await build(scratch), path);
    return { path, built: true };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}
