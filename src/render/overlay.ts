import { gaussianBlur } from '../core/blur.js';
import { invalidArgument } from '../core/errors.js';
import type { RgbaImage, RgbImage } from '../core/image.js';
import { orderStatistic } from '../core/values.js';
import { type ColormapName, colormap, defaultColormap, lutIndex, rampPosition } from './colormaps.js';
import { type NormalizeOptions, normalizeMap } from './normalize.js';

export interface OverlayOptions extends NormalizeOptions {
  /** Default `turbo`, or `coolwarm` for the `signed` mode. */
  readonly colormap?: ColormapName;
  /**
   * Weight of the colour over the photo, 0 (photo only) to 1 (colour only). Default 0.5. On a diverging
   * colormap the weight also grows with the distance from zero (see renderOverlay).
   */
  readonly opacity?: number;
  /**
   * Fraction of pixels, by normalised value, whose region gets outlined (a white line inside the edge, a black
   * one outside, so it shows on any colour). Default 0.2; 0 draws no outline.
   */
  readonly outlineTop?: number;
  /**
   * The outline is traced on the map blurred with σ = this fraction of the photo's shorter side, so that it
   * circles regions rather than speckles of a noisy gradient map. Default 0.01; 0 traces the raw map.
   */
  readonly outlineSmoothing?: number;
}

export const DEFAULT_OPACITY = 0.5;
export const DEFAULT_OUTLINE_TOP = 0.2;
export const DEFAULT_OUTLINE_SMOOTHING = 0.01;

/**
 * Colours a map (image.height × image.width, row-major) and blends it onto the photo at the photo's size:
 * out = (1 − α) · photo + α · colour, then outlines the top `outlineTop` region. α is `opacity`; on a diverging
 * colormap it is opacity · √|2t − 1| at ramp position t, so 0 leaves the photo as it was (a uniform blend would
 * wash the whole photo with the near-white middle) while weak evidence still shows.
 */
export function renderOverlay(image: RgbImage, map: Float32Array, options: OverlayOptions = {}): RgbaImage {
  const { width, height } = image;
  const pixels = width * height;
  if (image.data.length !== pixels * 3) {
    throw invalidArgument('image', `${width}×${height}×3 RGB bytes (${pixels * 3})`, image.data);
  }
  if (map.length !== pixels) {
    throw invalidArgument('map', `one value per photo pixel, ${height}×${width} = ${pixels}`, map);
  }
  const opacity = options.opacity ?? DEFAULT_OPACITY;
  if (!(opacity >= 0 && opacity <= 1)) throw invalidArgument('opacity', 'a number in [0, 1]', opacity);
  const outlineTop = options.outlineTop ?? DEFAULT_OUTLINE_TOP;
  if (!(outlineTop >= 0 && outlineTop <= 1))
    throw invalidArgument('outlineTop', 'a fraction in [0, 1]', outlineTop);
  const mode = options.mode ?? 'absolute';
  const cmap = colormap(options.colormap ?? defaultColormap(mode));

  const values = normalizeMap(map, options);
  const lut = cmap.lut;
  const out = new Uint8ClampedArray(pixels * 4);
  for (let i = 0; i < pixels; i++) {
    const t = rampPosition(values[i], mode, cmap);
    const c = lutIndex(t) * 3;
    const alpha = cmap.diverging ? opacity * Math.sqrt(Math.abs(2 * t - 1)) : opacity;
    for (let k = 0; k < 3; k++) {
      out[i * 4 + k] = Math.round((1 - alpha) * image.data[i * 3 + k] + alpha * lut[c + k]);
    }
    out[i * 4 + 3] = 255;
  }

  if (outlineTop > 0 && pixels > 0) {
    const sigma = (options.outlineSmoothing ?? DEFAULT_OUTLINE_SMOOTHING) * Math.min(width, height);
    const region = topRegion(sigma > 0 ? gaussianBlur(values, 1, width, height, sigma) : values, outlineTop);
    for (const [ring, shade] of [
      [innerEdge(region, width, height), 255],
      [innerEdge(invert(region), width, height), 0],
    ] as const) {
      for (let i = 0; i < pixels; i++) {
        if (ring[i]) out.fill(shade, i * 4, i * 4 + 3);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * 1 where a pixel is among the top `fraction` of values (ties at the threshold included) and above zero, so
 * that a map with little signal outlines only what has some.
 */
export function topRegion(values: Float32Array, fraction: number): Uint8Array {
  const region = new Uint8Array(values.length);
  const count = Math.ceil(fraction * values.length);
  if (count === 0) return region;
  const threshold = orderStatistic(values, values.length - count);
  for (let i = 0; i < values.length; i++) region[i] = values[i] >= threshold && values[i] > 0 ? 1 : 0;
  return region;
}

/** Pixels of the set that touch a pixel outside it (4-neighbourhood; the image border does not count). */
function innerEdge(set: Uint8Array, width: number, height: number): Uint8Array {
  const edge = new Uint8Array(set.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!set[i]) continue;
      edge[i] =
        (x > 0 && !set[i - 1]) ||
        (x < width - 1 && !set[i + 1]) ||
        (y > 0 && !set[i - width]) ||
        (y < height - 1 && !set[i + width])
          ? 1
          : 0;
    }
  }
  return edge;
}

function invert(set: Uint8Array): Uint8Array {
  return set.map((v) => 1 - v);
}
