// Saving a table to a file and loading it back, for single-process users:
// the replication snapshot format (lib/replicate/BATCH-FORMAT.md) with no
// delivery record, written atomically.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { AtomikTable, tableCore, type TableOptions } from './table.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';

function pathArg(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`path must be a non-empty string, got ${typeof path}`);
  return path;
}

/**
 * Writes the table's states to `path`: to a temporary file beside it, synced,
 * then renamed over `path`, so a crash leaves the old file or the new one.
 */
export function saveTable(table: AtomikTable, path: string): void {
  if (!(table instanceof AtomikTable)) throw new TypeError('table must be an AtomikTable');
  const target = pathArg(path);
  const blob = encodeSnapshot({ group: table.group, partition: 0, partitions: 1, position: '0-0', record: new Map(), states: table.states() });
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
 * reference is its saved state, its accumulator empty). Throws a RangeError
 * naming the problem when the file is not a valid snapshot.
 */
export function loadTable(path: string, options: Omit<TableOptions, 'group'> = {}): AtomikTable {
  const snap = decodeSnapshot(readFileSync(pathArg(path)));
  const table = new AtomikTable(snap.states.length, { ...options, group: snap.group });
  tableCore(table).ref.set(snap.states);
  return table;
}
