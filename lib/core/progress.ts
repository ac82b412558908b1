// Progress of long work (firmware builds, probing, long batches), reported
// through an `onProgress` option. The CLI draws it as a bar on a terminal
// and as plain lines otherwise.

export interface Progress {
  /** What is running: 'build' (firmware), 'probe' (dialect detection), 'batch' (operations on a device). */
  task: 'build' | 'probe' | 'batch';
  /** Units done so far and in all (steps, operations); `total` is 0 when unknown. */
  done: number;
  total: number;
  /** One short line for people, e.g. "make -C firmware host" or "hello probe". */
  message: string;
}

export type ProgressListener = (progress: Progress) => void;
