// The shortcut tests over the dataset: accuracy on each variant and the background gap (Xiao et al. 2021's
// BG-Gap: same-class swap minus random swap), overall, per class and per cluster of maps.
import {
  SHORTCUT_VARIANT_WORDS,
  SHORTCUT_VARIANTS,
  type ShortcutGroup,
  type ShortcutSummary,
  type ShortcutVariant,
} from './shortcut-types.js';
import type { AuditCluster, AuditRow } from './types.js';

/** The summary of the rows' shortcut tests; undefined when no row has any. */
export function summarizeShortcuts(
  rows: readonly AuditRow[],
  clusters: readonly AuditCluster[],
): ShortcutSummary | undefined {
  const tested = rows.filter((row) => row.status === 'ok' && row.shortcuts);
  if (tested.length === 0) return undefined;
  const labels = [...new Set(tested.flatMap((row) => (row.label ? [row.label.text] : [])))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const byFile = new Map(tested.map((row) => [row.file, row]));
  return {
    ...group(tested),
    byClass: labels.map((label) => ({
      label,
      ...group(tested.filter((row) => row.label?.text === label)),
    })),
    byCluster: clusters.flatMap((cluster, i) => {
      const members = cluster.members.flatMap((file) => byFile.get(file) ?? []);
      return members.length > 0 ? [{ cluster: i + 1, ...group(members) }] : [];
    }),
  };
}

function group(rows: readonly AuditRow[]): ShortcutGroup {
  const labelled = rows.filter((row) => row.label !== undefined);
  const accuracy = Object.fromEntries(SHORTCUT_VARIANTS.map((v) => [v, accuracyOn(labelled, v)])) as Record<
    ShortcutVariant,
    number | null
  >;
  const both = labelled.filter(
    (row) => row.shortcuts?.variants.swapSame && row.shortcuts.variants.swapRandom,
  );
  const same = accuracyOn(both, 'swapSame');
  const random = accuracyOn(both, 'swapRandom');
  return {
    images: rows.length,
    labelled: labelled.length,
    accuracy,
    backgroundGap: same === null || random === null ? null : same - random,
    reliesOnContext: rows.filter((row) => row.shortcuts?.reliesOnContext).length,
    fragile: rows.filter((row) => row.shortcuts?.fragile).length,
  };
}

/** The share of `rows` whose answer on `variant` is right, over the rows that have it; null when none does. */
function accuracyOn(rows: readonly AuditRow[], variant: ShortcutVariant): number | null {
  const scored = rows.flatMap((row) => {
    const outcome = row.shortcuts?.variants[variant];
    return outcome?.correct === undefined ? [] : [outcome.correct];
  });
  return scored.length === 0 ? null : scored.filter(Boolean).length / scored.length;
}

/** A share as the summary words show it: one decimal, 'n/a' where nothing counts. */
export function shortcutPercent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

/** The background gap in percentage points, signed ('+50.0 points'); 'n/a' where nothing counts. */
export function gapWords(gap: number | null): string {
  if (gap === null) return 'n/a';
  const points = gap * 100;
  return `${points > 0 ? '+' : points < 0 ? '−' : ''}${Math.abs(points).toFixed(1)} points`;
}

/** The summary in one paragraph: the flags' counts, accuracy per variant, the background gap. */
export function shortcutSummaryWords(s: ShortcutSummary): string {
  const counts =
    `${s.reliesOnContext} of ${s.images} image${s.images === 1 ? '' : 's'} still predict the class with the object removed; ` +
    `${s.fragile} change${s.fragile === 1 ? 's' : ''} the answer when only the background changes.`;
  if (s.labelled === 0) return `${counts} No image has a label, so there is no accuracy or background gap.`;
  const accuracy = SHORTCUT_VARIANTS.map(
    (v) => `${SHORTCUT_VARIANT_WORDS[v]} ${shortcutPercent(s.accuracy[v])}`,
  ).join(', ');
  return `${counts} Accuracy: ${accuracy}; background gap (same class minus random) ${gapWords(s.backgroundGap)}.`;
}
