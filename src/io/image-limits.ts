// The size checks every decoder makes before it allocates pixels (Node: sharp; browser: createImageBitmap).
import { invalidArgument, SightlineError } from '../core/errors.js';

export const DEFAULT_MAX_PIXELS = 50_000_000;
/**
 * The longest side accepted, whatever maxPixels allows: JPEG's own limit (its header stores sides in 16 bits)
 * and far beyond any camera or stitched panorama that fits in the pixel limit. A 49,000,000 × 1 PNG passes
 * the pixel limit but every map and overlay at its size is an array of 49 million entries.
 */
export const MAX_IMAGE_SIDE = 65_535;
/**
 * The most elongated picture accepted, longer side over shorter: 360° cylindrical panoramas are about 10:1
 * and strip scans rarely pass 50:1; beyond 1000:1 there is nothing left to explain across the short side
 * (a model's square input sees it as a line one pixel thick).
 */
export const MAX_ASPECT_RATIO = 1000;
/** The largest image file read (before decoding): a 50 MP 16-bit RGB TIFF, uncompressed, is 286 MiB. */
export const DEFAULT_MAX_IMAGE_BYTES = 512 * 1024 * 1024;

export function checkMaxPixels(maxPixels: number): void {
  if (!Number.isFinite(maxPixels) || maxPixels < 1)
    throw invalidArgument('maxPixels', 'a positive number of pixels', maxPixels);
}

/**
 * Refuses a picture larger than `maxPixels`, with a side over MAX_IMAGE_SIDE or an aspect ratio beyond
 * MAX_ASPECT_RATIO, from the dimensions its header declares.
 */
export function checkImageSize(name: string, width: number, height: number, maxPixels: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new SightlineError(
      'IMAGE_DECODE',
      `'${name}' declares a size of ${width}×${height}; expected a width and height of at least 1 pixel.`,
      { name, width, height },
    );
  }
  const details = { name, width, height, maxPixels };
  const longer = Math.max(width, height);
  if (longer > MAX_IMAGE_SIDE) {
    throw new SightlineError(
      'IMAGE_TOO_LARGE',
      `'${name}' is ${width}×${height}, a side of ${longer} pixels, over the limit of ${MAX_IMAGE_SIDE} ` +
        'pixels a side.',
      { ...details, maxSide: MAX_IMAGE_SIDE },
    );
  }
  const aspect = longer / Math.min(width, height);
  if (aspect > MAX_ASPECT_RATIO) {
    throw new SightlineError(
      'IMAGE_TOO_LARGE',
      `'${name}' is ${width}×${height}, an aspect ratio of ${Math.round(aspect)}:1, beyond the limit of ` +
        `${MAX_ASPECT_RATIO}:1.`,
      { ...details, maxAspectRatio: MAX_ASPECT_RATIO },
    );
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new SightlineError(
      'IMAGE_TOO_LARGE',
      `'${name}' is ${width}×${height} = ${pixelCount(pixels)}, over the limit of ` +
        `${pixelCount(maxPixels)}; pass a higher maxPixels to allow it.`,
      details,
    );
  }
}

export function emptyImage(name: string, expected: string): SightlineError {
  return new SightlineError('IMAGE_DECODE', `'${name}' is empty (0 bytes); ${expected} data.`, { name });
}

function pixelCount(pixels: number): string {
  return pixels >= 1e6 ? `${Math.round(pixels / 1e5) / 10} megapixels` : `${pixels} pixels`;
}
