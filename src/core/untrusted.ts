// Field checks for data read back from places anyone may have edited (journals, evaluation.json, queue
// results): each check returns the value with the type it should have, or throws BadField naming the field,
// so a checker rebuilds a record from its expected fields and `checked` turns the first problem into words.

/** Thrown by the checks below with what was wrong, as a sentence fragment naming the field. */
export class BadField extends Error {}

/** What `rebuild` made of `value`, or the first problem it found. Other errors are bugs and propagate. */
export function checked<T>(value: unknown, rebuild: (v: unknown) => T): { value: T } | { problem: string } {
  try {
    return { value: rebuild(value) };
  } catch (error) {
    if (error instanceof BadField) return { problem: error.message };
    throw error;
  }
}

export function bad(problem: string): never {
  throw new BadField(problem);
}

export function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`'${what}' is not an object`);
  return v as Record<string, unknown>;
}

export function text(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length > max) bad(`'${what}' is not a text of at most ${max} characters`);
  return v;
}

export function number(v: unknown, what: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    bad(`'${what}' is not a finite number${min > -Infinity ? ` in [${min}, ${max}]` : ''}`);
  return v;
}

/** A whole number in [min, max]; without max, up to the largest exact one (2^53 − 1, not named in the message). */
export function integer(v: unknown, what: string, min: number, max?: number): number {
  const most = max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > most)
    bad(`'${what}' is not a whole number from ${min}${max !== undefined ? ` to ${max}` : ''}`);
  return v as number;
}

export function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') bad(`'${what}' is not true or false`);
  return v;
}

/** An array of at most `max` items (`of` names them in the message, e.g. 'texts'). */
export function list(v: unknown, what: string, max: number, of = ''): unknown[] {
  if (!Array.isArray(v) || v.length > max)
    bad(`'${what}' is not a list of up to ${max}${of ? ` ${of}` : ''}`);
  return v;
}

/** `to[key]` = the checked `from[key]`, where it is present. */
export function optional(
  from: Record<string, unknown>,
  to: Record<string, unknown>,
  key: string,
  check: (v: unknown) => unknown,
): void {
  if (from[key] !== undefined) to[key] = check(from[key]);
}
