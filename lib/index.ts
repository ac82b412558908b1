// atomik-node: what an application uses. Serial ports and boards have
// their own entries (atomik-node/serial, atomik-node/board).
export { AtomikContext, type ContextOptions } from './table/context.js';
export { AtomikTable, MAX_TABLE_SIZE, type TableOptions } from './table/table.js';
export { saveTable, loadTable } from './table/table-file.js';
export {
  DeltaMessage,
  DeltaStream,
  DELTA_MESSAGE_BYTES,
  ORIGIN_BITS,
  COUNTER_BITS,
  MIN_ORIGIN,
  MAX_ORIGIN,
  MAX_COUNTER,
  DEFAULT_WINDOW,
  MIN_WINDOW,
  MAX_WINDOW,
  RECEIPT,
  packSeq,
  unpackSeq,
  type DeltaStreamOptions,
  type Receipt,
  type ReceiveSummary,
} from './stream/message.js';
export { Fingerprint, positionalTerm, type FingerprintMode, type FingerprintOptions } from './table/fingerprint.js';
export { replicate, Replica, type ReplicateOptions, type ReplicaStats } from './replicate/replica.js';
export { encodeBatch, readBatchHeader, BATCH_STATUS, type BatchHeader } from './engine/log-entry.js';
export { startRedisServer, redisServerMissing, type LocalRedisServer, type RedisServerOptions } from './testing/redis-server.js';
export { open, Accumulator, DEFAULT_CONTEXTS, BACKEND_CHOICES, type OpenOptions, type BackendInfo, type BackendChoice } from './open.js';
export type { BackendName, ContextStatus } from './backend/types.js';
export type { SerialInfo } from './serial/open-board.js';
export type { LinkStats, ReconnectOptions } from './serial/framed-client.js';
export type { Progress, ProgressListener } from './core/progress.js';
export type { HelloInfo } from './serial/frame.js';
export type { BatchOp, BatchResult } from './table/batch.js';
export { GROUPS, combine, inverse, type Group } from './core/group.js';
export type { EngineChoice } from './engine/select.js';
export type { Engine } from './engine/types.js';
export { U64_MAX } from './core/validate.js';
export {
  AtomikError,
  AtomikTypeError,
  AtomikRangeError,
  DeviceError,
  ReplicationError,
  type AtomikErrorCode,
  type DeltaStreamErrorCode,
  type ReplicationErrorCode,
  type Unconfirmed,
} from './core/errors.js';
