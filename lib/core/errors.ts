// Every error the package throws, each with a stable `code` to branch on
// (messages may be reworded; codes do not change). Bad arguments are
// TypeErrors and RangeErrors that carry a code, as Node's own are.

/** The codes in use; see the README's error table. */
export type AtomikErrorCode =
  | 'ERR_ATOMIK_INVALID_ARG_TYPE'
  | 'ERR_ATOMIK_INVALID_ARG_VALUE'
  | 'ERR_ATOMIK_OUT_OF_RANGE'
  | 'ERR_ATOMIK_INDEX_OUT_OF_RANGE'
  | 'ERR_ATOMIK_LENGTH_MISMATCH'
  | 'ERR_ATOMIK_DETACHED_BUFFER'
  | 'ERR_ATOMIK_CLOSED'
  | 'ERR_ATOMIK_NATIVE_UNAVAILABLE'
  | 'ERR_ATOMIK_NO_DEVICE'
  | 'ERR_ATOMIK_DEVICE'
  | 'ERR_ATOMIK_MALFORMED_FRAME'
  | 'ERR_ATOMIK_MISSING_TOOL'
  | DeltaStreamErrorCode
  | ReplicationErrorCode;

/** The codes of DeltaStream (lib/message.ts). */
export type DeltaStreamErrorCode =
  'ERR_ATOMIK_NO_ORIGIN' | 'ERR_ATOMIK_NO_COUNTER' | 'ERR_ATOMIK_OUTBOX_FULL' | 'ERR_ATOMIK_NO_OUTBOX' | 'ERR_ATOMIK_BAD_STREAM_STATE';

/** The codes of ReplicationError. */
export type ReplicationErrorCode =
  | 'ERR_ATOMIK_REPLICA_CLOSED'
  | 'ERR_ATOMIK_PUBLISH_RETRY'
  | 'ERR_ATOMIK_BAD_BATCH'
  | 'ERR_ATOMIK_LOG_LOST'
  | 'ERR_ATOMIK_GAP'
  | 'ERR_ATOMIK_BAD_SNAPSHOT'
  | 'ERR_ATOMIK_BAD_LOG_STATE'
  | 'ERR_ATOMIK_CONNECT'
  | 'ERR_ATOMIK_LAYOUT_MISMATCH';

export interface AtomikErrorOptions {
  cause?: unknown;
}

/** The base of the package's own (non-argument) errors. */
export class AtomikError extends Error {
  readonly code: string;

  constructor(code: AtomikErrorCode | (string & {}), message: string, options?: AtomikErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
setName(AtomikError, 'AtomikError');

/** An argument of the wrong kind (ERR_ATOMIK_INVALID_ARG_TYPE, ..._INVALID_ARG_VALUE, ..._DETACHED_BUFFER). */
export class AtomikTypeError extends TypeError {
  readonly code: string;

  constructor(code: AtomikErrorCode, message: string, options?: AtomikErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
setName(AtomikTypeError, 'AtomikTypeError');

/** An argument outside its range (ERR_ATOMIK_OUT_OF_RANGE, ..._INDEX_OUT_OF_RANGE, ..._LENGTH_MISMATCH). */
export class AtomikRangeError extends RangeError {
  readonly code: string;

  constructor(code: AtomikErrorCode, message: string, options?: AtomikErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
setName(AtomikRangeError, 'AtomikRangeError');

/** One operation whose effect on a device is unknown after a failure. */
export interface Unconfirmed {
  op: string;
  index: number;
  /** 'sent': on the wire, no reply (may or may not have been applied); 'queued': never sent; 'refused': the device answered ERROR and applied none of it. */
  state: 'sent' | 'queued' | 'refused';
  /** The frame it was last sent in. */
  seq?: number;
  /** A run split across frames: the deltas `start .. start + count - 1` of the op's array this entry is about. */
  deltas?: { start: number; count: number };
}

/**
 * A device failure (ERR_ATOMIK_DEVICE): no reply, a refused frame, a port
 * that closed, a failed verify. `unconfirmed` lists the operations whose
 * effect is unknown; `deviceCode` is the device's own error name when it
 * sent one (e.g. 'INDEX_RANGE'), or 'VERIFY' for a failed read-back.
 */
export class DeviceError extends AtomikError {
  readonly unconfirmed: readonly Unconfirmed[];
  readonly deviceCode: string | undefined;

  constructor(message: string, unconfirmed: readonly Unconfirmed[] = [], deviceCode?: string, options?: AtomikErrorOptions) {
    const summary = unconfirmed.length
      ? `; ${unconfirmed.length} operation(s) not confirmed: ${unconfirmed
          .slice(0, 4)
          .map(
            (u) =>
              `${u.op}(${u.index}${u.deltas ? `, deltas ${u.deltas.start}..${u.deltas.start + u.deltas.count - 1}` : ''}) ${u.state}${u.seq === undefined ? '' : ` in frame ${u.seq}`}`,
          )
          .join(', ')}${unconfirmed.length > 4 ? ', ...' : ''}`
      : '';
    super('ERR_ATOMIK_DEVICE', message + summary, options);
    this.unconfirmed = unconfirmed;
    this.deviceCode = deviceCode;
  }
}
setName(DeviceError, 'DeviceError');

/**
 * A replicated table's failure (see the README's error table): a closed
 * replica, a publish being retried, a log entry skipped, entries lost by
 * Redis or missing from the log, an unreadable snapshot, another layout
 * stored under the same name.
 */
export class ReplicationError extends AtomikError {
  declare readonly code: ReplicationErrorCode;

  constructor(code: ReplicationErrorCode, message: string, options?: AtomikErrorOptions) {
    super(code, message, options);
  }
}
setName(ReplicationError, 'ReplicationError');

// The name shows in stack traces and toString(); spelled out so that no bundler can mangle it.
function setName(cls: { prototype: Error }, name: string): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}
