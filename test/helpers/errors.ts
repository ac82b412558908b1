// Assertions on the errors a call throws: the class, the stable code of
// lib/core/errors.ts and the words of the message.
import { expect } from 'vitest';

export type CodedError = Error & { code?: string };
export type ErrorClass = abstract new (...args: never[]) => Error;

/** The error `fn` throws; fails the test when it returns. */
export function thrown(fn: () => unknown): CodedError {
  try {
    fn();
  } catch (err) {
    return err as CodedError;
  }
  throw new Error('expected a throw');
}

/** The error `fn` throws or its promise rejects with; fails the test when it succeeds. */
export async function rejected(fn: () => unknown): Promise<CodedError> {
  try {
    await fn();
  } catch (err) {
    return err as CodedError;
  }
  throw new Error('expected a failure');
}

/** Any code of lib/core/errors.ts. */
export const ANY_CODE = /^ERR_ATOMIK_[A-Z_]+$/;

/** Asserts `fn` throws a `cls` with `code` (or a code matching it) and, when given, a message containing `text`. */
export function expectCoded(fn: () => unknown, cls: ErrorClass, code: string | RegExp, text?: string): void {
  const err = thrown(fn);
  expect(err, `expected ${cls.name}${text === undefined ? '' : ` mentioning ${text}`}`).toBeInstanceOf(cls);
  if (typeof code === 'string') expect(err.code).toBe(code);
  else expect(err.code).toMatch(code);
  if (text !== undefined) expect(err.message).toContain(text);
}

/** The code `fn` throws with, "uncoded Name: message" for an error without one, undefined when it returns. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as CodedError).code ?? `uncoded ${(err as Error).name}: ${(err as Error).message}`;
  }
  return undefined;
}
