import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { invalidArgument } from '../core/errors.js';
import type { RgbaImage, RgbImage } from '../core/image.js';
import { resamplePlanes } from '../core/resample.js';
import { defaultColormap } from './colormaps.js';
import { legendBar } from './legend.js';
import { drawOverlay, type OverlayOptions } from './overlay.js';

export interface OverlayPngOptions extends OverlayOptions {
  /** Names the method and the explained class in the legend's caption; without it the legend has no caption. */
  readonly legend?: { readonly method: string; readonly target: string; readonly note?: string };
  /**
   * Draw the overlay no larger than this many pixels on its longer side (the photo and the map are resized
   * first), for overlays shown small: the legend's text stays legible and a 48-megapixel photo costs little.
   * Default: the photo's own size.
   */
  readonly maxSide?: number;
}

export async function encodePng(rgba: RgbaImage): Promise<Uint8Array> {
  const { width, height, data } = rgba;
  if (!(width > 0 && height > 0 && data.length === width * height * 4)) {
    throw invalidArgument('rgba', `a non-empty image with ${width}×${height}×4 bytes`, data);
  }
  let image = sharp(data, { raw: { width, height, channels: 4 } });
  if (opaque(data)) image = image.removeAlpha();
  return toPng(image, data, width, height, 4);
}

/**
 * The overlay of `renderOverlay` with a legend bar underneath: as wide as the photo, photo height + bar height
 * tall. Text is drawn by sharp's SVG renderer; without fonts it is missing but the bar and ramp remain.
 */
export async function renderOverlayPng(
  image: RgbImage,
  map: Float32Array,
  options: OverlayPngOptions = {},
): Promise<Uint8Array> {
  return encodeRgbPng(await renderOverlayWithLegend(image, map, options));
}

/**
 * renderOverlayPng's pixels before encoding, RGB (overlay and legend are opaque): the overlay is drawn straight
 * into the rows above the legend's, with no RGBA copy of a photo-sized image in between.
 */
export async function renderOverlayWithLegend(
  image: RgbImage,
  map: Float32Array,
  options: OverlayPngOptions = {},
): Promise<RgbImage> {
  const maxSide = options.maxSide;
  if (maxSide !== undefined && !(Number.isInteger(maxSide) && maxSide > 0)) {
    throw invalidArgument('maxSide', 'a positive whole number of pixels', maxSide);
  }
  if (map.length !== image.width * image.height) {
    throw invalidArgument('map', `one value per photo pixel, ${image.height}×${image.width}`, map);
  }
  const scale = maxSide === undefined ? 1 : Math.min(1, maxSide / Math.max(image.width, image.height));
  let [photo, values] = [image, map];
  if (scale < 1) {
    const width = Math.max(1, Math.round(image.width * scale));
    const height = Math.max(1, Math.round(image.height * scale));
    const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer();
    photo = { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    values = resamplePlanes(map, 1, image.width, image.height, width, height);
  }
  const { width, height } = photo;
  const legend = await legendPixels(width, options);
  const data = new Uint8Array(width * (height + legend.height) * 3);
  drawOverlay(photo, values, options, data, 3);
  data.set(legend.data, width * height * 3);
  return { width, height: height + legend.height, data };
}

/** The legend bar with its text, as RGB pixels. */
async function legendPixels(width: number, options: OverlayPngOptions): Promise<RgbImage> {
  const mode = options.mode ?? 'absolute';
  const legend = legendBar(width, {
    mode,
    colormap: options.colormap ?? defaultColormap(mode),
    method: options.legend?.method,
    target: options.legend?.target,
    note: options.legend?.note,
  });
  const { bar } = legend;
  const rgb = await sharp(Buffer.from(bar.data.buffer, bar.data.byteOffset, bar.data.byteLength), {
    raw: { width: bar.width, height: bar.height, channels: 4 },
  })
    .composite([{ input: Buffer.from(legend.svg), top: 0, left: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer();
  return {
    width: bar.width,
    height: bar.height,
    data: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength),
  };
}

/** RGB pixels as PNG. */
export async function encodeRgbPng(image: RgbImage): Promise<Uint8Array> {
  const { width, height, data } = image;
  return toPng(sharp(data, { raw: { width, height, channels: 3 } }), data, width, height, 3);
}

/**
 * RGB pixels as lossy WebP at `quality` (1–100) and libwebp's `effort` (0–6, sharp's default 4): for pictures
 * shown at their own size in a page, where a photograph's PNG costs twenty times the bytes for no visible gain.
 */
export async function encodeRgbWebp(image: RgbImage, quality: number, effort = 4): Promise<Uint8Array> {
  const { width, height, data } = image;
  if (!(width > 0 && height > 0 && data.length === width * height * 3)) {
    throw invalidArgument('image', `a non-empty image with ${width}×${height}×3 bytes`, data);
  }
  if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    throw invalidArgument('quality', 'a whole number from 1 to 100', quality);
  }
  if (!(Number.isInteger(effort) && effort >= 0 && effort <= 6)) {
    throw invalidArgument('effort', 'a whole number from 0 (fastest) to 6', effort);
  }
  const webp = await sharp(data, { raw: { width, height, channels: 3 } })
    .webp({ quality, effort })
    .toBuffer();
  return new Uint8Array(webp.buffer, webp.byteOffset, webp.byteLength);
}

async function toPng(
  image: Sharp,
  pixels: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: 3 | 4,
) {
  const png = await image
    .png({ compressionLevel: compressionLevel(pixels, width, height, channels) })
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/**
 * Deflate is slow on photographs and gains little there: on a 12-megapixel overlay level 6 took 0.9 s for 12%
 * off the raw size, which at 48 megapixels is 4 s for the same 12%. A sample of rows, deflated as sharp would
 * (no filtering), decides: when it shrinks by under a fifth the PNG is stored uncompressed (level 0, a tenth of
 * the time); screenshots and flat graphics still get level 6.
 */
export function compressionLevel(
  pixels: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: 3 | 4,
): 0 | 6 {
  const rows = Math.min(height, SAMPLE_ROWS);
  const sample = new Uint8Array(rows * width * 3);
  for (let r = 0, o = 0; r < rows; r++) {
    const y = Math.floor(((r + 0.5) * height) / rows);
    for (let i = y * width * channels, end = i + width * channels; i < end; i += channels) {
      sample[o++] = pixels[i];
      sample[o++] = pixels[i + 1];
      sample[o++] = pixels[i + 2];
    }
  }
  return deflateSync(sample, { level: 6 }).length > 0.8 * sample.length ? 0 : 6;
}

const SAMPLE_ROWS = 32;

/** Whether every alpha byte is 255. */
function opaque(rgba: Uint8ClampedArray): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}
