import type { ErrorCode } from '../core/errors.js';
import { SightlineError } from '../core/errors.js';

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

export function reportError(error: unknown, stream: NodeJS.WriteStream = process.stderr): number {
  if (error instanceof SightlineError) {
    stream.write(`sightline: ${error.message}\n`);
    return EXIT_CODES[error.code] ?? 1;
  }
  stream.write(
    `sightline: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}
