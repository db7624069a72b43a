import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { invalidArgument } from '../core/errors.js';
import type { RgbaImage, RgbImage } from '../core/image.js';
import { resamplePlanes } from '../core/resample.js';
import { defaultColormap } from './colormaps.js';
import { legendBar } from './legend.js';
import { type OverlayOptions, renderOverlay } from './overlay.js';

export interface OverlayPngOptions extends OverlayOptions {
  /** Names the method and the explained class in the legend's caption; without it the legend has no caption. */
  readonly legend?: { readonly method: string; readonly target: string };
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
  return toPng(image, data, width, height);
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
  const maxSide = options.maxSide;
  if (maxSide !== undefined && !(Number.isInteger(maxSide) && maxSide > 0)) {
    throw invalidArgument('maxSide', 'a positive whole number of pixels', maxSide);
  }
  const scale = maxSide === undefined ? 1 : Math.min(1, maxSide / Math.max(image.width, image.height));
  if (scale === 1) return overlayWithLegendPng(renderOverlay(image, map, options), options);
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  if (map.length !== image.width * image.height) {
    throw invalidArgument('map', `one value per photo pixel, ${image.height}×${image.width}`, map);
  }
  const photo = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const small = resamplePlanes(map, 1, image.width, image.height, width, height);
  const overlay = renderOverlay({ width, height, data: new Uint8Array(photo) }, small, options);
  return overlayWithLegendPng(overlay, options);
}

/** An overlay already rendered (renderOverlay) with its legend bar underneath, as PNG. */
export async function overlayWithLegendPng(
  overlay: RgbaImage,
  options: OverlayPngOptions = {},
): Promise<Uint8Array> {
  const mode = options.mode ?? 'absolute';
  const legend = legendBar(overlay.width, {
    mode,
    colormap: options.colormap ?? defaultColormap(mode),
    method: options.legend?.method,
    target: options.legend?.target,
  });
  const { width, height } = overlay;
  const bar = legend.bar;
  // sharp extends, composites and drops the (opaque) alpha in its own threads, without a JS copy of the pixels.
  const image = sharp(overlay.data, { raw: { width, height, channels: 4 } })
    .extend({ bottom: bar.height, background: '#ffffff' })
    .composite([
      {
        input: Buffer.from(bar.data.buffer, bar.data.byteOffset, bar.data.byteLength),
        raw: { width: bar.width, height: bar.height, channels: 4 },
        top: height,
        left: 0,
      },
      { input: Buffer.from(legend.svg), top: height, left: 0 },
    ])
    .removeAlpha();
  return toPng(image, overlay.data, width, height);
}

async function toPng(image: Sharp, rgba: Uint8ClampedArray, width: number, height: number) {
  const png = await image.png({ compressionLevel: compressionLevel(rgba, width, height) }).toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/**
 * Deflate is slow on photographs and gains little there: on a 12-megapixel overlay level 6 took 0.9 s for 12%
 * off the raw size, which at 48 megapixels is 4 s for the same 12%. A sample of rows, deflated as sharp would
 * (no filtering), decides: when it shrinks by under a fifth the PNG is stored uncompressed (level 0, a tenth of
 * the time); screenshots and flat graphics still get level 6.
 */
export function compressionLevel(rgba: Uint8ClampedArray, width: number, height: number): 0 | 6 {
  const rows = Math.min(height, SAMPLE_ROWS);
  const sample = new Uint8Array(rows * width * 3);
  for (let r = 0, o = 0; r < rows; r++) {
    const y = Math.floor(((r + 0.5) * height) / rows);
    for (let i = y * width * 4, end = i + width * 4; i < end; i += 4) {
      sample[o++] = rgba[i];
      sample[o++] = rgba[i + 1];
      sample[o++] = rgba[i + 2];
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
