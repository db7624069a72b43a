// Writing an audit's reports from its rows (Node): report.html with every picture inlined, results.jsonl,
// results.csv, and summary.json with the dataset-level numbers.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarize } from './aggregate.js';
import { renderReport, rowsToCsv, rowsToJsonl } from './report/index.js';
import type { AuditConfig, AuditRow, AuditSummary } from './types.js';

export async function writeReports(
  out: string,
  rows: readonly AuditRow[],
  config: AuditConfig,
): Promise<AuditSummary> {
  const summary = summarize(rows);
  const images = new Map<string, { thumbnail: Uint8Array; overlay: Uint8Array }>();
  for (const row of rows) {
    if (!row.overlay || !row.thumbnail) continue;
    images.set(row.file, {
      thumbnail: new Uint8Array(await readFile(join(out, row.thumbnail))),
      overlay: new Uint8Array(await readFile(join(out, row.overlay))),
    });
  }
  await writeAtomically(join(out, 'report.html'), await renderReport({ rows, summary, config, images }));
  await writeAtomically(join(out, 'results.jsonl'), rowsToJsonl(rows));
  await writeAtomically(join(out, 'results.csv'), rowsToCsv(rows));
  await writeAtomically(join(out, 'summary.json'), `${JSON.stringify({ config, summary }, null, 2)}\n`);
  return summary;
}

/** Readers never see half a report: write beside it, then rename over it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.partial`, text);
  await rename(`${path}.partial`, path);
}
