// Regions given as mask PNGs, one per image.
import sharp, { type Metadata } from 'sharp';
import { messageOf } from '../../core/errors.js';
import { DEFAULT_MAX_IMAGE_BYTES } from '../../io/image-limits.js';
import { readRegularFile } from '../../io/read-file.js';
import { regionsError } from './common.js';

/**
 * Reads a mask PNG (or any image sharp reads) for a width × height image: 1 where the mask's pixel is neither
 * black nor fully transparent, 0 elsewhere. Any non-zero colour channel counts, so a grey or palette label
 * mask works whatever its class values (VOC's 255 "void" border included), and so does a 16-bit mask with
 * small values; where the mask has an alpha channel, fully transparent pixels are outside whatever their
 * colour. EXIF orientation is applied, as for photos. Throws 'REGIONS' when the mask is not an image, when its
 * size differs from the image's (naming both), and when it marks no pixel.
 */
export async function readMask(path: string, width: number, height: number): Promise<Uint8Array> {
  const bytes = await readRegularFile(path, {
    maxBytes: DEFAULT_MAX_IMAGE_BYTES,
    expected: 'a mask PNG',
    noun: 'the mask',
  });
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
