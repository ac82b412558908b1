// Loads the Node-API addon (prebuild or local build, via node-gyp-build) and
// wraps it as an Engine. Loading never throws: a missing or broken addon is
// reported as a reason, and the js engine takes over.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP_CODE, type Group } from '../core/group.js';
import { AtomikRangeError } from '../core/errors.js';
import { jsEngine } from './js.js';
import type { Engine } from './types.js';

/** The addon's exports (native/binding.cc). */
export interface NativeBinding {
  abiVersion: number;
  reduce(group: 0 | 1, deltas: BigUint64Array): bigint;
  scatter(group: 0 | 1, ref: BigUint64Array, acc: BigUint64Array, idx: Uint32Array, deltas: BigUint64Array): number;
  gather(group: 0 | 1, ref: BigUint64Array, acc: BigUint64Array, idx: Uint32Array, out: BigUint64Array): number;
  load(ref: BigUint64Array, acc: BigUint64Array, idx: Uint32Array, values: BigUint64Array): number;
  states(group: 0 | 1, ref: BigUint64Array, acc: BigUint64Array, out: BigUint64Array): number;
  exec(group: 0 | 1, ref: BigUint64Array, acc: BigUint64Array, ops: BigUint64Array): number;
  applyBatch(group: 0 | 1, ref: BigUint64Array, acc: BigUint64Array, partition: number, entry: Uint8Array): number;
  batchChecksum(entry: Uint8Array): bigint;
  foldXor(data: ArrayBufferView): bigint;
  foldPositional(data: ArrayBufferView): bigint;
}

/** Must match ATOMIK_ABI_VERSION in native/atomik.h. */
export const NATIVE_ABI_VERSION = 1;

export interface NativeLoad {
  binding: NativeBinding | null;
  /** The .node file that was loaded. */
  path: string | null;
  /** Why the addon is not available (null when it is). */
  error: string | null;
}

const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
const requireHere = createRequire(join(here, 'noop.js'));

/** The package root: the nearest folder above this module holding binding.gyp. */
export function packageRoot(): string {
  let dir = here;
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) return here;
    dir = parent;
  }
  return dir;
}

let cached: NativeLoad | null = null;

/**
 * Loads the addon once. ATOMIK_NATIVE_PATH names an explicit .node file
 * (sanitizer builds use it); otherwise node-gyp-build looks in prebuilds/
 * and build/ (PREBUILDS_ONLY=1 restricts it to prebuilds/).
 */
export function loadNative(): NativeLoad {
  if (cached) return cached;
  let path: string | null = null;
  try {
    const explicit = process.env.ATOMIK_NATIVE_PATH;
    if (explicit) {
      path = explicit;
    } else {
      const nodeGypBuild = requireHere('node-gyp-build') as { path(dir: string): string };
      path = nodeGypBuild.path(packageRoot());
    }
    const binding = requireHere(path) as NativeBinding;
    if (binding.abiVersion !== NATIVE_ABI_VERSION) {
      throw new Error(`addon ABI ${binding.abiVersion} does not match ${NATIVE_ABI_VERSION}; rebuild it with npm run build:native`);
    }
    cached = { binding, path, error: null };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    cached = { binding: null, path, error: message };
  }
  return cached;
}

/** Below this many elements the js kernels win: crossing into C costs more than the work. */
export const NATIVE_THRESHOLD = 16;

const ATOMIK_ERANGE = -1;

/** Maps a C status to the Engine contract: false for an index out of range. */
function check(status: number, what: string): boolean {
  if (status === ATOMIK_ERANGE) return false;
  if (status !== 0) throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `native ${what} rejected its arguments (status ${status})`);
  return true;
}

// Engines made here: the only objects besides jsEngine that the `engine` option accepts.
const created = new WeakSet<object>();

export function isNativeEngine(value: unknown): value is Engine {
  return typeof value === 'object' && value !== null && created.has(value);
}

export function createNativeEngine(b: NativeBinding): Engine {
  const engine = nativeEngineOver(b);
  created.add(engine);
  return engine;
}

function nativeEngineOver(b: NativeBinding): Engine {
  const g = (group: Group) => GROUP_CODE[group];
  return {
    name: 'native',
    reduce: (group, deltas) => (deltas.length < NATIVE_THRESHOLD ? jsEngine.reduce(group, deltas) : b.reduce(g(group), deltas)),
    scatter(group, ref, acc, idx, deltas) {
      if (idx.length < NATIVE_THRESHOLD) return jsEngine.scatter(group, ref, acc, idx, deltas);
      return check(b.scatter(g(group), ref, acc, idx, deltas), 'scatter');
    },
    gather(group, ref, acc, idx, out) {
      if (idx.length < NATIVE_THRESHOLD) return jsEngine.gather(group, ref, acc, idx, out);
      return check(b.gather(g(group), ref, acc, idx, out), 'gather');
    },
    load(ref, acc, idx, values) {
      if (idx.length < NATIVE_THRESHOLD) return jsEngine.load(ref, acc, idx, values);
      return check(b.load(ref, acc, idx, values), 'load');
    },
    states: (group, ref, acc, out) => void check(b.states(g(group), ref, acc, out), 'states'),
    exec(group, ref, acc, ops) {
      if (!check(b.exec(g(group), ref, acc, ops), 'exec'))
        throw new AtomikRangeError('ERR_ATOMIK_INDEX_OUT_OF_RANGE', 'native exec: an op index is out of range');
    },
    applyBatch: (group, ref, acc, partition, entry) => b.applyBatch(g(group), ref, acc, partition, entry),
    foldXor: (data) => b.foldXor(data),
    foldPositional: (data) => b.foldPositional(data),
  };
}
