// atomik-node: what an application uses. Serial ports, virtual boards, the
// replication log's codec and a private Redis for tests have entries of
// their own (atomik-node/serial, /board, /replicate, /testing).
export { AtomikContext, type ContextOptions } from './table/context.js';
export { AtomikTable, type TableOptions } from './table/table.js';
export { saveTable, loadTable } from './table/table-file.js';
export { Fingerprint, positionalTerm, type FingerprintMode, type FingerprintOptions } from './table/fingerprint.js';
export type { BatchOp, BatchResult } from './table/batch.js';
export { DeltaMessage, packSeq, unpackSeq } from './stream/message.js';
export { DeltaStream, RECEIPT, type DeltaStreamOptions, type Receipt, type ReceiveSummary } from './stream/delta-stream.js';
export { replicate, Replica, type ReplicateOptions, type ReplicaStats, type ReplicaHealth } from './replicate/replica.js';
export { open, Accumulator, type OpenOptions, type BackendInfo, type BackendChoice } from './open.js';
export { limits, type Limits } from './limits.js';
export type { BackendName, ContextStatus } from './backend/types.js';
export type { SerialInfo, LinkStats, HelloInfo } from './backend/device.js';
export type { ReconnectOptions } from './serial/framed/session.js';
export type { Progress, ProgressListener } from './core/progress.js';
export { GROUPS, combine, inverse, type Group } from './core/group.js';
export type { EngineChoice } from './engine/select.js';
export type { Engine } from './engine/types.js';
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
