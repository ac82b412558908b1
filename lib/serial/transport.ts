// A byte pipe to a device. The serial implementation wraps the `serialport`
// package, the memory pair (memory-transport.ts) connects two ends in one
// process; nothing here knows about the protocol.
import { createRequire } from 'node:module';
import { AtomikError } from '../core/errors.js';

export interface Transport {
  readonly path: string;
  readonly baudRate: number;
  /** Queues bytes; resolves once the OS has taken them. */
  write(data: Uint8Array): Promise<void>;
  /** Every listener receives every chunk of incoming bytes; returns a function that removes it. */
  onData(listener: (data: Uint8Array) => void): () => void;
  /** Called once when the port goes away (unplugged, board killed) or is closed; returns a remover. */
  onClose(listener: (err: Error | null) => void): () => void;
  close(): Promise<void>;
}

/** The listener lists behind onData/onClose; a throwing listener cannot starve the others. */
export class Listeners<T> {
  private list: ((value: T) => void)[] = [];

  add(listener: (value: T) => void): () => void {
    this.list = [...this.list, listener];
    return () => {
      this.list = this.list.filter((l) => l !== listener);
    };
  }

  emit(value: T): void {
    for (const listener of this.list) {
      try {
        listener(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err; // a bug in a listener surfaces as an uncaught error, after the others ran
        });
      }
    }
  }
}

export interface SerialTransportOptions {
  baudRate?: number;
  /** Exclusive lock on the port (default true; PTYs reopened by tests pass false). */
  lock?: boolean;
}

interface SerialPortLike {
  open(cb: (err: Error | null) => void): void;
  write(data: Uint8Array, cb: (err: Error | null | undefined) => void): boolean;
  close(cb: (err: Error | null) => void): void;
  on(event: 'data', cb: (data: Buffer) => void): void;
  on(event: 'close', cb: (err: Error | null) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  readonly isOpen: boolean;
}

const requireHere = createRequire(import.meta.url);

/** Loads the serialport package, or says why it cannot. */
export function loadSerialPort(): { SerialPort: new (options: object) => SerialPortLike; list(): Promise<PortInfo[]> } | Error {
  try {
    const mod = requireHere('serialport') as { SerialPort: (new (options: object) => SerialPortLike) & { list(): Promise<PortInfo[]> } };
    return { SerialPort: mod.SerialPort, list: () => mod.SerialPort.list() };
  } catch (err) {
    return new Error(`the serialport package is not available: ${(err as Error).message.split('\n')[0]}`);
  }
}

export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  pnpId?: string;
}

export async function openSerialTransport(path: string, options: SerialTransportOptions = {}): Promise<Transport> {
  const loaded = loadSerialPort();
  if (loaded instanceof Error) throw loaded;
  const baudRate = options.baudRate ?? 115200;
  const port = new loaded.SerialPort({ path, baudRate, autoOpen: false, lock: options.lock ?? true });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => {
      if (!err) return resolve();
      // serialport words it "Error: <why>, cannot open <path>": say it once.
      const why = err.message.replace(/^Error: /, '').replace(`, cannot open ${path}`, '');
      reject(new AtomikError('ERR_ATOMIK_NO_DEVICE', `cannot open ${path}: ${why}`, { cause: err }));
    }),
  );
  const data = new Listeners<Uint8Array>();
  const closing = new Listeners<Error | null>();
  let closed = false;
  const finish = (err: Error | null) => {
    if (closed) return;
    closed = true;
    closing.emit(err);
  };
  port.on('data', (chunk) => data.emit(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  port.on('close', (err) => finish(err ?? null));
  port.on('error', (err) => finish(err));
  return {
    path,
    baudRate,
    write(data) {
      if (closed) return Promise.reject(new Error(`${path} is closed`));
      // Resolved when the OS took the bytes; no drain (tcdrain): it waits for the line in a worker thread per write, which delays reading.
      return new Promise((resolve, reject) => port.write(data, (err) => (err ? reject(err) : resolve())));
    },
    onData: (listener) => data.add(listener),
    onClose: (listener) => closing.add(listener),
    close() {
      if (closed || !port.isOpen) {
        finish(null);
        return Promise.resolve();
      }
      return new Promise((resolve) =>
        port.close(() => {
          finish(null);
          resolve();
        }),
      );
    },
  };
}
