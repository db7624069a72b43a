// The browser audit's files, as `sightline audit --out` writes them (src/audit/write.ts): report.html rendered
// by the library's own renderer (one self-contained file), results.csv, results.jsonl, summary.json and
// needs-attention.csv; offered one by one or all in a .zip. Made in the page from the rows: nothing is uploaded.
import { zipSync } from 'fflate';
import {
  type AuditConfig,
  type AuditRow,
  auditFindings,
  NEEDS_ATTENTION_FILE,
  needsAttentionCsv,
  renderReport,
  rowsToCsv,
  rowsToJsonl,
  summarize,
} from '../../src/browser.js';
import type { AuditPictures } from './audit-pictures.js';
import { download } from './export.js';

export interface AuditFiles {
  readonly 'report.html': string;
  readonly 'results.csv': string;
  readonly 'results.jsonl': string;
  readonly 'summary.json': string;
  readonly [NEEDS_ATTENTION_FILE]: string;
}

/** The files of an audit of `rows` (sorted by file, as the CLI's results are) run with `config`. */
export async function auditFiles(
  rows: readonly AuditRow[],
  config: AuditConfig,
  images: ReadonlyMap<string, AuditPictures>,
): Promise<AuditFiles> {
  const summary = summarize(rows);
  const findings = auditFindings(rows, summary);
  return {
    'report.html': await renderReport({ rows, summary, config, findings, images }),
    'results.csv': rowsToCsv(rows),
    'results.jsonl': rowsToJsonl(rows),
    'summary.json': `${JSON.stringify({ config, summary, findings }, null, 2)}\n`,
    [NEEDS_ATTENTION_FILE]: needsAttentionCsv(findings),
  };
}

const TYPES: Record<string, string> = {
  html: 'text/html',
  csv: 'text/csv',
  jsonl: 'application/jsonl',
  json: 'application/json',
  zip: 'application/zip',
};

/** Saves `data` as the file `name` through the browser's download. */
export function downloadFile(name: string, data: string | Uint8Array): void {
  const type = TYPES[name.replace(/^.*\./, '')] ?? 'application/octet-stream';
  download(new Blob([data as BlobPart], { type }), name);
}

/** All the files in one .zip, each under its own name, as the CLI's output folder holds them. */
export function zipFiles(files: AuditFiles): Uint8Array {
  const encoder = new TextEncoder();
  return zipSync(
    Object.fromEntries(Object.entries(files).map(([name, text]) => [name, encoder.encode(text)])),
  );
}
