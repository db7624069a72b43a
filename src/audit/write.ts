// Writing an audit's reports from its rows (Node): report.html with every picture inlined, results.jsonl,
// results.csv, and summary.json with the dataset-level numbers.
import { join } from 'node:path';
import { formatCount, listSome, terminalSafe } from '../core/text.js';
import { summarize } from './aggregate.js';
import { summarizeDetections } from './detect-summary.js';
import { writeAtomically } from './output.js';
import { readRowPictures } from './pictures.js';
import { type ReportImages, renderReport, rowsToCsv, rowsToJsonl } from './report/index.js';
import type { AuditConfig, AuditRow, AuditSummary } from './types.js';

/**
 * Writes the reports into `out`. A row whose pictures cannot be read (deleted since, not regular files, or
 * named outside `out` by an edited journal) is shown without them, its image cell saying why, and one
 * warning lists such rows; nothing outside `out` is ever read.
 */
export async function writeReports(
  out: string,
  rows: readonly AuditRow[],
  config: AuditConfig,
  onWarning: (message: string) => void = () => {},
): Promise<AuditSummary> {
  const detect = summarizeDetections(rows);
  const summary = { ...summarize(rows), ...(detect ? { detect } : {}) };
  const images = new Map<string, ReportImages>();
  const missing = new Map<string, string>();
  for (const row of rows) {
    const read = await readRowPictures(out, row);
    if ('pictures' in read) images.set(row.file, read.pictures);
    else if (read.problem !== undefined) missing.set(row.file, read.problem);
  }
  if (missing.size > 0) {
    // A file name inside a line: a line feed in it must not start a line of its own.
    const shown = [...missing].map(([file, why]) => `${terminalSafe(file, { oneLine: true })} (${why})`);
    onWarning(
      `${formatCount(missing.size)} image${missing.size === 1 ? '' : 's'} of the report ${missing.size === 1 ? 'is' : 'are'} ` +
        `shown without ${missing.size === 1 ? 'its pictures' : 'their pictures'}: ${listSome(shown, 3, '; ')}.`,
    );
  }
  await writeAtomically(
    join(out, 'report.html'),
    await renderReport({ rows, summary, config, images, missingPictures: missing }),
  );
  await writeAtomically(join(out, 'results.jsonl'), rowsToJsonl(rows));
  await writeAtomically(join(out, 'results.csv'), rowsToCsv(rows));
  await writeAtomically(join(out, 'summary.json'), `${JSON.stringify({ config, summary }, null, 2)}\n`);
  return summary;
}
