// `sightline compare <auditA> <auditB>`: two audits of the same images, what changed, worse first.
import { Command } from 'commander';
import { type Comparison, compareFolders } from '../audit/compare/index.js';
import { percent } from '../audit/report/row-view.js';
import { listSome } from '../core/text.js';
import { print, printError, safeName } from './print.js';

/** Worse images named on the terminal; the report lists them all. */
const SHOWN = 5;

export function compareCommand(): Command {
  return new Command('compare')
    .description(
      'Compare two audits of the same images (two models, or one before and after retraining): what changed per image, worse first.',
    )
    .argument('<auditA>', "the --out folder of the first (or earlier) 'sightline audit'")
    .argument('<auditB>', 'the --out folder of the second (or later) one')
    .option(
      '-o, --out <dir>',
      'output folder for report.html, compare.csv, compare.json',
      'sightline-compare',
    )
    .action(async (a: string, b: string, flags: { out: string }) => {
      const comparison = await compareFolders(a, b, flags.out);
      for (const warning of comparison.warnings) printError(`warning: ${warning}\n`);
      print(summaryText(comparison, flags.out));
    });
}

function summaryText(c: Comparison, out: string): string {
  const n = c.numbers;
  const accuracy =
    n.a.accuracy === null || n.b.accuracy === null
      ? ''
      : ` Accuracy ${percent(n.a.accuracy)} → ${percent(n.b.accuracy)} (${n.a.correct} → ${n.b.correct} of ${n.a.labelled} labelled); right → wrong ${n.broken}, wrong → right ${n.fixed}.`;
  const verdicts = ` Looking at the object ${n.a.kinds.object} → ${n.b.kinds.object}, at the background ${n.a.kinds.background} → ${n.b.kinds.background}.`;
  const only =
    c.onlyA.length + c.onlyB.length > 0 ? ` Only in A: ${c.onlyA.length}; only in B: ${c.onlyB.length}.` : '';
  const worse = c.images
    .filter((i) => i.change === 'worse' || i.change === 'mixed')
    .slice(0, SHOWN)
    .map(
      (i) =>
        `  ${safeName(i.file)}: ${safeName(listSome(i.worse, 5, '; '))}${i.better.length > 0 ? ` (better: ${safeName(listSome(i.better, 5, '; '))})` : ''}\n`,
    )
    .join('');
  return (
    `${n.both} images in both audits: ${n.changes.worse} worse, ${n.changes.mixed} worse and better, ${n.changes.same} unchanged, ${n.changes.better} better.` +
    `${accuracy}${verdicts}${only}\n${worse ? `Worse first:\n${worse}` : ''}` +
    `Report: ${safeName(out)}/report.html (and compare.csv, compare.json)\n`
  );
}
