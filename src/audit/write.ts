// Writing an audit's reports from its rows (Node): report.html (every picture inlined, or for a large audit the
// rows and pictures in files beside it), results.jsonl, results.csv, and summary.json with the dataset-level
// numbers.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCount, listSome, terminalSafe } from '../core/text.js';
import { summarize } from './aggregate.js';
import { summarizeDetections } from './detect-summary.js';
import { auditFindings, type Finding } from './findings.js';
import { outputFolder, writeAtomically } from './output.js';
import { pictureType, readRowPictures, rowPicturesProblem } from './pictures.js';
import { NEEDS_ATTENTION_FILE, needsAttentionCsv } from './report/findings.js';
import {
  PAGES_FOLDER,
  type ReportImages,
  renderPagedReport,
  renderReport,
  rowsToCsv,
  rowsToJsonl,
} from './report/index.js';
import type { AuditConfig, AuditRow, AuditSummary } from './types.js';

/**
 * The most images report.html holds in one file by default. At about 45 KB an image inlined (a WebP overlay
 * and thumbnail in base64, and the row), 300 images make a 14 MB page that still opens in a second or two;
 * beyond, the page would grow by that much per image, so its rows load in pages instead.
 */
export const REPORT_INLINE_MAX_ROWS = 300;

/**
 * How report.html holds the images: 'single', one self-contained file (pictures inlined; for mailing a small
 * audit); 'pages', the summary and findings in the page and the rows and pictures in files beside it, loaded
 * as needed; 'auto', single up to REPORT_INLINE_MAX_ROWS images, pages beyond.
 */
export const REPORT_LAYOUTS = ['auto', 'single', 'pages'] as const;
export type ReportLayout = (typeof REPORT_LAYOUTS)[number];

export interface WriteReportsOptions {
  readonly layout?: ReportLayout;
  /** Rows in each page file of a paged report (default ROWS_PER_PAGE); small in tests. */
  readonly rowsPerPage?: number;
}

/** Whether a report of `rows` images in `layout` loads its rows in pages. */
export function reportIsPaged(layout: ReportLayout, rows: number): boolean {
  return layout === 'pages' || (layout === 'auto' && rows > REPORT_INLINE_MAX_ROWS);
}

/**
 * Writes the reports into `out`, the findings (findings.ts) at the top of report.html, in summary.json and, with
 * the files they name, in needs-attention.csv; returns the summary with the findings. A row whose pictures
 * cannot be read (deleted since, not regular files, not a PNG, JPEG or WebP picture, or named outside `out` by
 * an edited journal) is shown without them, its image cell saying why, and one warning lists such rows; nothing
 * outside `out` is ever read or linked.
 */
export async function writeReports(
  out: string,
  rows: readonly AuditRow[],
  config: AuditConfig,
  onWarning: (message: string) => void = () => {},
  options: WriteReportsOptions = {},
): Promise<AuditSummary & { readonly findings: readonly Finding[] }> {
  const detect = summarizeDetections(rows);
  const summary = { ...summarize(rows), ...(detect ? { detect } : {}) };
  const findings = auditFindings(rows, summary);
  const paged = reportIsPaged(options.layout ?? 'auto', rows.length);
  const missing = new Map<string, string>();
  // Page files of an earlier run, paged or not, would be stale beside this report.
  await rm(join(out, PAGES_FOLDER), { recursive: true, force: true });
  let html: string;
  if (paged) {
    // The pictures stay in their files, named by relative URL; they are checked, not read.
    const pictures = new Map<string, { overlay: string; thumbnail: string }>();
    // A few dozen checks at once: one after another, 10,000 rows' file checks took 10 s on a busy machine.
    for (let start = 0; start < rows.length; start += CHECKS_AT_ONCE) {
      const part = rows.slice(start, start + CHECKS_AT_ONCE);
      const problems = await Promise.all(part.map((row) => rowPicturesProblem(out, row)));
      part.forEach((row, i) => {
        if (problems[i] !== undefined) missing.set(row.file, problems[i]);
        else if (row.overlay !== undefined && row.thumbnail !== undefined)
          pictures.set(row.file, {
            overlay: relativeUrl(row.overlay),
            thumbnail: relativeUrl(row.thumbnail),
          });
      });
    }
    const report = await renderPagedReport({
      rows,
      summary,
      config,
      pictures,
      missingPictures: missing,
      rowsPerPage: options.rowsPerPage,
      findings,
    });
    await outputFolder(out, PAGES_FOLDER);
    for (const page of report.pages) await writeAtomically(join(out, page.name), page.text);
    html = report.html;
  } else {
    const images = new Map<string, ReportImages>();
    for (const row of rows) {
      const read = await readRowPictures(out, row);
      if ('pictures' in read) {
        const { overlay, thumbnail } = read.pictures;
        if (pictureType(overlay) && pictureType(thumbnail)) images.set(row.file, read.pictures);
        else missing.set(row.file, 'not a PNG, JPEG or WebP picture');
      } else if (read.problem !== undefined) missing.set(row.file, read.problem);
    }
    html = await renderReport({ rows, summary, config, images, missingPictures: missing, findings });
  }
  if (missing.size > 0) {
    // A file name inside a line: a line feed in it must not start a line of its own.
    const shown = [...missing].map(([file, why]) => `${terminalSafe(file, { oneLine: true })} (${why})`);
    onWarning(
      `${formatCount(missing.size)} image${missing.size === 1 ? '' : 's'} of the report ${missing.size === 1 ? 'is' : 'are'} ` +
        `shown without ${missing.size === 1 ? 'its pictures' : 'their pictures'}: ${listSome(shown, 3, '; ')}.`,
    );
  }
  await writeAtomically(join(out, 'report.html'), html);
  await writeAtomically(join(out, 'results.jsonl'), rowsToJsonl(rows));
  await writeAtomically(join(out, 'results.csv'), rowsToCsv(rows));
  await writeAtomically(join(out, NEEDS_ATTENTION_FILE), needsAttentionCsv(findings));
  await writeAtomically(
    join(out, 'summary.json'),
    `${JSON.stringify({ config, summary, findings }, null, 2)}\n`,
  );
  return { ...summary, findings };
}

const CHECKS_AT_ONCE = 64;

/** A path inside the output folder (checked) as a URL relative to report.html there. */
function relativeUrl(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
