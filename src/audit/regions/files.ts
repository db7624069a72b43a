// Reading regions, labels and manifest files from disk (Node only); the parsers beside it take text, so the
// web app shares them.
import { type ErrorCode, fileErrorReason, SightlineError } from '../../core/errors.js';
import { MIB, readRegularFile } from '../../io/read-file.js';
import { parseCsvTable } from './csv.js';

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

/** parseCsvTable of the file at `path`, read as readText reads it. */
export async function readCsvTable(
  path: string,
  what: string,
  code: ErrorCode,
): Promise<{ header: string[]; rows: { fields: string[]; line: number }[] }> {
  return parseCsvTable(path, await readText(path, what), what, code);
}
