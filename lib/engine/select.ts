// Chooses the in-process engine: an explicit choice, else ATOMIK_BACKEND,
// else 'auto' (native when the addon loads, js otherwise). The result says
// which engine runs and why the other one does not.
import { AtomikError } from '../core/errors.js';
import { oneOf } from '../core/validate.js';
import { jsEngine } from './js.js';
import { createNativeEngine, isNativeEngine, loadNative } from './native.js';
import type { Engine } from './types.js';

export type EngineChoice = 'auto' | 'js' | 'native';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'js', 'native'];

export interface EngineSelection {
  engine: Engine;
  /** Why this engine was chosen. */
  reason: string;
  /** Engines not chosen, each with the reason. */
  rejected: Partial<Record<'js' | 'native', string>>;
}

let nativeEngine: Engine | null = null;

/** The native engine, or an Error saying why it cannot load. */
export function nativeEngineOrError(): Engine | Error {
  const load = loadNative();
  if (!load.binding) return new Error(`the native addon is not available: ${load.error}`);
  nativeEngine ??= createNativeEngine(load.binding);
  return nativeEngine;
}

/** Reads ATOMIK_BACKEND when it names an in-process engine. */
export function envEngineChoice(): EngineChoice | undefined {
  const env = process.env.ATOMIK_BACKEND;
  return env === 'js' || env === 'native' || env === 'auto' ? env : undefined;
}

export function selectEngine(choice?: unknown, optionName = 'options.engine'): EngineSelection {
  const explicit = choice === undefined ? undefined : oneOf(choice, ENGINE_CHOICES, optionName);
  const fromEnv = explicit === undefined || explicit === 'auto' ? envEngineChoice() : undefined;
  const wanted = fromEnv && fromEnv !== 'auto' ? fromEnv : (explicit ?? 'auto');
  const source = fromEnv && fromEnv !== 'auto' ? `ATOMIK_BACKEND=${fromEnv}` : `${optionName}='${wanted}'`;
  if (wanted === 'js') {
    return { engine: jsEngine, reason: `js requested (${source})`, rejected: { native: `not requested (${source})` } };
  }
  const native = nativeEngineOrError();
  if (wanted === 'native') {
    if (native instanceof Error) throw new AtomikError('ERR_ATOMIK_NATIVE_UNAVAILABLE', `${source}: ${native.message}`);
    return { engine: native, reason: `native requested (${source})`, rejected: { js: `not requested (${source})` } };
  }
  if (native instanceof Error) {
    return { engine: jsEngine, reason: 'auto: the native addon is unavailable, js is the fallback', rejected: { native: native.message } };
  }
  return {
    engine: native,
    reason: `auto: the native addon loaded from ${loadNative().path}`,
    rejected: { js: 'auto: native is available and faster for batches' },
  };
}

let defaultSelection: EngineSelection | null = null;

/** The engine used when a class is constructed without an engine option. */
export function defaultEngine(): Engine {
  defaultSelection ??= selectEngine();
  return defaultSelection.engine;
}

/**
 * Resolves a class's `engine` option: a choice, the default, or an engine
 * this package made (another instance's `engine`); look-alike objects are
 * refused, since the kernels trust their engine.
 */
export function resolveEngine(option: unknown): Engine {
  if (option === undefined) return defaultEngine();
  if (option === jsEngine || isNativeEngine(option)) return option as Engine;
  return selectEngine(option).engine;
}
