// The size checks every decoder makes before it allocates pixels (Node: sharp; browser: createImageBitmap).
import { invalidArgument, SightlineError } from '../core/errors.js';

export const DEFAULT_MAX_PIXELS = 50_000_000;

export function checkMaxPixels(maxPixels: number): void {
  if (!Number.isFinite(maxPixels) || maxPixels < 1)
    throw invalidArgument('maxPixels', 'a positive number of pixels', maxPixels);
}

/** Refuses a picture larger than `maxPixels` from the dimensions its header declares. */
export function checkImageSize(name: string, width: number, height: number, maxPixels: number): void {
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new SightlineError(
      'IMAGE_TOO_LARGE',
      `'${name}' is ${width}×${height} = ${pixelCount(pixels)}, over the limit of ` +
        `${pixelCount(maxPixels)}; pass a higher maxPixels to allow it.`,
      { name, width, height, maxPixels },
    );
  }
}

export function emptyImage(name: string, expected: string): SightlineError {
  return new SightlineError('IMAGE_DECODE', `'${name}' is empty (0 bytes); ${expected} data.`, { name });
}

function pixelCount(pixels: number): string {
  return pixels >= 1e6 ? `${Math.round(pixels / 1e5) / 10} megapixels` : `${pixels} pixels`;
}
