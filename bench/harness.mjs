// Shared by the benchmarks: the engines to compare and the machine's description.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { jsEngine, loadNative, selectEngine } from '../dist/index.js';

export function createEngines() {
  const load = loadNative();
  const engines = [{ name: 'js', engine: jsEngine }];
  if (load.binding) engines.push({ name: 'native', engine: selectEngine('native').engine });
  return { engines, binding: load.binding };
}

function cpuModel() {
  const model = os.cpus()[0]?.model?.trim();
  if (model) return model;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1].trim() : 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
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
