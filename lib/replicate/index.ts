// atomik-node/replicate: tools around a replicated table: inspecting one in
// Redis, and the log's entry codec for tools that read or write the log
// without a Replica (lib/replicate/BATCH-FORMAT.md). Applications use
// replicate() from the main entry.
export { encodeLogEntry, readLogEntryHeader, ENTRY_STATUS, type LogEntryHeader, type EntryEncoding } from '../engine/log-entry.js';
export { inspectTable, formatReport, type TableReport, type PartitionReport, type ReplicaReport } from './inspect.js';
