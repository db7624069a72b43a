import { expect } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';

/** Runs `run` and checks it throws an INVALID_ARGUMENT SightlineError whose message is (or matches) `message`. */
export function expectInvalid(run: () => unknown, message: RegExp | string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SightlineError);
  expect((caught as SightlineError).code).toBe('INVALID_ARGUMENT');
  if (typeof message === 'string') expect((caught as SightlineError).message).toBe(message);
  else expect((caught as SightlineError).message).toMatch(message);
}

/** The SightlineError `run` throws (failing the test when it throws nothing or something else). */
export function thrown(run: () => unknown): SightlineError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SightlineError);
    return error as SightlineError;
  }
  throw new Error('expected a SightlineError');
}
