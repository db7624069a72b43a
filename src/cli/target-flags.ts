// The flags that name a segment or similarity target (--region, --reference), read the same way by explain,
// evaluate and audit.
import { extname } from 'node:path';
import { readMask } from '../audit/regions/masks.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { RegionBox, RegionMask } from '../core/targets.js';
import { decodeImage } from '../io/decode.js';
import { readNpy } from '../io/npy-file.js';
import { MIB } from '../io/read-file.js';

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

/** A reference is one embedding vector; 64 MiB is 8M float64 values, far past any model's width, and a larger
 * file is refused before it is read rather than after a gigabyte has been loaded to find its shape wrong. */
const MAX_REFERENCE_BYTES = 64 * MIB;

/** --reference: a .npy vector, or a photo that the model embeds. */
export async function readReference(value: string): Promise<RgbImage | Float32Array> {
  if (extname(value).toLowerCase() !== '.npy') return decodeImage(value);
  const array = await readNpy(value, MAX_REFERENCE_BYTES, 'a .npy vector (one embedding)');
  if (array.shape.filter((d) => d !== 1).length > 1)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The reference '${value}' is an array of shape [${array.shape.join(', ')}]; expected one vector ([D] or [1, D]).`,
    );
  return array.data;
}
