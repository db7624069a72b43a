// Ground truth for a detector's audit: each image's objects, a class name and a box, read from COCO (bbox and
// category name per annotation). The files are untrusted: every malformed entry is a SightlineError 'REGIONS'
// naming the file, the entry and what was expected.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { isRecord, listOf, regionsError } from './regions/common.js';
import { readText, unreadable } from './regions/files.js';
import { readCsvTable, readRegions } from './regions/index.js';
import { normalizeFileName } from './regions/match.js';
import type { DetectObject, ImageRegions } from './types.js';

/** An image's objects, keyed like the regions readers' index (so regionsFor finds an audited file's entry). */
export type DetectTruth = ImageRegions & { readonly objects: readonly DetectObject[] };

/** The most objects read from one file: far above any real dataset's per-file count, bounded all the same. */
export const MAX_TRUTH_OBJECTS = 10_000_000;

const quote = (v: unknown) => {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 60 ? `${t.slice(0, 57)}…` : t;
};

const FORMATS =
  "a COCO .json file (bbox and category per annotation), Pascal VOC .xml (a file or a folder; each object's <name>), or a .csv with a class column ('label' or 'class') beside file and the box";

/**
 * Reads the ground-truth objects of a detector's audit: COCO, Pascal VOC or a boxes CSV, read as the regions
 * readers read them (regions/index.ts: the same conventions and refusals), each box with its class name.
 */
export async function readDetectTruth(path: string): Promise<Map<string, DetectTruth>> {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return parseCocoObjects(path, await readText(path, 'regions file'));
  if (ext === '.csv') return readCsvObjects(path);
  let folder: boolean;
  try {
    folder = (await stat(path)).isDirectory();
  } catch (cause) {
    throw unreadable(path, 'regions file or folder', cause);
  }
  if (ext === '.xml' || folder) return readVocObjects(path);
  throw regionsError(`'${path}' is not ground truth a detector's audit reads; expected ${FORMATS}.`, {
    path,
  });
}

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

/** VOC: the boxes as the regions reader reads them (1-based inclusive corners), each object's <name> beside. */
async function readVocObjects(path: string): Promise<Map<string, DetectTruth>> {
  const regions = await readRegions(path);
  const out = new Map<string, DetectTruth>();
  for (const [file, r] of regions) {
    if (r.maskPath !== undefined)
      throw regionsError(
        `'${path}' holds mask PNGs; a detector's audit needs boxes with classes (${FORMATS}).`,
        {
          path,
        },
      );
    const root = (xml.parse(await readText(r.source, 'regions file')) as { annotation?: unknown }).annotation;
    const objects = listOf(isRecord(root) ? root.object : undefined);
    const objectsOut = r.shapes.map((shape, k) => {
      const name = isRecord(objects[k]) ? objects[k].name : undefined;
      if (typeof name !== 'string' || name.trim() === '' || shape.type !== 'box')
        throw regionsError(
          `Object ${k + 1} in '${r.source}' has no <name>; a detector's audit needs each box's class.`,
          { path: r.source },
        );
      return {
        label: name.trim(),
        box: [shape.x, shape.y, shape.x + shape.width, shape.y + shape.height],
      } as const;
    });
    out.set(file, { ...r, objects: objectsOut });
  }
  return out;
}

/** CSV: file, a class column (label or class) and the box as x,y,width,height or xmin,ymin,xmax,ymax. */
async function readCsvObjects(path: string): Promise<Map<string, DetectTruth>> {
  const { header, rows } = await readCsvTable(path, 'regions file', 'REGIONS');
  const col = (name: string) => header.indexOf(name);
  const file = col('file');
  const label = col('label') >= 0 ? col('label') : col('class');
  const xywh = ['x', 'y', 'width', 'height'].map(col);
  const xyxy = ['xmin', 'ymin', 'xmax', 'ymax'].map(col);
  const corners = xyxy.every((c) => c >= 0) ? xyxy : xywh.every((c) => c >= 0) ? xywh : undefined;
  if (file < 0 || label < 0 || !corners)
    throw regionsError(
      `The header of '${path}' is '${header.slice(0, 12).join(',')}'; a detector's audit expects the columns file, label (or class) and x,y,width,height or xmin,ymin,xmax,ymax.`,
      { path, header },
    );
  const index = new Map<string, { shapes: ImageRegions['shapes'][number][]; objects: DetectObject[] }>();
  for (const { fields, line } of rows) {
    const name = normalizeFileName(fields[file]);
    const text = fields[label].trim();
    const v = corners.map((c) => (fields[c].trim() === '' ? Number.NaN : Number(fields[c])));
    const [x0, y0, x1, y1] = corners === xyxy ? v : [v[0], v[1], v[0] + v[2], v[1] + v[3]];
    if (name === '' || text === '' || ![x0, y0, x1, y1].every(Number.isFinite) || x1 <= x0 || y1 <= y0)
      throw regionsError(
        `Line ${line} of '${path}' is not a box with a class (${quote(fields.slice(0, 8))}); expected a file name, a class and a box of positive width and height.`,
        { path, line },
      );
    const entry = index.get(name) ?? { shapes: [], objects: [] };
    entry.shapes.push({ type: 'box', x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
    entry.objects.push({ label: text, box: [x0, y0, x1, y1] });
    index.set(name, entry);
  }
  return new Map([...index].map(([name, e]) => [name, { ...e, source: path }]));
}

export function parseCocoObjects(path: string, text: string): Map<string, DetectTruth> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw regionsError(`'${path}' does not parse as JSON; expected a COCO annotations file.`, { path });
  }
  const coco = json as Record<string, unknown>;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(json) || !Array.isArray(coco.images) || !Array.isArray(coco.annotations))
    throw regionsError(
      `'${path}' is JSON but not COCO; expected an object with the lists 'images', 'annotations' and 'categories'.`,
      { path },
    );
  if (coco.annotations.length > MAX_TRUTH_OBJECTS)
    throw regionsError(`'${path}' lists over ${MAX_TRUTH_OBJECTS} annotations; expected fewer.`, { path });
  const categories = new Map<unknown, string>();
  if (Array.isArray(coco.categories))
    for (const c of coco.categories)
      if (isObject(c) && typeof c.name === 'string' && c.name.trim() !== '') categories.set(c.id, c.name);
  const files = new Map<unknown, string>();
  coco.images.forEach((image, k) => {
    const file =
      isObject(image) && typeof image.file_name === 'string' ? normalizeFileName(image.file_name) : '';
    if (!isObject(image) || file === '' || !(typeof image.id === 'number' || typeof image.id === 'string'))
      throw regionsError(
        `images[${k}] in '${path}' is ${quote(image)}; expected {id, file_name} with a number or string id.`,
        { path },
      );
    if (files.has(image.id))
      throw regionsError(`Image id ${quote(image.id)} appears twice in '${path}'; expected unique ids.`, {
        path,
      });
    files.set(image.id, file);
  });
  const index = new Map<string, { shapes: ImageRegions['shapes'][number][]; objects: DetectObject[] }>();
  coco.annotations.forEach((a, k) => {
    const name = `annotations[${k}] in '${path}'`;
    if (!isObject(a)) throw regionsError(`${name} is ${quote(a)}; expected an object.`, { path });
    const file = files.get(a.image_id);
    if (file === undefined)
      throw regionsError(`${name} has image_id ${quote(a.image_id)}, which 'images' does not list.`, {
        path,
      });
    const label = categories.get(a.category_id);
    if (label === undefined)
      throw regionsError(
        `${name} has category_id ${quote(a.category_id)}, which 'categories' does not name; a detector's audit needs each box's class.`,
        { path },
      );
    const b = a.bbox;
    if (
      !Array.isArray(b) ||
      b.length !== 4 ||
      !b.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
      b[2] <= 0 ||
      b[3] <= 0
    )
      throw regionsError(
        `${name} has bbox ${quote(b)}; expected [x, y, width, height] with width and height > 0.`,
        {
          path,
        },
      );
    const [x, y, w, h] = b as number[];
    const entry = index.get(file) ?? { shapes: [], objects: [] };
    entry.shapes.push({ type: 'box', x, y, width: w, height: h });
    entry.objects.push({ label, box: [x, y, x + w, y + h] });
    index.set(file, entry);
  });
  // Images the file lists without objects are audited too: every detection there is a false positive.
  for (const file of files.values()) if (!index.has(file)) index.set(file, { shapes: [], objects: [] });
  return new Map([...index].map(([file, e]) => [file, { ...e, source: path }]));
}
