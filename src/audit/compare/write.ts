// Writing a comparison's reports (Node): report.html, compare.csv and compare.json into the --out folder.
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { SightlineError } from '../../core/errors.js';
import { writeAtomically } from '../output.js';
import { readRowPictures } from '../pictures.js';
import { THUMBNAIL_SIDE } from '../row-pictures.js';
import type { AuditRow } from '../types.js';
import { type Comparison, compareAudits } from './compare.js';
import { comparisonToCsv } from './csv.js';
import { type CompareThumbnails, renderComparison } from './html.js';
import { type AuditRead, readAudit } from './read.js';

/**
 * Reads the audits in folders `a` and `b`, compares them and writes `out`/report.html, compare.csv and
 * compare.json (the Comparison). The thumbnails are each audit's overlays, from its own folder, read as its report reads
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
    found.set(file, {
      ...(await small(a.folder, rowsA.get(file)!, 'a')),
      ...(await small(b.folder, rowsB.get(file)!, 'b')),
    });
  }
  return found;
}

/**
 * The row's overlay (its map over the photo: the audit's thumbnail is the bare photo) shrunk to a thumbnail, so
 * the two maps show side by side; nothing when it cannot be read or decoded.
 */
async function small(
  folder: string,
  row: AuditRow,
  side: 'a' | 'b',
): Promise<{ a?: Uint8Array; b?: Uint8Array }> {
  const read = await readRowPictures(folder, row);
  if (!('pictures' in read)) return {};
  try {
    const png = await sharp(read.pictures.overlay, { limitInputPixels: 4096 * 4096 })
      .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside' })
      .png()
      .toBuffer();
    return { [side]: new Uint8Array(png) };
  } catch {
    return {};
  }
}
