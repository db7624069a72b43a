// What every regions reader shares: the regions error and quoting a file's values in messages. Portable (the
// web app parses regions files too); reading files from disk is files.ts.
import { SightlineError } from '../../core/errors.js';

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
