import sharp from 'sharp';
import { invalidArgument } from '../core/errors.js';
import type { RgbaImage, RgbImage } from '../core/image.js';
import { defaultColormap } from './colormaps.js';
import { legendBar } from './legend.js';
import { type OverlayOptions, renderOverlay } from './overlay.js';

export interface OverlayPngOptions extends OverlayOptions {
  /** Names the method and the explained class in the legend's caption; without it the legend has no caption. */
  readonly legend?: { readonly method: string; readonly target: string };
}

export async function encodePng(rgba: RgbaImage): Promise<Uint8Array> {
  const { width, height, data } = rgba;
  if (!(width > 0 && height > 0 && data.length === width * height * 4)) {
    throw invalidArgument('rgba', `a non-empty image with ${width}×${height}×4 bytes`, data);
  }
  const png = await sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
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
  const overlay = renderOverlay(image, map, options);
  const mode = options.mode ?? 'absolute';
  const legend = legendBar(image.width, {
    mode,
    colormap: options.colormap ?? defaultColormap(mode),
    method: options.legend?.method,
    target: options.legend?.target,
  });
  const width = image.width;
  const height = image.height + legend.bar.height;
  const pixels = new Uint8ClampedArray(width * height * 4);
  pixels.set(overlay.data, 0);
  pixels.set(legend.bar.data, overlay.data.length);
  const png = await sharp(pixels, { raw: { width, height, channels: 4 } })
    .composite([{ input: Buffer.from(legend.svg), top: image.height, left: 0 }])
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
