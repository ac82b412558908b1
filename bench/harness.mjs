// Shared by the benchmarks: the engines to compare, the plain C baselines
// (a bench-only addon, bench/native) and the machine's description.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { AtomikContext } from '../dist/index.js';

const require = createRequire(import.meta.url);

/** The engines behind the public `engine` option; `unavailable` says why native is missing. */
export function createEngines() {
  const engines = [{ name: 'js', engine: new AtomikContext({ engine: 'js' }).engine }];
  let unavailable = null;
  try {
    engines.push({ name: 'native', engine: new AtomikContext({ engine: 'native' }).engine });
  } catch (err) {
    unavailable = err.message;
  }
  return { engines, unavailable, baselines: loadBaselines() };
}

/** The bench-only addon of plain C loops (readSum, scatter), built on first use; null when it cannot be built. */
export function loadBaselines() {
  const dir = fileURLToPath(new URL('./native/', import.meta.url));
  const file = `${dir}build/Release/baselines.node`;
  try {
    if (!existsSync(file)) execFileSync(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--directory', dir], { stdio: 'pipe' });
    return require(file);
  } catch (err) {
    console.warn(`plain C baselines unavailable: ${err.message.split('\n')[0]}`);
    return null;
  }
}

function cpuModel() {
  const model = os.cpus()[0]?.model?.trim();
  if (model) return model;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1].trim() : 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

/** A seeded xorshift32 source of numbers in [0, 1): the same workload in every run and process. */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export function machine() {
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}
