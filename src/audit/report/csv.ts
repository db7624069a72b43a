// The audit's rows for machines and spreadsheets: results.csv (one row per image) and results.jsonl.
import type { AuditRow } from '../types.js';
import { kindOf, predictionWords, shareOf, taskOf } from './row-view.js';
import { SHORTCUT_CSV_COLUMNS, shortcutCsvValues } from './shortcut-csv.js';

/** results.csv's columns, in order. */
export const CSV_COLUMNS = [
  'file',
  'status',
  'task',
  'top1',
  'top1_score',
  'prediction',
  'label',
  'correct',
  'tags_present',
  'tags_absent',
  'target',
  'target_low_probability',
  'share',
  'area_share',
  'concentration',
  'peak_inside',
  'verdict',
  'no_evidence',
  'border_share',
  'deletion_auc',
  'insertion_auc',
  'error',
] as const;

type CsvColumn = (typeof CSV_COLUMNS)[number];
type CsvValue = string | number | boolean | undefined;

/**
 * One CSV line per row under a header of CSV_COLUMNS, lines ended by CRLF (RFC 4180). Numbers are written in
 * full (JavaScript's shortest round-trip form), booleans as true/false, what a row lacks as an empty field;
 * `verdict` is the code (object, partly, background), `no_evidence` true for an ok row whose map is zero everywhere
 * (the model found no evidence for the class: no share, verdict or border share then), `error` the message
 * (results.jsonl has the code too). `task` says how `top1_score` reads: a probability in [0, 1] for classify
 * and multilabel, the raw value for score; `prediction` is the same in words ('score 0.7300', 'tags: dog
 * 91.0%'). A multilabel row's labelled tags are split into `tags_present` and `tags_absent` ('|'-separated);
 * `target_low_probability` is the explained target's probability when it is under 1% (a tag's under 10%). A
 * detector's row has the lowest share of an explained detection's map inside its own box as `share`, and the
 * worst of its detections' verdicts as `verdict`, as the report sorts and files the row.
 *
 * Fields holding a comma, a double quote, CR or LF are quoted, with quotes doubled (RFC 4180). A text field
 * that starts with =, +, -, @, a tab or CR gets a leading apostrophe, so a spreadsheet shows it as text instead
 * of running it as a formula (CSV injection, OWASP); a plain number such as -0.5 is left as it is.
 */
export function rowsToCsv(rows: readonly AuditRow[]): string {
  // audit --shortcuts adds its columns after these (report/shortcut-csv.ts).
  const shortcuts = rows.some((row) => row.shortcuts);
  const columns: readonly string[] = shortcuts ? [...CSV_COLUMNS, ...SHORTCUT_CSV_COLUMNS] : CSV_COLUMNS;
  const lines = [columns.join(',')];
  for (const row of rows) {
    const values: Record<string, CsvValue> = {
      ...csvValues(row),
      ...(shortcuts ? shortcutCsvValues(row) : {}),
    };
    lines.push(columns.map((column) => csvField(values[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** One JSON object per line (a row as it is, `summary` included), each line ended by LF; '' for no rows. */
export function rowsToJsonl(rows: readonly AuditRow[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

function csvValues(row: AuditRow): Record<CsvColumn, CsvValue> {
  const top = row.predictions?.[0];
  return {
    file: row.file,
    status: row.status,
    task: row.predictions ? taskOf(row) : row.task,
    top1: top?.label,
    top1_score: top?.score,
    prediction: predictionWords(row) || undefined,
    label: row.label?.text,
    correct: row.correct,
    tags_present: row.tags
      ?.filter((t) => t.present)
      .map((t) => t.label)
      .join('|'),
    tags_absent: row.tags
      ?.filter((t) => !t.present)
      .map((t) => t.label)
      .join('|'),
    target: row.target?.label,
    target_low_probability: row.lowConfidence?.probability,
    share: shareOf(row),
    area_share: row.region?.areaShare,
    concentration: row.region?.concentration,
    peak_inside: row.region?.peakInside,
    verdict: row.region?.verdict ?? (row.detect ? detectVerdict(row) : undefined),
    no_evidence: row.status === 'ok' ? row.noEvidence === true : undefined,
    border_share: row.borderShare,
    deletion_auc: row.faithfulness?.deletion,
    insertion_auc: row.faithfulness?.insertion,
    error: row.error?.message,
  };
}

/** A detector row's verdict, as the report files it: its worst explained detection's. */
function detectVerdict(row: AuditRow): CsvValue {
  const kind = kindOf(row);
  return kind === 'object' || kind === 'partly' || kind === 'background' ? kind : undefined;
}

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const FORMULA_START = /^[=+\-@\t\r]/;

/** A value as one CSV field: guarded against formula injection, then quoted where RFC 4180 needs it. */
export function csvField(value: CsvValue): string {
  if (value === undefined) return '';
  if (typeof value === 'number' && !Number.isFinite(value)) return '';
  let text = String(value);
  if (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
