// What every regions reader shares: reading a text file, the two kinds of error, and quoting a file's values
// in messages.
import { fileErrorReason, SightlineError } from '../../core/errors.js';
import { MIB, readRegularFile } from '../../io/read-file.js';

/**
 * A regions or labels file as text. Read as untrusted: a regular file only (a FIFO would hang the audit,
 * /dev/zero exhaust memory), of at most 512 MiB, about the longest string V8 holds.
 */
export async function readText(path: string, what: string): Promise<string> {
  const bytes = await readRegularFile(path, {
    maxBytes: 512 * MIB,
    expected: 'a regular text file',
    noun: `the ${what}`,
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export function unreadable(path: string, what: string, cause: unknown): SightlineError {
  return new SightlineError(
    'IO',
    `Cannot read the ${what} '${path}': ${fileErrorReason(cause)}.`,
    { path, errno: (cause as NodeJS.ErrnoException).code },
    { cause },
  );
}

export function regionsError(
  message: string,
  details: Record<string, unknown>,
  cause?: unknown,
): SightlineError {
  return new SightlineError('REGIONS', message, details, cause === undefined ? undefined : { cause });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function listOf(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A value from a file for a message: JSON for plain data, cut short when long. */
export function describeValue(value: unknown): string {
  const text = (JSON.stringify(value) ?? String(value)).replaceAll(',', ', ');
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

export function quoteList(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`);
  return names.length > 5 ? `${shown.join(', ')}, …` : shown.join(', ');
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
