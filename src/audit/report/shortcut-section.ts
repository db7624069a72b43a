// report.html's shortcut tests section (audit --shortcuts): the flags' counts, accuracy on each variant and
// the background gap, per class and per group of maps, then the flagged images with their flags in words.
import { escapeHtml } from '../../core/html.js';
import { gapWords, shortcutPercent, shortcutSummaryWords } from '../shortcut-summary.js';
import {
  SHORTCUT_VARIANT_WORDS,
  SHORTCUT_VARIANTS,
  type ShortcutConfig,
  type ShortcutGroup,
  type ShortcutSummary,
} from '../shortcut-types.js';
import type { AuditRow } from '../types.js';

const BACKGROUND_WORDS = {
  black: 'black',
  blur: 'its own background blurred',
  mean: "the audit's mean colour",
} as const;
const REMOVAL_WORDS = { blur: 'its surroundings blurred in', black: 'black' } as const;

/** Flagged images listed in the section; the CSV and results.jsonl have them all. */
const MAX_LISTED = 200;

/** The section, or '' for an audit without shortcut tests. */
export function shortcutSection(
  rows: readonly AuditRow[],
  summary: ShortcutSummary | undefined,
  config: ShortcutConfig | undefined,
): string {
  if (!summary) return '';
  const how = config
    ? ` Here the object alone is shown on ${BACKGROUND_WORDS[config.background]}, a removed object's region is filled with ${REMOVAL_WORDS[config.removal]}, and the backgrounds were drawn with seed ${config.seed}.`
    : '';
  const headings = [
    'Images',
    ...SHORTCUT_VARIANTS.map((v) => SHORTCUT_VARIANT_WORDS[v]),
    'Background gap',
    'Same answer without the object',
    'Answer changes with the background',
  ]
    .map((h) => `<th scope="col" class="num">${h}</th>`)
    .join('');
  const cells = (g: ShortcutGroup) =>
    `${SHORTCUT_VARIANTS.map((v) => `<td class="num">${shortcutPercent(g.accuracy[v])}</td>`).join('')}<td class="num">${gapWords(g.backgroundGap)}</td><td class="num">${g.reliesOnContext}</td><td class="num">${g.fragile}</td>`;
  const table = (caption: string, first: string, groups: readonly [string, ShortcutGroup][]) =>
    `<table class="small">
<caption>${caption}</caption>
<thead><tr><th scope="col">${first}</th>${headings}</tr></thead>
<tbody>${groups.map(([name, g]) => `<tr><th scope="row">${escapeHtml(name)}</th><td class="num">${g.images}</td>${cells(g)}</tr>`).join('\n')}</tbody>
</table>`;
  const all = table('Accuracy on each variant, the background gap and the flags', 'Dataset', [
    ['all images', summary],
  ]);
  const byClass =
    summary.byClass.length > 0
      ? table(
          'The same per class (by label)',
          'Class',
          summary.byClass.map((c) => [c.label, c]),
        )
      : '';
  const byCluster =
    summary.byCluster.length > 0
      ? table(
          'The same per group of similar maps',
          'Group',
          summary.byCluster.map((c) => [`group ${c.cluster}`, c]),
        )
      : '';
  const flagged = rows.filter((row) => row.shortcuts && row.shortcuts.flags.length > 0);
  const list =
    flagged.length === 0
      ? '<p>No image is flagged.</p>'
      : `<ul class="flags">${flagged
          .slice(0, MAX_LISTED)
          .map(
            (row) =>
              `<li><strong>${escapeHtml(row.file)}</strong>: ${row.shortcuts!.flags.map(escapeHtml).join('; ')}</li>`,
          )
          .join(
            '\n',
          )}</ul>${flagged.length > MAX_LISTED ? `<p class="note">${flagged.length - MAX_LISTED} more in results.csv.</p>` : ''}`;
  return `<section aria-labelledby="shortcuts-title">
<h2 id="shortcuts-title">Shortcut tests</h2>
<p class="note">Each image was scored again with its object alone on a plain background, with the object removed, and with the object pasted onto the background of a random other image and of another image of the same class (after the ImageNet-9 backgrounds challenge, Xiao et al. 2021). The background gap is the accuracy on same-class backgrounds minus that on random ones: a large gap means the answer follows the background.${how}</p>
<p>${escapeHtml(shortcutSummaryWords(summary))}</p>
${all}
${byClass}
${byCluster}
<h3>Flagged images</h3>
${list}
</section>`;
}
