// results.csv's shortcut columns (audit --shortcuts), appended after the others only when a row has shortcut
// tests, so the columns of an audit without them stay as they were.
import type { ShortcutVariant } from '../shortcut-types.js';
import type { AuditRow } from '../types.js';

const VARIANT_COLUMNS: readonly [ShortcutVariant, string][] = [
  ['objectOnly', 'object_only'],
  ['objectRemoved', 'object_removed'],
  ['swapRandom', 'swap_random'],
  ['swapSame', 'swap_same'],
];

/**
 * Per variant, its top class and the target's probability on it; the swaps' background files; the two flags
 * (true/false) and the flags in words ('; '-separated). Empty where a row has no such variant.
 */
export const SHORTCUT_CSV_COLUMNS: readonly string[] = [
  ...VARIANT_COLUMNS.flatMap(([, name]) => [`${name}_top1`, `${name}_probability`]),
  'swap_random_file',
  'swap_same_file',
  'relies_on_context',
  'fragile',
  'shortcut_flags',
];

export function shortcutCsvValues(row: AuditRow): Record<string, string | number | boolean | undefined> {
  const s = row.shortcuts;
  const values: Record<string, string | number | boolean | undefined> = {};
  for (const [variant, name] of VARIANT_COLUMNS) {
    values[`${name}_top1`] = s?.variants[variant]?.top.label;
    values[`${name}_probability`] = s?.variants[variant]?.probability;
  }
  values.swap_random_file = s?.partners.random;
  values.swap_same_file = s?.partners.same;
  values.relies_on_context = s?.reliesOnContext;
  values.fragile = s?.fragile;
  values.shortcut_flags = s ? s.flags.join('; ') : undefined;
  return values;
}
