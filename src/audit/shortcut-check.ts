// A journal row's shortcut tests are untrusted like the rest of it (row-check.ts): rebuilt field by field, with
// the types and ranges the tester writes, or refused with the field that is wrong.
import { SHORTCUT_VARIANTS, type ShortcutRowPart } from './shortcut-types.js';

const MAX_NAME = 4096;
const MAX_FLAGS = 10;

class BadPart extends Error {}

/** The part rebuilt, or why it cannot be one (a fragment naming the field, as row-check's problems do). */
export function checkShortcutPart(value: unknown): { part: ShortcutRowPart } | { problem: string } {
  try {
    return { part: rebuild(value) };
  } catch (error) {
    if (error instanceof BadPart) return { problem: error.message };
    throw error;
  }
}

function rebuild(value: unknown): ShortcutRowPart {
  const o = record(value, 'shortcuts');
  const t = record(o.target, 'shortcuts.target');
  const target = {
    index: index(t.index, 'shortcuts.target.index'),
    label: text(t.label, 'shortcuts.target.label'),
  };
  const v = record(o.variants, 'shortcuts.variants');
  const variants: Record<string, unknown> = {};
  for (const name of SHORTCUT_VARIANTS) {
    if (v[name] === undefined) continue;
    const what = `shortcuts.variants.${name}`;
    const r = record(v[name], what);
    const top = record(r.top, `${what}.top`);
    variants[name] = {
      probability: share(r.probability, `${what}.probability`),
      top: {
        index: index(top.index, `${what}.top.index`),
        label: text(top.label, `${what}.top.label`),
        probability: share(top.probability, `${what}.top.probability`),
      },
      ...(r.correct !== undefined ? { correct: bool(r.correct, `${what}.correct`) } : {}),
    };
  }
  const p = record(o.partners, 'shortcuts.partners');
  const partners: Record<string, string> = {};
  for (const key of ['random', 'same'])
    if (p[key] !== undefined) partners[key] = text(p[key], `shortcuts.partners.${key}`);
  return {
    target,
    variants,
    partners,
    reliesOnContext: bool(o.reliesOnContext, 'shortcuts.reliesOnContext'),
    fragile: bool(o.fragile, 'shortcuts.fragile'),
    flags: texts(o.flags, 'shortcuts.flags'),
    ...(o.problems !== undefined ? { problems: texts(o.problems, 'shortcuts.problems') } : {}),
  } as ShortcutRowPart;
}

function bad(problem: string): never {
  throw new BadPart(problem);
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`'${what}' is not an object`);
  return v as Record<string, unknown>;
}

function text(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length > MAX_NAME)
    bad(`'${what}' is not a text of at most ${MAX_NAME} characters`);
  return v;
}

function texts(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_FLAGS) bad(`'${what}' is not a list of up to ${MAX_FLAGS} texts`);
  return v.map((t, i) => text(t, `${what}[${i}]`));
}

function index(v: unknown, what: string): number {
  if (!Number.isInteger(v) || (v as number) < 0) bad(`'${what}' is not a whole number from 0`);
  return v as number;
}

/**
 * A probability as the model gave it: finite, not held to [0, 1], since a model that outputs probabilities
 * itself may give 1.0000001, and a row refused for that would be redone on every resume.
 */
function share(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`'${what}' is not a finite number`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') bad(`'${what}' is not true or false`);
  return v;
}
