// Writing a comparison's reports (Node): report.html, compare.csv and compare.json into the --out folder.
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { SightlineError } from '../../core/errors.js';
import { writeAtomically } from '../output.js';
import { readRowPictures } from '../pictures.js';
import { type Comparison, compareAudits } from './compare.js';
import { comparisonToCsv } from './csv.js';
import { type CompareThumbnails, renderComparison } from './html.js';
import { type AuditRead, readAudit } from './read.js';

/**
 * Reads the audits in folders `a` and `b`, compares them and writes `out`/report.html, compare.csv and
 * compare.json (the Comparison). The thumbnails come from each audit's own folder, read as its report reads
 * them (never outside that folder); an image whose thumbnail cannot be read is shown without it.
 */
export async function compareFolders(a: string, b: string, out: string): Promise<Comparison> {
  await mkdir(out, { recursive: true });
  // report.html would replace the audit's own report in its folder; refused before anything is read.
  const outReal = await realpath(out);
  for (const folder of [a, b]) {
    if ((await realpath(folder).catch(() => undefined)) === outReal)
      throw new SightlineError(
        'INVALID_ARGUMENT',
        `The output folder '${out}' is the audit folder '${folder}'; its report.html would be replaced. Pass another --out.`,
      );
  }
  const [readA, readB] = [await readAudit(a), await readAudit(b)];
  const comparison = compareAudits(readA, readB);
  const html = await renderComparison(comparison, await thumbnails(comparison, readA, readB));
  await writeAtomically(join(out, 'report.html'), html);
  await writeAtomically(join(out, 'compare.csv'), comparisonToCsv(comparison));
  await writeAtomically(join(out, 'compare.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  return comparison;
}

async function thumbnails(comparison: Comparison, a: AuditRead, b: AuditRead): Promise<CompareThumbnails> {
  const rowsA = new Map(a.rows.map((row) => [row.file, row]));
  const rowsB = new Map(b.rows.map((row) => [row.file, row]));
  const found = new Map<string, { a?: Uint8Array; b?: Uint8Array }>();
  for (const { file } of comparison.images) {
    const [pa, pb] = [
      await readRowPictures(a.folder, rowsA.get(file)!),
      await readRowPictures(b.folder, rowsB.get(file)!),
    ];
    found.set(file, {
      ...('pictures' in pa ? { a: pa.pictures.thumbnail } : {}),
      ...('pictures' in pb ? { b: pb.pictures.thumbnail } : {}),
    });
  }
  return found;
}
