// Readers for "where the model should look": COCO JSON, Pascal VOC XML, a boxes CSV, or a folder of mask PNGs,
// all turned into one ImageRegions per image. Every malformed input is a SightlineError 'REGIONS' that names
// the file, what was wrong and what was expected; a file that cannot be read at all is 'IO'.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import sharp, { type Metadata } from 'sharp';
import { describe, type ErrorCode, fileErrorReason, messageOf, SightlineError } from '../core/errors.js';
import { describePoints, shapesMask } from '../metrics/region.js';
import type { ImageRegions, RegionShape } from './types.js';

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

/**
 * The regions for `file` (a path relative to the audited folder, '/' separators), or undefined when the index
 * has none. An exact key wins; otherwise a key matches when one of the two paths ends with the other at a
 * folder boundary, so a COCO `dog.jpg` matches `animals/dog.jpg` and `val2017/dog.jpg` matches `dog.jpg`,
 * but `cats/dog.jpg` never matches `animals/dog.jpg`. Mask entries match on the path without its extension.
 * More than one matching key is an error, and so is a key that matches more than one of `files` (the audited
 * folder's files; pass them to catch `dog.jpg` in the regions when the folder holds `a/dog.jpg` and
 * `b/dog.jpg`) — errors the audit records for the image before going on.
 */
export function regionsFor(
  index: ReadonlyMap<string, ImageRegions>,
  file: string,
  files?: readonly string[],
): ImageRegions | undefined {
  const exact = index.get(file);
  if (exact) return exact;
  const keys: string[] = [];
  for (const [key, regions] of index) if (sameImage(key, regions, file)) keys.push(key);
  if (keys.length === 0) return undefined;
  const regions = index.get(keys[0])!;
  if (keys.length > 1) {
    throw regionsError(
      `'${file}' matches ${keys.length} images named in '${regions.source}' (${quoteList(keys)}); expected ` +
        'one. Name the images there by their path relative to the audited folder.',
      { file, keys },
    );
  }
  if (files) {
    const claimants = files.filter((f) => !index.has(f) && sameImage(keys[0], regions, f));
    if (claimants.length > 1) {
      throw regionsError(
        `The regions for '${keys[0]}' in '${regions.source}' could belong to ${claimants.length} images of ` +
          `the folder (${quoteList(claimants)}); name the image there by its path relative to the audited ` +
          'folder.',
        { file, key: keys[0], files: claimants },
      );
    }
  }
  return regions;
}

/**
 * Checks that each shape marks part of a width × height image. A shape that lies entirely outside the image,
 * or covers no pixel centre, is a SightlineError 'REGIONS' ("The box [900, 10, 50, 50] for 'dog.jpg' in
 * 'regions.json' lies outside the 768×576 image."), which the audit records for the image before going on;
 * shapes that reach beyond the image are clipped. `file` names the image in the message. Regions given as a
 * mask (no shapes) are checked by readMask.
 */
export function checkShapes(regions: ImageRegions, width: number, height: number, file?: string): void {
  if (regions.shapes.length === 0) return;
  try {
    shapesMask(regions.shapes, width, height);
  } catch (error) {
    const whose = `${file === undefined ? '' : ` for '${file}'`} in '${regions.source}'`;
    const index = error instanceof SightlineError ? error.details.index : undefined;
    if (typeof index !== 'number') {
      throw regionsError(`The regions${whose} are malformed: ${(error as Error).message}`, { file }, error);
    }
    const shape = regions.shapes[index];
    const what =
      shape.type === 'box'
        ? `The box ${describe([shape.x, shape.y, shape.width, shape.height])}`
        : `The polygon ${describePoints(shape.points)}`;
    const size = `${width}×${height}`;
    const outside = (error as SightlineError).details.reason === 'outside';
    throw regionsError(
      outside
        ? `${what}${whose} lies outside the ${size} image.`
        : `${what}${whose} covers no pixel centre of the ${size} image, so it marks nothing; expected a ` +
            `${shape.type} that covers the centre of at least one pixel.`,
      { file, source: regions.source, shape, width, height, reason: outside ? 'outside' : 'no-pixel-centre' },
      error,
    );
  }
}

/**
 * Reads a mask PNG (or any image sharp reads) for a width × height image: 1 where the mask's pixel is neither
 * black nor fully transparent, 0 elsewhere. Any non-zero colour channel counts, so a grey or palette label
 * mask works whatever its class values (VOC's 255 "void" border included), and so does a 16-bit mask with
 * small values; where the mask has an alpha channel, fully transparent pixels are outside whatever their
 * colour. EXIF orientation is applied, as for photos. Throws 'REGIONS' when the mask is not an image, when its
 * size differs from the image's (naming both), and when it marks no pixel.
 */
export async function readMask(path: string, width: number, height: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw unreadable(path, 'mask', cause);
  }
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw regionsError(
      `The mask '${path}' is not an image Sightline can read (${messageOf(cause)}); expected a PNG that is ` +
        'non-zero where the model should look.',
      { path },
      cause,
    );
  }
  const size = metadata.autoOrient ?? { width: metadata.width, height: metadata.height };
  if (size.width !== width || size.height !== height) {
    throw regionsError(
      `The mask '${path}' is ${size.width}×${size.height} but its image is ${width}×${height}; expected a ` +
        'mask the size of the image.',
      { path, mask: size, image: { width, height } },
    );
  }
  // 16-bit masks keep their values (sharp would otherwise scale them to 8 bits, turning small labels into 0).
  const deep = metadata.depth === 'ushort';
  let pixels: Uint8Array | Uint16Array;
  let channels: number;
  let hasAlpha: boolean;
  try {
    let image = sharp(bytes, {
      failOn: 'error',
      limitInputPixels: false,
      autoOrient: true,
      page: 0,
      pages: 1,
    });
    if (deep) image = image.toColourspace((metadata.channels ?? 3) <= 2 ? 'grey16' : 'rgb16');
    const { data, info } = await image.raw({ depth: deep ? 'ushort' : 'uchar' }).toBuffer({
      resolveWithObject: true,
    });
    pixels = deep
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    channels = info.channels;
    hasAlpha = info.hasAlpha;
  } catch (cause) {
    throw regionsError(
      `The mask '${path}' could not be decoded (${messageOf(cause)}); expected a complete PNG.`,
      { path },
      cause,
    );
  }
  const colours = hasAlpha ? channels - 1 : channels;
  const mask = new Uint8Array(width * height);
  let marked = false;
  for (let i = 0, p = 0; i < mask.length; i++, p += channels) {
    if (hasAlpha && pixels[p + colours] === 0) continue;
    for (let c = 0; c < colours; c++) {
      if (pixels[p + c] !== 0) {
        mask[i] = 1;
        marked = true;
        break;
      }
    }
  }
  if (!marked) {
    throw regionsError(
      `The mask '${path}' marks no pixel: every pixel is black or fully transparent; expected non-zero ` +
        'pixels where the model should look.',
      { path },
    );
  }
  return mask;
}

/**
 * The rows of a CSV file after its header, each with its line number, and the header's column names
 * (trimmed, lower case). A byte-order mark, blank lines and spaces around fields are ignored. Malformed CSV
 * (an unclosed quote, a row with more or fewer fields than the header) is a SightlineError `code`.
 */
export async function readCsvTable(
  path: string,
  what: string,
  code: ErrorCode,
): Promise<{ header: string[]; rows: { fields: string[]; line: number }[] }> {
  return parseCsvTable(path, await readText(path, what), what, code);
}

function parseCsvTable(
  path: string,
  text: string,
  what: string,
  code: ErrorCode,
): { header: string[]; rows: { fields: string[]; line: number }[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, { bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (cause) {
    throw new SightlineError(
      code,
      `The ${what} '${path}' is not valid CSV: ${messageOf(cause)}.`,
      { path },
      { cause },
    );
  }
  if (records.length === 0) {
    throw new SightlineError(code, `The ${what} '${path}' is empty; expected a header row and then data.`, {
      path,
    });
  }
  return {
    header: records[0].record.map((name) => name.toLowerCase()),
    rows: records.slice(1).map(({ record, info }) => ({ fields: record, line: info.lines })),
  };
}

// ---------------------------------------------------------------------------------------------- COCO

interface CocoImage {
  readonly file: string;
  readonly width?: number;
  readonly height?: number;
}

function readCoco(path: string, text: string): Map<string, ImageRegions> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw regionsError(
      `'${path}' does not parse as JSON (${messageOf(cause)}); expected a COCO annotations file.`,
      { path },
      cause,
    );
  }
  const coco = json as { images?: unknown; annotations?: unknown; categories?: unknown };
  if (!isRecord(json) || !Array.isArray(coco.images) || !Array.isArray(coco.annotations)) {
    throw regionsError(
      `'${path}' is JSON but not COCO; expected an object with the lists 'images' and 'annotations'.`,
      { path },
    );
  }
  const categories = new Map<unknown, string>();
  if (Array.isArray(coco.categories)) {
    for (const c of coco.categories)
      if (isRecord(c) && typeof c.name === 'string') categories.set(c.id, c.name);
  }

  const images = new Map<unknown, CocoImage>();
  const files = new Set<string>();
  coco.images.forEach((image, k) => {
    if (!isRecord(image) || !(typeof image.id === 'number' || typeof image.id === 'string')) {
      throw regionsError(
        `images[${k}] in '${path}' has no id; expected {id, file_name, …} with a number or string id.`,
        { path },
      );
    }
    const file = typeof image.file_name === 'string' ? normalizeFileName(image.file_name) : '';
    if (file === '') {
      throw regionsError(
        `Image ${describe(image.id)} in '${path}' has file_name ${describe(image.file_name)}; expected the ` +
          "image's file name.",
        { path },
      );
    }
    if (images.has(image.id)) {
      throw regionsError(`Image id ${describe(image.id)} appears twice in '${path}'; expected unique ids.`, {
        path,
      });
    }
    if (files.has(file)) {
      throw regionsError(
        `The file_name '${file}' appears twice in '${path}'; expected one entry per image.`,
        {
          path,
        },
      );
    }
    files.add(file);
    images.set(image.id, {
      file,
      ...(typeof image.width === 'number' && typeof image.height === 'number'
        ? { width: image.width, height: image.height }
        : {}),
    });
  });

  const shapes = new Map<unknown, RegionShape[]>();
  coco.annotations.forEach((annotation, k) => {
    if (!isRecord(annotation)) {
      throw regionsError(`annotations[${k}] in '${path}' is ${describe(annotation)}; expected an object.`, {
        path,
      });
    }
    const category = categories.get(annotation.category_id);
    const name =
      (annotation.id === undefined ? `annotations[${k}]` : `annotation ${describe(annotation.id)}`) +
      (category === undefined ? '' : ` (${category})`);
    const image = images.get(annotation.image_id);
    if (!image) {
      throw regionsError(
        `${capitalize(name)} in '${path}' has image_id ${describe(annotation.image_id)}, which 'images' does ` +
          'not list; expected the id of an entry of images.',
        { path, annotation: annotation.id },
      );
    }
    const found = cocoShapes(annotation, name, path, image);
    const list = shapes.get(annotation.image_id);
    if (list) list.push(...found);
    else shapes.set(annotation.image_id, found);
  });

  const index = new Map<string, ImageRegions>();
  for (const [id, image] of images) {
    const list = shapes.get(id);
    if (list && list.length > 0) index.set(image.file, { shapes: list, source: path });
  }
  return index;
}

/** One annotation's shapes: its polygons, else its RLE mask as boxes, else its bbox. */
function cocoShapes(
  annotation: Record<string, unknown>,
  name: string,
  path: string,
  image: CocoImage,
): RegionShape[] {
  const { segmentation, bbox } = annotation;
  const fail = (what: string) => regionsError(`${capitalize(name)} in '${path}' ${what}`, { path });

  if (Array.isArray(segmentation) && segmentation.length > 0) {
    const polygons: RegionShape[] = [];
    for (const points of segmentation) {
      if (
        !Array.isArray(points) ||
        points.length % 2 !== 0 ||
        !points.every((v) => typeof v === 'number' && Number.isFinite(v))
      ) {
        throw fail(
          `has the segmentation polygon ${describeValue(points)}; expected a flat list x0, y0, x1, y1, … of ` +
            'finite numbers.',
        );
      }
      if (points.length >= 6) polygons.push({ type: 'polygon', points });
    }
    if (polygons.length > 0) return polygons;
  } else if (isRecord(segmentation)) {
    return rleBoxes(segmentation, fail, image);
  } else if (segmentation !== undefined && segmentation !== null && !Array.isArray(segmentation)) {
    throw fail(
      `has segmentation ${describeValue(segmentation)}; expected a list of polygons or an RLE {counts, size}.`,
    );
  }

  if (bbox === undefined) {
    throw fail('has neither a bbox nor a segmentation polygon; expected bbox [x, y, width, height].');
  }
  if (
    !Array.isArray(bbox) ||
    bbox.length !== 4 ||
    !bbox.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    !(bbox[2] > 0 && bbox[3] > 0)
  ) {
    throw fail(`has bbox ${describeValue(bbox)}; expected [x, y, width, height] with width, height > 0.`);
  }
  const [x, y, width, height] = bbox as number[];
  return [{ type: 'box', x, y, width, height }];
}

/**
 * A COCO run-length mask ({counts, size: [height, width]}, column-major, runs alternating from 0) as boxes:
 * each run of 1s within a column is a one-pixel-wide box, merged with the run beside it in the previous
 * column when both span the same rows. `counts` is a list of numbers (uncompressed, as COCO's own files store
 * crowds) or pycocotools' compressed string.
 */
function rleBoxes(
  rle: Record<string, unknown>,
  fail: (what: string) => SightlineError,
  image: CocoImage,
): RegionShape[] {
  const { counts, size } = rle;
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((v) => Number.isInteger(v) && v > 0) ||
    !(typeof counts === 'string' || Array.isArray(counts))
  ) {
    throw fail(
      `has an RLE segmentation with size ${describeValue(size)} and counts of type ${Array.isArray(counts) ? 'list' : typeof counts}; ` +
        'expected {counts: a list of run lengths or a compressed string, size: [height, width]}.',
    );
  }
  const [rows, columns] = size as number[];
  if (image.width !== undefined && (image.width !== columns || image.height !== rows)) {
    throw fail(
      `has an RLE segmentation of size [${rows}, ${columns}] (height, width), but its image '${image.file}' ` +
        `is ${image.width}×${image.height}; expected the image's size.`,
    );
  }
  const runs = typeof counts === 'string' ? decodeRleString(counts, fail) : counts;
  if (!runs.every((v) => Number.isInteger(v) && v >= 0)) {
    throw fail('has RLE counts that are not whole numbers ≥ 0; expected run lengths.');
  }
  const total = (runs as number[]).reduce((a, b) => a + b, 0);
  if (total !== rows * columns) {
    throw fail(
      `has RLE counts that add up to ${total}; expected ${rows} × ${columns} = ${rows * columns} pixels.`,
    );
  }

  const boxes: { type: 'box'; x: number; y: number; width: number; height: number }[] = [];
  let previous = new Map<number, number>(); // first row * (rows + 1) + run length → box index, previous column
  let current = new Map<number, number>();
  let column = 0;
  let start = 0;
  (runs as number[]).forEach((length, k) => {
    const end = start + length;
    if (k % 2 === 1) {
      for (let p = start; p < end; ) {
        const x = Math.floor(p / rows);
        if (x !== column) {
          [previous, current] = [current, previous];
          current.clear();
          if (x !== column + 1) previous.clear();
          column = x;
        }
        const y = p % rows;
        const height = Math.min(rows - y, end - p);
        const key = y * (rows + 1) + height;
        const left = previous.get(key);
        if (left !== undefined && boxes[left].x + boxes[left].width === x) {
          boxes[left].width++;
          current.set(key, left);
        } else {
          current.set(key, boxes.length);
          boxes.push({ type: 'box', x, y, width: 1, height });
        }
        p += height;
      }
    }
    start = end;
  });
  if (boxes.length === 0) throw fail('has an RLE segmentation with no pixel set; expected a non-empty mask.');
  return boxes;
}

/** pycocotools' compressed RLE string (maskApi.c rleFrString): 5-bit groups, deltas from the second run on. */
function decodeRleString(text: string, fail: (what: string) => SightlineError): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = text.charCodeAt(p) - 48;
      if (p >= text.length || c < 0 || c > 63) {
        throw fail('has a compressed RLE string that is cut short or holds other characters.');
      }
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------- Pascal VOC

const xmlParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

function readVoc(path: string, text: string): { file: string; shapes: RegionShape[]; source: string } {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw regionsError(
      `'${path}' is not well-formed XML (line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}); ` +
        'expected a Pascal VOC annotation.',
      { path },
    );
  }
  const root = (xmlParser.parse(text) as { annotation?: unknown }).annotation;
  if (root === undefined) {
    throw regionsError(`'${path}' has no <annotation> element; expected a Pascal VOC annotation file.`, {
      path,
    });
  }
  // An <annotation> without child elements parses as its text.
  const annotation = isRecord(root) ? root : {};
  const file = typeof annotation.filename === 'string' ? normalizeFileName(annotation.filename) : '';
  if (file === '') {
    throw regionsError(
      `'${path}' has no <filename>; expected the image's file name there, as VOC writes it.`,
      {
        path,
      },
    );
  }
  const shapes = listOf(annotation.object).map((object, k): RegionShape => {
    const label = isRecord(object) && typeof object.name === 'string' ? ` ('${object.name}')` : '';
    const name = `Object ${k + 1}${label} in '${path}'`;
    const box = isRecord(object) ? object.bndbox : undefined;
    if (!isRecord(box)) {
      throw regionsError(`${name} has no <bndbox>; expected <bndbox> with <xmin>, <ymin>, <xmax>, <ymax>.`, {
        path,
      });
    }
    const corner = (key: string): number => {
      const value = box[key];
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(number)) {
        const seen = value === undefined ? `no <${key}>` : `<${key}> ${describeValue(value)}`;
        throw regionsError(
          `${name} has ${seen}; expected a number there (VOC corners are 1-based pixel indices).`,
          { path },
        );
      }
      return number;
    };
    const [xmin, ymin, xmax, ymax] = ['xmin', 'ymin', 'xmax', 'ymax'].map(corner);
    if (xmax < xmin || ymax < ymin) {
      throw regionsError(
        `${name} has <bndbox> xmin ${xmin}, ymin ${ymin}, xmax ${xmax}, ymax ${ymax}; expected xmin ≤ xmax ` +
          'and ymin ≤ ymax (VOC corners are 1-based and inclusive).',
        { path },
      );
    }
    return { type: 'box', x: xmin - 1, y: ymin - 1, width: xmax - xmin + 1, height: ymax - ymin + 1 };
  });
  return { file, shapes, source: path };
}

function collectVoc(
  files: { file: string; shapes: RegionShape[]; source: string }[],
): Map<string, ImageRegions> {
  const index = new Map<string, ImageRegions>();
  for (const { file, shapes, source } of files) {
    const other = index.get(file);
    if (other) {
      throw regionsError(
        `'${other.source}' and '${source}' both annotate '${file}'; expected one VOC file per image.`,
        { file, sources: [other.source, source] },
      );
    }
    if (shapes.length > 0) index.set(file, { shapes, source });
  }
  return index;
}

// ---------------------------------------------------------------------------------------------- CSV

function readBoxCsv(path: string, text: string): Map<string, ImageRegions> {
  const { header, rows } = parseCsvTable(path, text, 'regions file', 'REGIONS');
  const column = (name: string) => header.indexOf(name);
  const has = (names: string[]) => names.every((n) => column(n) >= 0);
  const corners = has(['xmin', 'ymin', 'xmax', 'ymax']);
  const sizes = has(['x', 'y', 'width', 'height']);
  if (column('file') < 0 || corners === sizes) {
    const why =
      column('file') < 0
        ? "no 'file' column"
        : corners
          ? 'both x, y, width, height and xmin, ymin, xmax, ymax'
          : 'no complete set of box columns';
    throw regionsError(
      `The header of '${path}' is '${header.join(',')}', with ${why}; expected the columns ` +
        'file,x,y,width,height or file,xmin,ymin,xmax,ymax (in any order; other columns are ignored).',
      { path, header },
    );
  }
  const names = corners ? ['xmin', 'ymin', 'xmax', 'ymax'] : ['x', 'y', 'width', 'height'];
  const index = new Map<string, RegionShape[]>();
  for (const { fields, line } of rows) {
    const file = normalizeFileName(fields[column('file')]);
    const where = `Line ${line} of '${path}'`;
    if (file === '')
      throw regionsError(`${where} has no file name; expected the image's file name.`, { path });
    const [a, b, c, d] = names.map((name) => {
      const text = fields[column(name)];
      const value = text === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(value)) {
        throw regionsError(`${where} has ${name} ${describe(text)} for '${file}'; expected a number.`, {
          path,
        });
      }
      return value;
    });
    let box: RegionShape;
    if (corners) {
      if (!(c > a && d > b)) {
        throw regionsError(
          `${where} has the corners [${a}, ${b}, ${c}, ${d}] for '${file}'; expected [xmin, ymin, xmax, ymax] ` +
            'with xmin < xmax and ymin < ymax.',
          { path },
        );
      }
      box = { type: 'box', x: a, y: b, width: c - a, height: d - b };
    } else {
      if (!(c > 0 && d > 0)) {
        throw regionsError(
          `${where} has the box [${a}, ${b}, ${c}, ${d}] for '${file}'; expected [x, y, width, height] with ` +
            'width, height > 0.',
          { path },
        );
      }
      box = { type: 'box', x: a, y: b, width: c, height: d };
    }
    const list = index.get(file);
    if (list) list.push(box);
    else index.set(file, [box]);
  }
  return new Map([...index].map(([file, shapes]) => [file, { shapes, source: path }]));
}

// ---------------------------------------------------------------------------------------------- folders

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

// ---------------------------------------------------------------------------------------------- helpers

/** Whether a regions key names `file`: one path ends with the other at a folder boundary (masks: no extension). */
function sameImage(key: string, regions: ImageRegions, file: string): boolean {
  const a = regions.maskPath === undefined ? key : withoutExtension(key);
  const b = regions.maskPath === undefined ? file : withoutExtension(file);
  return a === b || endsWithPath(a, b) || endsWithPath(b, a);
}

/** Whether `path` ends with `tail` and a '/' just before it. */
function endsWithPath(path: string, tail: string): boolean {
  return path.length > tail.length && path.endsWith(tail) && path[path.length - tail.length - 1] === '/';
}

function withoutExtension(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? path.slice(0, dot) : path;
}

/** A file name from a regions or labels file as a key: trimmed, '/' separators, no leading './' or '/'. */
export function normalizeFileName(name: string): string {
  return name
    .trim()
    .replaceAll('\\', '/')
    .replace(/^(\.?\/)+/, '');
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw unreadable(path, what, cause);
  }
}

function unreadable(path: string, what: string, cause: unknown): SightlineError {
  return new SightlineError(
    'IO',
    `Cannot read the ${what} '${path}': ${fileErrorReason(cause)}.`,
    { path, errno: (cause as NodeJS.ErrnoException).code },
    { cause },
  );
}

function regionsError(message: string, details: Record<string, unknown>, cause?: unknown): SightlineError {
  return new SightlineError('REGIONS', message, details, cause === undefined ? undefined : { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listOf(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A value from a file for a message: JSON for plain data, cut short when long. */
function describeValue(value: unknown): string {
  const text = (JSON.stringify(value) ?? String(value)).replaceAll(',', ', ');
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function quoteList(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`);
  return names.length > 5 ? `${shown.join(', ')}, …` : shown.join(', ');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
