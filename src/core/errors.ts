/**
 * Every error Sightline raises is a SightlineError with a stable `code`; the CLI maps codes to exit codes
 * and tests match on them. Messages name the argument, what was expected and what came.
 */
import { capText, formatCount } from './text.js';

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'IMAGE_DECODE'
  | 'IMAGE_TOO_LARGE'
  | 'MODEL_LOAD'
  | 'MODEL_SHAPE'
  | 'MODEL_OUTPUT'
  | 'UNSUPPORTED_OP'
  | 'MISSING_CAPABILITY'
  | 'UNKNOWN_TARGET'
  /** A regions file (COCO, Pascal VOC, CSV, mask PNGs) that is malformed or does not fit its image. */
  | 'REGIONS'
  | 'ABORTED'
  | 'IO'
  | 'SERVER';

export class SightlineError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (the offending argument, the op type, …). */
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SightlineError';
    this.code = code;
    this.details = details;
  }
}

/** An invalid argument: `name` is the argument, `expected` what is allowed, `got` what came. */
export function invalidArgument(name: string, expected: string, got: unknown): SightlineError {
  return new SightlineError(
    'INVALID_ARGUMENT',
    `Argument '${name}' must be ${expected}; got ${describe(got)}.`,
    { argument: name, expected, got },
  );
}

export function abortedError(): SightlineError {
  return new SightlineError('ABORTED', 'The operation was cancelled.');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError();
}

/** A value as a message quotes it; long strings and lists (they may come from files) are shortened. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return capText(JSON.stringify(value), 200);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const more = value.length > 10 ? ` … and ${formatCount(value.length - 10)} more` : '';
    return `[${value.slice(0, 10).map(describe).join(', ')}${more}]`;
  }
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name} of length ${(value as Float32Array).length}`;
  return typeof value;
}

/** An error's message, or the thrown value as text when it is not an Error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a file could not be read, in words: the common errno codes spelled out, otherwise the message. */
export function fileErrorReason(cause: unknown): string {
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EISDIR') return 'it is a folder';
  if (code === 'EACCES') return 'permission denied';
  return messageOf(cause);
}
