import type { ErrorCode } from '../core/errors.js';
import { SightlineError } from '../core/errors.js';
import { capText, terminalSafe } from '../core/text.js';

/**
 * Exit codes CI scripts can rely on: 2 usage, 3 bad input file, 4 model problem, 5 the server cannot start,
 * 130 cancelled, 1 anything else.
 */
export const EXIT_CODES: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 2,
  UNKNOWN_TARGET: 2,
  REGIONS: 2,
  IMAGE_DECODE: 3,
  IMAGE_TOO_LARGE: 3,
  IO: 3,
  MODEL_LOAD: 4,
  MODEL_SHAPE: 4,
  MODEL_OUTPUT: 4,
  UNSUPPORTED_OP: 4,
  MISSING_CAPABILITY: 4,
  SERVER: 5,
  ABORTED: 130,
};

/**
 * The most characters of one error message printed. Messages that quote lists from files (100,000 zip entries,
 * every name in a regions file) must cap them themselves (listSome); this is the backstop.
 */
export const MAX_MESSAGE_LENGTH = 2000;

/**
 * Prints an error for a person and returns the exit code: a SightlineError as its message, anything else as
 * "unexpected error" with its stack. Cut to MAX_MESSAGE_LENGTH (saying so) and with control characters
 * escaped, since messages quote file names and server replies.
 */
export function reportError(error: unknown, stream: NodeJS.WritableStream = process.stderr): number {
  const known = error instanceof SightlineError;
  const text = known
    ? error.message
    : `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  stream.write(`sightline: ${terminalSafe(capText(text, MAX_MESSAGE_LENGTH))}\n`);
  return known ? (EXIT_CODES[error.code] ?? 1) : 1;
}
