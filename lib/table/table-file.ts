// Table files: a table's states saved to a file and loaded back, for
// single-process users. The bytes are the replication snapshot layout
// (lib/replicate/BATCH-FORMAT.md, codec in snapshot.ts) for one whole partition with no delivery
// record, written atomically.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { AtomikTable, tableCore, type TableOptions } from './table.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from './snapshot.js';
import { AtomikRangeError, AtomikTypeError } from '../core/errors.js';
import { describe, object } from '../core/validate.js';

function pathArg(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0)
    throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `path must be a non-empty string, got ${describe(path)}`);
  return path;
}

/**
 * Writes the table's states to `path`: to a temporary file beside it, synced,
 * then renamed over `path`, so a crash leaves the old file or the new one.
 */
export function saveTable(table: AtomikTable, path: string): void {
  // Read from the table's private core: properties a caller can redefine are never consulted.
  const core = tableCore(table);
  const target = pathArg(path);
  const states = new BigUint64Array(core.size);
  core.states(states);
  const blob = encodeSnapshot({ group: core.group, partition: 0, partitions: 1, position: '0-0', record: new Map(), states });
  const temp = `${target}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, blob);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
}

/**
 * Reads a file written by saveTable() into a new table (each context's
 * reference is its saved state, its accumulator empty). A file that is not
 * a whole table (damaged, cut short, another format, one partition of a
 * replicated table) is refused with ERR_ATOMIK_BAD_TABLE_FILE naming the
 * problem; errors reading the file are Node's own (ENOENT, EACCES, ...).
 */
export function loadTable(path: string, options: Omit<TableOptions, 'group'> = {}): AtomikTable {
  const file = pathArg(path);
  object(options, 'options');
  const { engine } = options; // read once
  const data = readFileSync(file);
  let contents: Snapshot;
  try {
    contents = decodeSnapshot(data);
  } catch (err) {
    throw new AtomikRangeError('ERR_ATOMIK_BAD_TABLE_FILE', `${file} is not a table file: ${(err as Error).message}`, { cause: err });
  }
  if (contents.partition !== 0 || contents.partitions !== 1) {
    throw new AtomikRangeError(
      'ERR_ATOMIK_BAD_TABLE_FILE',
      `${file} holds partition ${contents.partition} of ${contents.partitions} of a replicated table, not a whole table`,
    );
  }
  const table = new AtomikTable(contents.states.length, { engine, group: contents.group });
  tableCore(table).ref.set(contents.states);
  return table;
}
