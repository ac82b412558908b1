// A fault-injecting serial line for hardware-in-the-loop tests: socat makes
// a PTY pair, the host opens one end, and this process shuttles bytes
// between the other end and the board's port (a virtual board or real
// hardware), dropping, duplicating, corrupting and delaying them with a
// seeded generator. Faults can be switched on after the host has connected.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSerialTransport, type Transport } from '../serial/transport.js';
import { requireTools } from './emulate.js';

export interface Faults {
  /** Probability per byte. */
  drop: number;
  duplicate: number;
  corrupt: number;
  /** Each chunk is held back 0..delayMs (order is kept). */
  delayMs: number;
}

export const NO_FAULTS: Faults = { drop: 0, duplicate: 0, corrupt: 0, delayMs: 0 };

export interface FaultStats {
  bytes: number;
  dropped: number;
  duplicated: number;
  corrupted: number;
}

export interface FaultProxy {
  /** The port the host opens. */
  port: string;
  faults: Faults;
  stats: FaultStats;
  stop(): Promise<void>;
}

/** Mulberry32: small, seeded, good enough to schedule faults reproducibly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Puts a faulty line in front of `boardPort`; open `proxy.port` instead and set `proxy.faults`. */
export async function startFaultProxy(boardPort: string, seed: number): Promise<FaultProxy> {
  requireTools('the fault-injecting line', 'socat');
  const dir = mkdtempSync(join(tmpdir(), 'atomik-proxy-'));
  const hostSide = join(dir, 'host');
  const proxySide = join(dir, 'proxy');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${hostSide}`, `pty,raw,echo=0,link=${proxySide}`], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !(existsSync(hostSide) && existsSync(proxySide)); i++) await new Promise((r) => setTimeout(r, 10));
  const near: Transport = await openSerialTransport(proxySide, { lock: false });
  const far: Transport = await openSerialTransport(boardPort, { lock: false });
  const rand = random(seed);
  const stats: FaultStats = { bytes: 0, dropped: 0, duplicated: 0, corrupted: 0 };
  const proxy: FaultProxy = { port: hostSide, faults: { ...NO_FAULTS }, stats, stop: async () => {} };

  const forward = (to: Transport) => {
    let chain = Promise.resolve();
    return (data: Uint8Array) => {
      const f = proxy.faults;
      const out: number[] = [];
      for (const byte of data) {
        stats.bytes++;
        if (rand() < f.drop) {
          stats.dropped++;
          continue;
        }
        let b = byte;
        if (rand() < f.corrupt) {
          b ^= 1 << Math.floor(rand() * 8);
          stats.corrupted++;
        }
        out.push(b);
        if (rand() < f.duplicate) {
          out.push(b);
          stats.duplicated++;
        }
      }
      const delay = f.delayMs > 0 ? rand() * f.delayMs : 0;
      chain = chain
        .then(() => (delay > 0 ? new Promise((r) => setTimeout(r, delay)) : undefined))
        .then(() => (out.length ? to.write(Uint8Array.from(out)) : undefined))
        .catch(() => {});
    };
  };
  near.onData(forward(far));
  far.onData(forward(near));
  proxy.stop = async () => {
    await Promise.all([near.close(), far.close()]);
    socat.kill('SIGTERM');
    await new Promise((r) => (socat.exitCode !== null ? r(null) : socat.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  };
  return proxy;
}
