// A manifest: the images of an audit listed in a file rather than found in a folder, for datasets that live on
// a shared file system or behind HTTP (an object store). A CSV with a header naming a `file`, `path` or `url`
// column (and optionally `label`), or JSON lines {"file": …, "label": …}. Relative paths are read from the
// manifest's folder; http(s) URLs are fetched. The manifest is untrusted: every entry is checked, and a
// duplicate, an empty name or an unknown scheme is refused with its line.
import { stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { SightlineError } from '../core/errors.js';
import { capText } from '../core/text.js';
import { isHttpUrl } from '../core/url.js';
import { displayUrl } from '../engines/http/client.js';
import { readText } from './regions/files.js';
import { readCsvTable } from './regions/index.js';

/** Manifest file names end so; anything else given to `audit` is a folder. */
export const MANIFEST_EXTENSIONS = ['.csv', '.jsonl'];
const COLUMNS = ['file', 'path', 'url'];
const MAX_NAME = 4096;

export interface ManifestEntry {
  /**
   * The row's identity: the entry as written, '/'-separated; for a URL, without its credentials and query
   * values (a signed URL's token must not land in a report).
   */
  readonly file: string;
  /** Where it is read: an absolute path or the URL as given. */
  readonly source: string;
  readonly label?: string;
}

/** Whether `path` is a manifest: a file (not a folder) whose name ends in .csv or .jsonl. */
export async function isManifestFile(path: string): Promise<boolean> {
  if (!MANIFEST_EXTENSIONS.includes(extname(path).toLowerCase())) return false;
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/** The labels a manifest gives, by file, or undefined when it gives none (or there is no manifest). */
export function manifestLabels(
  entries: readonly ManifestEntry[] | undefined,
): Map<string, string> | undefined {
  const labelled = (entries ?? []).filter((e) => e.label !== undefined);
  return labelled.length > 0 ? new Map(labelled.map((e) => [e.file, e.label as string])) : undefined;
}

export async function readManifest(path: string): Promise<ManifestEntry[]> {
  const base = dirname(path);
  const raw: { name: string; label?: string; line: number }[] = [];
  if (extname(path).toLowerCase() === '.csv') {
    const { header, rows } = await readCsvTable(path, 'manifest', 'IO');
    const column = header.findIndex((h) => COLUMNS.includes(h));
    const labelColumn = header.indexOf('label');
    if (column < 0)
      throw bad(path, `its header '${capText(header.join(','), 200)}' names no file, path or url column`);
    for (const { fields, line } of rows)
      raw.push({
        name: fields[column] ?? '',
        label: labelColumn >= 0 ? fields[labelColumn] || undefined : undefined,
        line,
      });
  } else {
    const lines = (await readText(path, 'manifest')).split('\n');
    lines.forEach((text, i) => {
      if (text.trim() === '') return;
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        throw bad(path, `line ${i + 1} is not JSON`);
      }
      const record = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
      const name = COLUMNS.map((c) => record[c]).find((v) => v !== undefined);
      const label = record.label;
      if (typeof name !== 'string') throw bad(path, `line ${i + 1} has no text 'file', 'path' or 'url'`);
      if (label !== undefined && typeof label !== 'string')
        throw bad(path, `line ${i + 1}'s 'label' is not text`);
      raw.push({ name, label: label === '' ? undefined : (label as string | undefined), line: i + 1 });
    });
  }
  const seen = new Map<string, number>();
  return raw.map(({ name, label, line }) => {
    if (name === '' || name.length > MAX_NAME || name.includes('\0'))
      throw bad(path, `line ${line} names no image (or a name over ${MAX_NAME} characters)`);
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(name);
    if (url && !isHttpUrl(name)) throw bad(path, `line ${line} names a URL that is not http(s)`);
    const file = url ? displayUrl(name) : name.split('\\').join('/');
    const earlier = seen.get(file);
    if (earlier !== undefined)
      throw bad(path, `line ${line} names '${capText(file, 200)}' again (line ${earlier})`);
    seen.set(file, line);
    const source = url ? name : isAbsolute(name) ? name : join(base, name);
    return { file, source, ...(label !== undefined ? { label } : {}) };
  });
}

function bad(path: string, problem: string): SightlineError {
  return new SightlineError(
    'IO',
    `The manifest '${path}' cannot be used: ${problem}; expected a CSV with a header naming a file, path or url column (and optionally label), or JSON lines {"file": "…", "label": "…"}, one image each.`,
    { path },
  );
}
