// The engines every conformance test runs against. The native engine is
// skipped (with the reason) when the addon cannot load, unless
// ATOMIK_REQUIRE_NATIVE=1 says it must be there.
import { jsEngine } from '../../lib/engine/js.js';
import { createNativeEngine, loadNative } from '../../lib/engine/native.js';
import type { Engine } from '../../lib/index.js';

export interface EngineUnderTest {
  name: 'js' | 'native';
  engine: Engine | null;
  skipReason: string | null;
}

function nativeUnderTest(): EngineUnderTest {
  const load = loadNative();
  if (load.binding) return { name: 'native', engine: createNativeEngine(load.binding), skipReason: null };
  if (process.env.ATOMIK_REQUIRE_NATIVE === '1') {
    throw new Error(`ATOMIK_REQUIRE_NATIVE=1 but the addon did not load: ${load.error}`);
  }
  return { name: 'native', engine: null, skipReason: `native addon unavailable: ${load.error}` };
}

export const ENGINES: EngineUnderTest[] = [{ name: 'js', engine: jsEngine, skipReason: null }, nativeUnderTest()];

/** Why the native engine's tests are skipped here, or null. */
export const noNative = ENGINES[1]!.skipReason;

/** The loaded addon's raw exports, when present. */
export const nativeBinding = loadNative().binding;
