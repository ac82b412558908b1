// Lists every skipped test at the end of the run with the reason it was
// skipped: the note of ctx.skip(note), else the skipReason that
// test/helpers/skip.ts recorded on the test or its nearest suite.
import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';

export const NO_REASON = 'no reason given';

/** The reason `test` was skipped. */
export function skipReason(test: TestCase): string {
  const result = test.result();
  if (result.state === 'skipped' && result.note) return result.note;
  for (let task: TestCase | TestSuite | TestModule = test; ; task = task.parent) {
    const reason = task.meta().skipReason;
    if (reason) return reason;
    if (task.type === 'module') return NO_REASON;
  }
}

/** `file › suite › test — reason`, the file relative to `root`. */
export function skipLine(test: TestCase, root: string): string {
  const names: string[] = [];
  for (let task: TestCase | TestSuite = test; ; task = task.parent) {
    names.unshift(task.name);
    if (task.parent.type === 'module') break;
  }
  // One line a test, whatever the reason's own line breaks.
  return `${relative(root, test.module.moduleId)} › ${names.join(' › ')} — ${skipReason(test).replace(/\s+/g, ' ')}`;
}

export default class SkipReporter implements Reporter {
  private vitest!: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = modules.flatMap((m) => [...m.children.allTests('skipped')].map((t) => skipLine(t, this.vitest.config.root)));
    if (lines.length === 0) return;
    this.vitest.logger.log(`\n Skipped (${lines.length}):\n${lines.map((l) => `   ${l}`).join('\n')}\n`);
  }
}
