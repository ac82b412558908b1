// A bound on what a Redis server may send: a scanner that follows the RESP
// framing of every byte a connection receives (before the client's parser
// buffers it) and cuts the connection when a reply announces more than the
// replica could ever need. A server that is not Redis, or a hostile one,
// then costs a reconnect, not gigabytes of memory.
import type { Socket } from 'node:net';

/** What a connection may receive: bulk strings and lines up to these sizes, aggregates up to this many elements. */
export interface ReplyLimits {
  bulkBytes: number;
  lineBytes: number;
  elements: number;
}

const CR = 0x0d;
const LF = 0x0a;
/** RESP2/RESP3 types followed by a byte count, and by an element count. */
const BULK = new Set('$=!'.split('').map((c) => c.charCodeAt(0)));
const AGGREGATE = new Set('*%~>|'.split('').map((c) => c.charCodeAt(0)));

/** Follows one connection's bytes; returns why it must be cut, or null. */
export class ReplyScanner {
  private type = -1;
  private lineLength = 0;
  private value = 0;
  private negative = false;
  /** Bytes of a bulk payload (and its CRLF) still to pass. */
  private skip = 0;

  constructor(private readonly limits: ReplyLimits) {}

  scan(chunk: Uint8Array): string | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.type < 0) {
        this.type = byte;
        this.lineLength = 0;
        this.value = 0;
        this.negative = false;
        continue;
      }
      if (byte === LF) {
        const why = this.endLine();
        if (why) return why;
        continue;
      }
      if (++this.lineLength > this.limits.lineBytes) return `a reply line longer than ${this.limits.lineBytes} bytes`;
      if (byte === 0x2d && this.lineLength === 1) this.negative = true;
      else if (byte >= 0x30 && byte <= 0x39) this.value = Math.min(this.value * 10 + (byte - 0x30), Number.MAX_SAFE_INTEGER);
      else if (byte !== CR) this.value = 0; // not a count: a simple string, an error, a double ...
    }
    return null;
  }

  private endLine(): string | null {
    const type = this.type;
    this.type = -1;
    if (this.negative) return null; // $-1, *-1: null replies
    if (BULK.has(type)) {
      if (this.value > this.limits.bulkBytes) return `a reply of ${this.value} bytes (at most ${this.limits.bulkBytes} are expected)`;
      this.skip = this.value + 2;
    } else if (AGGREGATE.has(type) && this.value > this.limits.elements) {
      return `a reply of ${this.value} elements (at most ${this.limits.elements} are expected)`;
    }
    return null;
  }
}

/** Scans everything `socket` receives and destroys it on a reply beyond `limits`. */
export function guardSocket(socket: Socket, limits: ReplyLimits): void {
  const scanner = new ReplyScanner(limits);
  const watch = (chunk: Buffer) => {
    const why = scanner.scan(chunk);
    if (why === null) return;
    socket.off('data', watch);
    socket.destroy(new Error(`the server sent ${why}: not a reply Redis gives this replica`));
  };
  socket.prependListener('data', watch);
}

const MIB = 1024 * 1024;

/**
 * What a replica's connections may receive: a snapshot (8 bytes a context)
 * or an entry (at most one coalesced update, 12 bytes, per context) of its
 * largest partition, with 64 MiB to spare for delivery records and origin
 * lists; aggregates of up to 2^24 elements, or 4 per entry read at once.
 */
export function replyLimits(partitionSize: number, readCount: number): ReplyLimits {
  return { bulkBytes: 12 * partitionSize + 64 * MIB, lineBytes: MIB, elements: Math.max(1 << 24, 4 * readCount) };
}

/** For reading any table (inspect): Redis's own default bound on a bulk string, 512 MiB. */
export const ANY_TABLE_LIMITS: ReplyLimits = { bulkBytes: 512 * MIB, lineBytes: MIB, elements: 1 << 24 };
