// compare.csv: one line per image, worse first, then the images only one audit has.
import { csvField } from '../report/csv.js';
import type { Comparison, SideView } from './compare.js';

/** compare.csv's columns, in order: each audit's value under a_… and b_…. */
export const COMPARE_COLUMNS = [
  'file',
  'change',
  'worse',
  'better',
  'a_prediction',
  'b_prediction',
  'a_score',
  'b_score',
  'a_label',
  'b_label',
  'a_correct',
  'b_correct',
  'a_verdict',
  'b_verdict',
  'a_share',
  'b_share',
  'share_delta',
  'a_border_share',
  'b_border_share',
  'a_flags',
  'b_flags',
  'a_error',
  'b_error',
] as const;

type Value = string | number | boolean | undefined;

/**
 * The comparison as CSV (RFC 4180, CRLF lines, fields guarded against formula injection as results.csv's
 * are). `change` is worse, mixed, same or better, or only_a / only_b for an image one audit lacks (its other
 * fields empty); `worse` and `better` are the reasons in words, '; '-separated; `a_verdict` is the row's kind
 * (object, partly, background, noevidence, none, error); flags are '|'-separated.
 */
export function comparisonToCsv(comparison: Comparison): string {
  const lines = [COMPARE_COLUMNS.join(',')];
  const line = (values: Partial<Record<(typeof COMPARE_COLUMNS)[number], Value>>) =>
    lines.push(COMPARE_COLUMNS.map((c) => csvField(values[c])).join(','));
  for (const c of comparison.images) {
    line({
      file: c.file,
      change: c.change,
      worse: c.worse.join('; '),
      better: c.better.join('; '),
      ...side('a', c.a),
      ...side('b', c.b),
      share_delta: c.shareDelta,
    });
  }
  for (const file of comparison.onlyA) line({ file, change: 'only_a' });
  for (const file of comparison.onlyB) line({ file, change: 'only_b' });
  return `${lines.join('\r\n')}\r\n`;
}

function side(p: 'a' | 'b', v: SideView): Record<string, Value> {
  return {
    [`${p}_prediction`]: v.prediction,
    [`${p}_score`]: v.score,
    [`${p}_label`]: v.label,
    [`${p}_correct`]: v.correct,
    [`${p}_verdict`]: v.kind,
    [`${p}_share`]: v.share,
    [`${p}_border_share`]: v.borderShare,
    [`${p}_flags`]: v.flags?.join('|'),
    [`${p}_error`]: v.error,
  };
}
