import sharp, { type Metadata } from 'sharp';
import { invalidArgument, messageOf, SightlineError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import {
  checkImageSize,
  checkMaxPixels,
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_PIXELS,
  emptyImage,
} from './image-limits.js';
import { readRegularFile } from './read-file.js';

export { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS };

export interface DecodeOptions {
  /** Largest width × height accepted, checked from the header before any pixel is decoded. Default 50_000_000. */
  readonly maxPixels?: number;
  /**
   * Largest file read when `source` is a path, checked before reading; only regular files are read (not a
   * FIFO or a device). Default 512 MiB (DEFAULT_MAX_IMAGE_BYTES).
   */
  readonly maxBytes?: number;
  /** How messages name the image when `source` is bytes (an upload's file name, say). Default "the image". */
  readonly name?: string;
}

/** sharp's `format` names for the formats Sightline accepts; AVIF reports itself as `heif`. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);
const EXPECTED = 'expected JPEG, PNG, WebP, GIF, TIFF or AVIF';

/**
 * Decodes a photo file or its bytes to 8-bit sRGB RGB: EXIF orientation applied, alpha flattened onto white,
 * greyscale / 16-bit / CMYK converted, the first frame of an animation. The header is read first so that a
 * decompression bomb is refused before its pixels are allocated.
 */
export async function decodeImage(
  source: string | Uint8Array,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  checkMaxPixels(maxPixels);
  const name = typeof source === 'string' ? source : (options.name ?? 'the image');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES;
  if (!Number.isFinite(maxBytes) || maxBytes < 1)
    throw invalidArgument('maxBytes', 'a positive number of bytes', maxBytes);
  const bytes =
    typeof source === 'string'
      ? await readRegularFile(source, {
          maxBytes,
          expected: 'a readable image file',
          tooLargeCode: 'IMAGE_TOO_LARGE',
        })
      : source;
  if (bytes.length === 0) throw emptyImage(name, EXPECTED);

  // sharp's own pixel limit would also reject reading the header; switch it off here and judge the size ourselves.
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw notAnImage(name, cause);
  }
  if (!ACCEPTED_FORMATS.has(metadata.format)) {
    throw new SightlineError(
      'IMAGE_DECODE',
      `'${name}' is a ${metadata.format.toUpperCase()} file, which Sightline does not read (${EXPECTED}).`,
      { name, format: metadata.format },
    );
  }
  checkImageSize(name, metadata.width, metadata.height, maxPixels);

  try {
    // failOn 'error' turns a truncated or corrupt stream into an error instead of a half-grey picture, while
    // tolerating the harmless warnings many cameras' files raise.
    const { data, info } = await sharp(bytes, {
      failOn: 'error',
      limitInputPixels: maxPixels,
      autoOrient: true,
      page: 0,
      pages: 1,
    })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (cause) {
    throw new SightlineError(
      'IMAGE_DECODE',
      `'${name}' could not be decoded as ${metadata.format.toUpperCase()} (the file may be truncated or ` +
        `corrupt; ${EXPECTED} with complete pixel data): ${messageOf(cause)}`,
      { name, format: metadata.format },
      { cause },
    );
  }
}

function notAnImage(name: string, cause: unknown): SightlineError {
  return new SightlineError(
    'IMAGE_DECODE',
    `'${name}' is not an image sharp can read (${EXPECTED}): ${messageOf(cause)}`,
    { name },
    { cause },
  );
}
