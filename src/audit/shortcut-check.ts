// A journal row's shortcut tests are untrusted like the rest of it (row-check.ts): rebuilt field by field, with
// the types and ranges the tester writes, or refused with the field that is wrong.
import { bool, checked, integer, list, number, record, text } from '../core/untrusted.js';
import { SHORTCUT_VARIANTS, type ShortcutRowPart } from './shortcut-types.js';

const MAX_NAME = 4096;
const MAX_FLAGS = 10;

/** The part rebuilt, or why it cannot be one (a fragment naming the field, as row-check's problems do). */
export function checkShortcutPart(value: unknown): { part: ShortcutRowPart } | { problem: string } {
  const result = checked(value, rebuild);
  return 'value' in result ? { part: result.value } : result;
}

function rebuild(value: unknown): ShortcutRowPart {
  const o = record(value, 'shortcuts');
  const t = record(o.target, 'shortcuts.target');
  const target = {
    index: integer(t.index, 'shortcuts.target.index', 0),
    label: text(t.label, 'shortcuts.target.label', MAX_NAME),
  };
  const v = record(o.variants, 'shortcuts.variants');
  const variants: Record<string, unknown> = {};
  for (const name of SHORTCUT_VARIANTS) {
    if (v[name] === undefined) continue;
    const what = `shortcuts.variants.${name}`;
    const r = record(v[name], what);
    const top = record(r.top, `${what}.top`);
    variants[name] = {
      probability: probability(r.probability, `${what}.probability`),
      top: {
        index: integer(top.index, `${what}.top.index`, 0),
        label: text(top.label, `${what}.top.label`, MAX_NAME),
        probability: probability(top.probability, `${what}.top.probability`),
      },
      ...(r.correct !== undefined ? { correct: bool(r.correct, `${what}.correct`) } : {}),
    };
  }
  const p = record(o.partners, 'shortcuts.partners');
  const partners: Record<string, string> = {};
  for (const key of ['random', 'same'])
    if (p[key] !== undefined) partners[key] = text(p[key], `shortcuts.partners.${key}`, MAX_NAME);
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

function texts(v: unknown, what: string): string[] {
  return list(v, what, MAX_FLAGS, 'texts').map((t, i) => text(t, `${what}[${i}]`, MAX_NAME));
}

/**
 * A probability as the model gave it: finite, not held to [0, 1], since a model that outputs probabilities
 * itself may give 1.0000001, and a row refused for that would be redone on every resume.
 */
function probability(v: unknown, what: string): number {
  return number(v, what);
}
