// Skipping with a reason: a suite or test that cannot run here (a tool or the
// addon is missing) is registered as skipped with the reason in its task
// meta, and test/helpers/skip-reporter.ts prints it at the end of the run.
import { describe, it, type TestFunction } from 'vitest';
import { getCurrentSuite } from 'vitest/suite';

declare module 'vitest' {
  interface TaskMeta {
    /** Why this suite or test is skipped on this machine. */
    skipReason?: string;
  }
}

/** `describe(name, body)`, or with a `reason`, the same suite skipped for that reason. */
export function describeUnless(reason: string | null, name: string, body: () => void): void {
  if (reason === null) {
    describe(name, body);
    return;
  }
  describe.skip(name, () => {
    getCurrentSuite().suite!.meta.skipReason = reason;
    body();
  });
}

/** `it(name, fn, timeout)`, or with a `reason`, the same test skipped for that reason. */
export function itUnless(reason: string | null, name: string, fn: TestFunction, timeout?: number): void {
  if (reason === null) it(name, fn, timeout);
  else getCurrentSuite().task(name, { skip: true, meta: { skipReason: reason } });
}
