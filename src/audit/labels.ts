// The label each audited image should get: from its folder's name or a labels CSV, matched to the model's
// classes.
import { SightlineError } from '../core/errors.js';
import { listSome } from '../core/text.js';
import { normalizeFileName, readCsvTable } from './regions/index.js';

/**
 * Labels from the folder layout `<label>/<file>`: each file's label is the name of the first folder on its
 * path (`golden_retriever/a/1.jpg` → `golden_retriever`); files directly in the audited folder get none.
 * `files` are paths relative to the audited folder with '/' separators; the map is keyed by them.
 */
export function labelsFromFolders(files: readonly string[]): Map<string, string> {
  const labels = new Map<string, string>();
  for (const file of files) {
    const slash = file.indexOf('/');
    if (slash > 0) labels.set(file, file.slice(0, slash));
  }
  return labels;
}

/**
 * Labels from a CSV file with a header row naming the columns `file` and `label` (in any order; other columns
 * are ignored), one row per image. For a multilabel model a label may list several tags separated by '|'
 * ('dog|leash', audit.ts TAG_SEPARATOR); the text is kept whole here and split by the audit, which alone knows
 * the model's task (a classifier's label is one class, '|' and all). Keys are the file names as written, with '/' separators. Throws 'IO' for
 * an unreadable or malformed file, a row without a file or label, and a file given two different labels.
 */
export async function readLabelCsv(path: string): Promise<Map<string, string>> {
  const { header, rows } = await readCsvTable(path, 'labels file', 'IO');
  const fileColumn = header.indexOf('file');
  const labelColumn = header.indexOf('label');
  if (fileColumn < 0 || labelColumn < 0) {
    throw new SightlineError(
      'IO',
      `The header of the labels file '${path}' is '${listSome(header, 10, ',')}'; expected the columns file,label ` +
        '(in any order; other columns are ignored).',
      { path, header },
    );
  }
  const labels = new Map<string, string>();
  for (const { fields, line } of rows) {
    const file = normalizeFileName(fields[fileColumn]);
    const label = fields[labelColumn];
    if (file === '' || label === '') {
      throw new SightlineError(
        'IO',
        `Line ${line} of the labels file '${path}' has ${file === '' ? 'no file name' : `no label for '${file}'`}; ` +
          'expected a file name and its label.',
        { path, line },
      );
    }
    const before = labels.get(file);
    if (before !== undefined && before !== label) {
      throw new SightlineError(
        'IO',
        `The labels file '${path}' gives '${file}' two labels, '${before}' and '${label}' (line ${line}); ` +
          'expected one label per image.',
        { path, line, file },
      );
    }
    labels.set(file, label);
  }
  return labels;
}
