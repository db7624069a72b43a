// Ground truth for a detector's audit: each image's objects, a class name and a box, read from COCO (bbox and
// category name per annotation). The files are untrusted: every malformed entry is a SightlineError 'REGIONS'
// naming the file, the entry and what was expected.
import { extname } from 'node:path';
import { readText, regionsError } from './regions/common.js';
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

/** Reads the ground-truth objects of a detector's audit (a COCO .json file). */
export async function readDetectTruth(path: string): Promise<Map<string, DetectTruth>> {
  if (extname(path).toLowerCase() !== '.json')
    throw regionsError(
      `A detector's audit reads its ground-truth boxes from a COCO .json file (bbox and category per annotation); got '${path}'.`,
      { path },
    );
  return parseCocoObjects(path, await readText(path, 'regions file'));
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
