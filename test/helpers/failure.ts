// The error of a call that must fail (sync or async); a call that succeeds fails the test.
export async function failure(fn: () => unknown): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure');
}
