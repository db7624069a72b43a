// The flags that name a segment or similarity target (--region, --reference), read the same way by explain,
// evaluate and audit.
import { readMask } from '../audit/regions/masks.js';
import { invalidArgument } from '../core/errors.js';
import type { RegionBox, RegionMask } from '../core/targets.js';
import { type Reference, readReferenceFile } from '../io/reference-file.js';

export const REGION_HELP =
  "segmenters: sum the class's scores over this box (photo pixels) or mask (the photo's size; nonzero and not transparent = in); default: the pixels the model gives the class";
export const REFERENCE_HELP =
  'embedding models (required): explain the cosine similarity to this photo’s embedding or to this vector';

/**
 * --region: 'x0,y0,x1,y1' in photo pixels, or the path of a mask image the photo's size, read as the audit
 * reads masks (not as a photo, whose transparency is flattened onto white: a mask marked by alpha would be
 * inside everywhere).
 */
export async function readRegion(
  value: string,
  photo: { readonly width: number; readonly height: number },
): Promise<RegionBox | RegionMask> {
  const parts = value.split(',');
  // Numbers and commas are a box (four of them, else a mistake); anything else is a file, commas and all.
  if (parts.every((p) => /^\s*-?\d+(\.\d+)?\s*$/.test(p))) {
    if (parts.length !== 4)
      throw invalidArgument('region', 'four numbers x0,y0,x1,y1 in photo pixels, or a mask image', value);
    const [x0, y0, x1, y1] = parts.map(Number);
    return { x0, y0, x1, y1 };
  }
  const data = await readMask(value, photo.width, photo.height);
  return { width: photo.width, height: photo.height, data, channels: 1 };
}

/** --reference: a .npy vector, or a photo that the model embeds. */
export async function readReference(value: string): Promise<Reference> {
  return (await readReferenceFile(value)).reference;
}
