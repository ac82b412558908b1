/**
 * Errors of a replicated table, each with a stable `code`:
 * - ERR_ATOMIK_REPLICA_CLOSED   the replica was closed (or failed) before the call could complete
 * - ERR_ATOMIK_PUBLISH_RETRY    a publish failed and is being retried ('retry' event; nothing to do)
 * - ERR_ATOMIK_BAD_BATCH        a log entry is not a valid batch for this table ('skipped' event; never applied)
 * - ERR_ATOMIK_LOG_LOST         Redis lost acknowledged batches this replica can no longer republish
 * - ERR_ATOMIK_GAP              entries are missing from the log and no snapshot covers them
 * - ERR_ATOMIK_BAD_SNAPSHOT     a stored snapshot cannot be read
 * - ERR_ATOMIK_LAYOUT_MISMATCH  the stored table has another group, size or partitioning
 */
export class ReplicationError extends Error {
  readonly code: string;

  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ReplicationError';
    this.code = code;
  }
}
