// Readers for "where the model should look": COCO JSON, Pascal VOC XML, a boxes CSV, or a folder of mask PNGs,
// all turned into one ImageRegions per image. Every malformed input is a SightlineError 'REGIONS' that names
// the file, what was wrong and what was expected; a file that cannot be read at all is 'IO'.
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { ImageRegions } from '../types.js';
import { readCoco } from './coco.js';
import { regionsError } from './common.js';
import { readBoxCsv } from './csv.js';
import { readText, unreadable } from './files.js';
import { collectVoc, readVoc } from './voc.js';

export { checkShapes } from './check.js';
export { readCsvTable } from './files.js';
export { readMask } from './masks.js';
export { normalizeFileName, regionsFor } from './match.js';

const FORMATS =
  'a COCO .json file, a Pascal VOC .xml file or a folder of them, a .csv file with columns ' +
  'file,x,y,width,height or file,xmin,ymin,xmax,ymax, or a folder of mask PNGs';

/**
 * Reads the regions for a set of images, keyed by each image's file name as the source names it (a relative
 * path or a base name, '/' separators; see regionsFor for how an audited file finds its key). What `path` is
 * picks the format:
 * - a `.json` file: COCO (`images` and `annotations`). An annotation gives its `segmentation` polygons when
 *   it has any (the object's outline), else its `bbox` [x, y, width, height]; an RLE segmentation (iscrowd),
 *   compressed or not, is decoded to one box per run of pixels in a column. Polygons of fewer than 3 points
 *   (which COCO holds a few of) cover nothing and are skipped. Categories only name annotations in messages.
 * - a `.xml` file, or a folder holding `.xml` files (searched recursively): Pascal VOC, `<filename>` and each
 *   `<object><bndbox>`. VOC corners are 1-based and inclusive, so x = xmin − 1, width = xmax − xmin + 1
 *   (likewise y and height): VOC's xmin 1, xmax 10 is our x 0, width 10.
 * - a `.csv` file: a header row, then one row per box, with columns `file,x,y,width,height` or
 *   `file,xmin,ymin,xmax,ymax` in any order (other columns are ignored). CSV corners are edges in continuous
 *   0-based pixel coordinates, unlike VOC's: xmin 0, xmax 10 is x 0, width 10.
 * - a folder of PNGs (and no `.xml`), searched recursively: one mask per image, named after the image with
 *   `.png` for its extension (`dog.png` for `dog.jpg`); `maskPath` is set and `shapes` is empty. See readMask.
 *
 * Coordinates are pixels of the image as stored, x to the right and y down from the top-left corner. Images
 * that a source lists without any shape are left out.
 */
export async function readRegions(path: string): Promise<Map<string, ImageRegions>> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (cause) {
    throw unreadable(path, 'regions file or folder', cause);
  }
  if (isFolder) return readRegionFolder(path);
  switch (extname(path).toLowerCase()) {
    case '.json':
      return readCoco(path, await readText(path, 'regions file'));
    case '.xml':
      return collectVoc([readVoc(path, await readText(path, 'regions file'))]);
    case '.csv':
      return readBoxCsv(path, await readText(path, 'regions file'));
    default:
      throw regionsError(`'${path}' is not a regions file Sightline reads; expected ${FORMATS}.`, { path });
  }
}

/** A folder of VOC .xml files (any .xml wins), else a folder of mask PNGs. */
async function readRegionFolder(path: string): Promise<Map<string, ImageRegions>> {
  const entries = (await listFiles(path)).sort();
  const xml = entries.filter((rel) => rel.toLowerCase().endsWith('.xml'));
  if (xml.length > 0) {
    const files = [];
    for (const rel of xml) {
      const file = join(path, rel);
      files.push(readVoc(file, await readText(file, 'regions file')));
    }
    return collectVoc(files);
  }
  const masks = entries.filter((rel) => rel.toLowerCase().endsWith('.png'));
  if (masks.length === 0) {
    throw regionsError(
      `The folder '${path}' holds no .xml or .png files; expected Pascal VOC .xml files or mask PNGs.`,
      { path },
    );
  }
  return new Map(
    masks.map((rel) => {
      const maskPath = join(path, rel);
      return [rel, { shapes: [], maskPath, source: maskPath }];
    }),
  );
}

/** Files under `root`, as '/'-separated paths relative to it, skipping names that start with a dot. */
async function listFiles(root: string, under = ''): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(root, under), { withFileTypes: true });
  } catch (cause) {
    throw unreadable(join(root, under), 'regions folder', cause);
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const rel = under === '' ? entry.name : `${under}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(root, rel)));
    else if (entry.isFile()) files.push(rel);
  }
  return files;
}
