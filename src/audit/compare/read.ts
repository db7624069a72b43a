// Reading a finished audit's output folder for `sightline compare`: its settings (summary.json) and rows
// (results.jsonl). Both folders come from anywhere (a colleague's USB stick, an edited file), so every read is
// bounded, every row is checked as a journal's are (row-check.ts), and anything wrong is refused with the file,
// the line and what was expected: a comparison built on a half-read audit would be silent garbage.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileErrorReason, SightlineError } from '../../core/errors.js';
import { capText, formatCount } from '../../core/text.js';
import { readRegularFile } from '../../io/read-file.js';
import { JOURNAL_FILE, MAX_JOURNAL_BYTES, MAX_LINE } from '../journal.js';
import { checkRow } from '../row-check.js';
import type { ShortcutRowPart } from '../shortcut-types.js';
import type { AuditConfig, AuditRow } from '../types.js';

export const RESULTS_FILE = 'results.jsonl';
export const SUMMARY_FILE = 'summary.json';
/** The largest summary.json read: its clusters list every file, about 100 bytes each for 20,000 images. */
const MAX_SUMMARY_BYTES = 64 * 1024 * 1024;
/** Most shortcut flags kept per row, and the longest one (characters): words, not data. */
const MAX_FLAGS = 100;
const MAX_FLAG = 500;
/** Longest setting value kept from summary.json's config (a path, a model reference). */
const MAX_SETTING = 4096;
const MAX_OPTIONS = 200;

/** One audit, read and checked. */
export interface AuditRead {
  /** The folder as given. */
  readonly folder: string;
  readonly config: AuditConfig;
  /** The rows in file order, each checked; files are unique. */
  readonly rows: readonly AuditRow[];
  /**
   * Each row's shortcut flags (an audit run with --shortcuts), by file; absent for rows without them.
   */
  readonly flags: ReadonlyMap<string, readonly string[]>;
}

/** Reads the audit written into `folder` by `sightline audit --out folder`. Throws IO naming what is wrong. */
export async function readAudit(folder: string): Promise<AuditRead> {
  const kind = await stat(folder).catch((cause) => {
    throw new SightlineError(
      'IO',
      `Cannot read the audit folder '${folder}': ${fileErrorReason(cause)}; expected the --out folder of 'sightline audit'.`,
      { path: folder },
      { cause },
    );
  });
  if (!kind.isDirectory()) {
    throw new SightlineError(
      'IO',
      `'${folder}' is not a folder; expected the --out folder of 'sightline audit' (holding ${RESULTS_FILE} and ${SUMMARY_FILE}).`,
      { path: folder },
    );
  }
  const config = await readConfig(folder);
  const { rows, flags } = await readRows(folder);
  return { folder, config, rows, flags };
}

async function readText(folder: string, name: string, maxBytes: number): Promise<string> {
  const path = join(folder, name);
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, {
      maxBytes,
      expected: `the ${name} that 'sightline audit' writes into its --out folder`,
      noun: 'the audit file',
    });
  } catch (error) {
    const missing = error instanceof SightlineError && error.details.errno === 'ENOENT';
    if (missing && (await stat(join(folder, JOURNAL_FILE)).catch(() => undefined))) {
      throw new SightlineError(
        'IO',
        `The audit in '${folder}' has no ${name} yet, only its journal: it did not finish. Run the same 'sightline audit' command again to finish it and write its reports, then compare.`,
        { path },
      );
    }
    throw error;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad(path, 'it is not UTF-8 text');
  }
}

function bad(path: string, problem: string, line?: number): SightlineError {
  const where = line === undefined ? '' : ` (line ${formatCount(line)})`;
  return new SightlineError(
    'IO',
    `The audit file '${path}'${where} is not what 'sightline audit' writes: ${problem}. Compare the folders the audits wrote, unedited, or run the audit again.`,
    { path, ...(line === undefined ? {} : { line }) },
  );
}

/** summary.json's `config`, checked: what was run, for the report and the warnings about differing settings. */
async function readConfig(folder: string): Promise<AuditConfig> {
  const path = join(folder, SUMMARY_FILE);
  const text = await readText(folder, SUMMARY_FILE, MAX_SUMMARY_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad(path, 'it is not JSON (cut short, or another file)');
  }
  const c = (value as { config?: unknown } | null)?.config;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw bad(path, "it has no 'config' object");
  const o = c as Record<string, unknown>;
  const setting = (key: string, required: boolean): string | undefined => {
    const v = o[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.length > MAX_SETTING)
      throw bad(path, `'config.${key}' is not a text of up to ${formatCount(MAX_SETTING)} characters`);
    return v;
  };
  const options = o.options ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw bad(path, "'config.options' is not an object");
  const entries = Object.entries(options);
  if (
    entries.length > MAX_OPTIONS ||
    !entries.every(
      ([, v]) =>
        (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= MAX_SETTING),
    )
  )
    throw bad(path, `'config.options' is not up to ${MAX_OPTIONS} numbers and texts`);
  const config: Record<string, unknown> = {
    model: setting('model', true),
    method: setting('method', true),
    options: Object.fromEntries(entries),
  };
  for (const key of ['labels', 'regions', 'reference']) {
    const v = setting(key, false);
    if (v !== undefined) config[key] = v;
  }
  if (o.faithfulness !== undefined) {
    if (typeof o.faithfulness !== 'boolean') throw bad(path, "'config.faithfulness' is not true or false");
    config.faithfulness = o.faithfulness;
  }
  return config as unknown as AuditConfig;
}

/** results.jsonl's rows, every line checked; one bad line refuses the file (no row silently left out). */
async function readRows(
  folder: string,
): Promise<{ rows: AuditRow[]; flags: Map<string, readonly string[]> }> {
  const path = join(folder, RESULTS_FILE);
  const text = await readText(folder, RESULTS_FILE, MAX_JOURNAL_BYTES);
  if (text !== '' && !text.endsWith('\n'))
    throw bad(path, 'its last line has no line feed, so the file was cut short');
  const rows: AuditRow[] = [];
  const flags = new Map<string, readonly string[]>();
  const seen = new Set<string>();
  let start = 0;
  for (let n = 1; start < text.length; n++) {
    const end = text.indexOf('\n', start);
    // Measured before it is sliced or parsed, so a huge line costs no copy.
    if (end - start > MAX_LINE)
      throw bad(
        path,
        `the line holds ${formatCount(end - start)} characters, over ${formatCount(MAX_LINE)}`,
        n,
      );
    const line = text.slice(start, end);
    start = end + 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw bad(path, 'the line is not JSON', n);
    }
    const checked = checkRow(value);
    if ('problem' in checked) throw bad(path, `the line is not an audit row (${checked.problem})`, n);
    const row = checked.row;
    if (seen.has(row.file)) throw bad(path, `the image '${capText(row.file, 300)}' has a second row`, n);
    seen.add(row.file);
    rows.push(row);
    const f = shortcutFlags(row.shortcuts);
    if (f) flags.set(row.file, f);
  }
  return { rows, flags };
}

/**
 * A row's shortcut flags (audit --shortcuts; the row check has read their shape), unique and sorted, each capped;
 * undefined for a row without shortcut tests.
 */
export function shortcutFlags(part: ShortcutRowPart | undefined): string[] | undefined {
  if (!part) return undefined;
  const words: string[] = [];
  for (const flag of part.flags.slice(0, MAX_FLAGS)) {
    const w = capText(flag, MAX_FLAG);
    if (w !== '' && !words.includes(w)) words.push(w);
  }
  return words.sort();
}
