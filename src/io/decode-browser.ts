// Decoding in the browser: the header is read first (image-size) so a decompression bomb is refused before
// the browser allocates its pixels; the pixels then come from the browser's own codecs.
import { imageSize } from 'image-size';
import { SightlineError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { DecodeOptions } from './decode.js';
import { checkImageSize, checkMaxPixels, DEFAULT_MAX_PIXELS, emptyImage } from './image-limits.js';

const ACCEPTED = new Set(['jpg', 'png', 'webp', 'gif', 'bmp']);
const EXPECTED = 'expected JPEG, PNG, WebP, GIF or BMP';
/** Enough for any header image-size reads, including JPEGs with large EXIF blocks before the frame header. */
const HEADER_BYTES = 512 * 1024;

/**
 * A picked or dropped file → 8-bit RGB: EXIF orientation applied, alpha flattened onto white, the first frame
 * of an animation. Needs createImageBitmap and OffscreenCanvas (pages and workers in current browsers).
 */
export async function decodeImageBlob(
  blob: Blob,
  options: DecodeOptions & {
    /** Scale down (keeping the aspect) so the longer side is at most this many pixels; default: full size. */
    readonly maxSide?: number;
  } = {},
): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  checkMaxPixels(maxPixels);
  const name = options.name ?? ((blob as File).name || 'the image');
  if (blob.size === 0) throw emptyImage(name, EXPECTED);
  const header = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer());
  let size: { width?: number; height?: number; type?: string; orientation?: number };
  try {
    size = imageSize(header);
  } catch (cause) {
    throw new SightlineError(
      'IMAGE_DECODE',
      `'${name}' is not an image (${EXPECTED}); its first bytes are ${describeStart(header)}.`,
      { name },
      { cause },
    );
  }
  if (!size.type || !ACCEPTED.has(size.type)) {
    throw new SightlineError(
      'IMAGE_DECODE',
      `'${name}' is a ${(size.type ?? 'unknown').toUpperCase()} file, which the browser app does not read (${EXPECTED}).`,
      { name, format: size.type ?? 'unknown' },
    );
  }
  if (!size.width || !size.height) {
    throw new SightlineError('IMAGE_DECODE', `'${name}' declares no width or height; ${EXPECTED}.`, { name });
  }
  checkImageSize(name, size.width, size.height, maxPixels);

  let bitmap: ImageBitmap;
  try {
    const scale = options.maxSide ? Math.min(1, options.maxSide / Math.max(size.width, size.height)) : 1;
    // The resize applies to the upright picture, whose sides EXIF orientations 5–8 swap.
    const [w, h] = (size.orientation ?? 1) >= 5 ? [size.height, size.width] : [size.width, size.height];
    const resize =
      scale < 1
        ? {
            resizeWidth: Math.max(1, Math.round(w * scale)),
            resizeHeight: Math.max(1, Math.round(h * scale)),
            resizeQuality: 'high' as const,
          }
        : {};
    bitmap = await createImageBitmap(blob, {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      ...resize,
    });
  } catch (cause) {
    throw new SightlineError(
      'IMAGE_DECODE',
      `'${name}' could not be decoded as ${size.type.toUpperCase()} (the file may be truncated or corrupt; ` +
        `${EXPECTED} with complete pixel data).`,
      { name, format: size.type },
      { cause },
    );
  }
  try {
    const { width, height } = bitmap;
    checkImageSize(name, width, height, maxPixels);
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new SightlineError('IMAGE_DECODE', 'The browser offers no 2D canvas to decode into.');
    // White under transparent pixels, as the Node decoder flattens them.
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, width, height).data;
    const data = new Uint8Array(width * height * 3);
    for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
      data[q] = rgba[p];
      data[q + 1] = rgba[p + 1];
      data[q + 2] = rgba[p + 2];
    }
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}

/** What a non-image starts with, so the message helps ("text: 'hello'" says more than "unknown format"). */
function describeStart(bytes: Uint8Array): string {
  const start = bytes.subarray(0, 16);
  const printable = start.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) return `text ('${new TextDecoder().decode(start).replace(/\s+/g, ' ').trim()}…')`;
  return Array.from(start.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
