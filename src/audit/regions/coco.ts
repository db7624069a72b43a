// COCO annotation files: `images` and `annotations`, each annotation's polygons, RLE mask or bbox.
import { describe, messageOf, type SightlineError } from '../../core/errors.js';
import { decodeRleString, rleBoxes } from '../../core/regions/rle.js';
import type { RegionShape } from '../../core/regions/shapes.js';
import { formatCount } from '../../core/text.js';
import { DEFAULT_MAX_PIXELS } from '../../io/image-limits.js';
import type { ImageRegions } from '../types.js';
import { capitalize, describeValue, isRecord, regionsError } from './common.js';
import { normalizeFileName } from './match.js';

/** Runs one RLE mask may hold (a detailed 50-megapixel mask has a few hundred thousand). */
const MAX_RLE_RUNS = 4_000_000;

interface CocoImage {
  readonly file: string;
  readonly width?: number;
  readonly height?: number;
}

export function readCoco(path: string, text: string): Map<string, ImageRegions> {
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
    return cocoRleBoxes(segmentation, fail, image);
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
 * A COCO run-length mask ({counts, size: [height, width]}) as boxes (see core/regions/rle.ts), after checking
 * it against its image. `counts` is a list of numbers (uncompressed, as COCO's own files store crowds) or
 * pycocotools' compressed string.
 */
function cocoRleBoxes(
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
  // Turning runs into boxes walks every column a run crosses: a size no decodable image has would take minutes.
  if (rows * columns > DEFAULT_MAX_PIXELS) {
    throw fail(
      `has an RLE segmentation of size [${rows}, ${columns}] (height, width), ${formatCount(rows * columns)} ` +
        `pixels; expected at most ${formatCount(DEFAULT_MAX_PIXELS)}, the largest image the audit decodes.`,
    );
  }
  if (image.width !== undefined && (image.width !== columns || image.height !== rows)) {
    throw fail(
      `has an RLE segmentation of size [${rows}, ${columns}] (height, width), but its image '${image.file}' ` +
        `is ${image.width}×${image.height}; expected the image's size.`,
    );
  }
  const runs = typeof counts === 'string' ? decodeRleString(counts) : counts;
  if (runs === undefined) {
    throw fail('has a compressed RLE string that is cut short or holds other characters.');
  }
  if (!runs.every((v) => Number.isInteger(v) && v >= 0)) {
    throw fail('has RLE counts that are not whole numbers ≥ 0; expected run lengths.');
  }
  // Each run of ones becomes at least one box: a checkerboard mask would hold tens of millions of them.
  if (runs.length > MAX_RLE_RUNS) {
    throw fail(
      `has an RLE segmentation of ${formatCount(runs.length)} runs; expected at most ` +
        `${formatCount(MAX_RLE_RUNS)}, more than any real mask of the largest image the audit decodes.`,
    );
  }
  const total = (runs as number[]).reduce((a, b) => a + b, 0);
  if (total !== rows * columns) {
    throw fail(
      `has RLE counts that add up to ${total}; expected ${rows} × ${columns} = ${rows * columns} pixels.`,
    );
  }

  const boxes = rleBoxes(runs as number[], rows);
  if (boxes.length === 0) throw fail('has an RLE segmentation with no pixel set; expected a non-empty mask.');
  return boxes;
}
