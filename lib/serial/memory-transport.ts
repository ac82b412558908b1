// Two transports joined back to back in one process: what one end writes,
// the other end receives, in order, on a later turn of the event loop (as
// from a port). Protocol logic and device models are tested on it without
// a PTY; closing either end closes both, as unplugging a cable does.
import { Listeners, type Transport } from './transport.js';

export interface MemoryTransportOptions {
  /** Reported as the line rate (the host's timeouts are derived from it); bytes still move at memory speed. */
  baudRate?: number;
  /** Names of the two ends (default 'memory:a' and 'memory:b'). */
  paths?: [string, string];
}

export interface TransportPair {
  /** The two ends: bytes written to one arrive at the other. */
  ends: [Transport, Transport];
  /** Takes both ends away as a pulled cable does: their close listeners see `err`. */
  unplug(err?: Error): void;
}

export function createTransportPair(options: MemoryTransportOptions = {}): TransportPair {
  const baudRate = options.baudRate ?? 115200;
  const [pathA, pathB] = options.paths ?? ['memory:a', 'memory:b'];
  const data = [new Listeners<Uint8Array>(), new Listeners<Uint8Array>()] as const;
  const closing = [new Listeners<Error | null>(), new Listeners<Error | null>()] as const;
  let closed = false;
  const shut = (err: Error | null) => {
    if (closed) return;
    closed = true;
    setImmediate(() => {
      closing[0].emit(err);
      closing[1].emit(err);
    });
  };
  const end = (side: 0 | 1, path: string): Transport => ({
    path,
    baudRate,
    write(bytes) {
      if (closed) return Promise.reject(new Error(`${path} is closed`));
      const copy = bytes.slice(); // the writer may reuse its buffer at once
      setImmediate(() => {
        if (!closed) data[side === 0 ? 1 : 0].emit(copy);
      });
      return Promise.resolve();
    },
    onData: (listener) => data[side].add(listener),
    onClose: (listener) => closing[side].add(listener),
    close() {
      shut(null);
      return Promise.resolve();
    },
  });
  return { ends: [end(0, pathA), end(1, pathB)], unplug: (err = new Error('unplugged')) => shut(err) };
}
