import type { AttributionMap } from '../core/attribution.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import { boxMask } from '../core/regions/mask.js';
import type { Box } from '../core/regions/shapes.js';
import { assertFinite, orderStatistic } from '../core/values.js';

/**
 * How a pixel's value becomes attention mass:
 * - `absolute`: |v|, how much the pixel mattered either way;
 * - `positive`: max(v, 0), only the evidence for the class.
 */
export const ATTENTION_MODES = ['absolute', 'positive'] as const;
export type AttentionMode = (typeof ATTENTION_MODES)[number];

export interface RegionAttentionOptions {
  /** Default `positive` for a signed map (attention is evidence for the class), `absolute` otherwise. */
  readonly mode?: AttentionMode;
  /**
   * How far, in pixels (Euclidean, between pixel centres), the map's peak may lie from the region and still
   * count as `peakInside`. Default 0: the peak pixel itself must be inside. Zhang et al. 2016 use 15 pixels
   * to allow for the coarse resolution of many maps.
   */
  readonly tolerance?: number;
}

export interface RegionAttention {
  /** Attention mass inside the region (the union of the boxes, or the mask) ÷ all attention mass, in [0, 1]. */
  readonly share: number;
  /** Pixels inside the region ÷ all pixels, in (0, 1]. */
  readonly areaShare: number;
  /** share ÷ areaShare: 1 is what an area that size gets by chance (attention spread evenly), above 1 is more. */
  readonly concentration: number;
  /** Whether the pixel of greatest mass is inside the region, or within `tolerance` pixels of it. */
  readonly peakInside: boolean;
  /** That pixel's column (x) and row (y); the first in row-major order on ties. */
  readonly peak: { readonly x: number; readonly y: number };
  /** The mode the mass was measured in. */
  readonly mode: AttentionMode;
}

/**
 * How much of a map's attention falls inside the boxes a person marked: `maskAttention` over the boxes'
 * `boxMask`, so the boxes follow Box's pixel-centre rule and overlapping boxes count each pixel once.
 * Throws INVALID_ARGUMENT for a malformed map or box, a box that marks no pixel, a map holding NaN or
 * ±Infinity, and a map with no attention at all (zero total mass), whose share would be 0 / 0.
 */
export function regionAttention(
  map: AttributionMap,
  boxes: readonly Box[],
  options: RegionAttentionOptions = {},
): RegionAttention {
  validateMap(map, 'map');
  const mode = resolveMode(map, options.mode);
  return maskAttention(map, boxMask(boxes, map.width, map.height), { ...options, mode });
}

/**
 * How much of a map's attention falls inside a region given as a per-pixel mask (non-zero = inside, one value
 * per pixel of the map, row-major): the energy-based pointing game of Score-CAM (Wang et al. 2020,
 * "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks", §4.2: Proportion =
 * Σ inside / (Σ inside + Σ outside)) together with the pointing game of Zhang et al. 2016 ("Top-down Neural
 * Attention by Excitation Backprop": a hit when the map's maximum falls within 15 pixels of the object),
 * which is `peakInside` here, within `options.tolerance` pixels (default 0).
 *
 * Mass per pixel is |v| (`absolute`) or max(v, 0) (`positive`). Throws INVALID_ARGUMENT for a malformed map
 * or mask, a mask that covers no pixel, a negative or non-finite tolerance, a map holding NaN or ±Infinity,
 * and a map with no attention at all (zero total mass), whose share would be 0 / 0.
 */
export function maskAttention(
  map: AttributionMap,
  mask: Uint8Array,
  options: RegionAttentionOptions = {},
): RegionAttention {
  validateMap(map, 'map');
  const mode = resolveMode(map, options.mode);
  const { width, height } = map;
  validateMask(mask, width, height);
  const tolerance = options.tolerance ?? 0;
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw invalidArgument('tolerance', 'a finite number of pixels ≥ 0', tolerance);
  }
  const mass = attentionMass(map, mode, 'map');

  let total = 0;
  let within = 0;
  let area = 0;
  let peak = 0;
  for (let i = 0; i < mass.length; i++) {
    const m = mass[i];
    total += m;
    if (mask[i] !== 0) {
      within += m;
      area++;
    }
    if (m > mass[peak]) peak = i;
  }
  const share = within / total;
  const areaShare = area / mass.length;
  const x = peak % width;
  const y = Math.floor(peak / width);
  return {
    share,
    areaShare,
    concentration: share / areaShare,
    peakInside: mask[peak] !== 0 || (tolerance > 0 && nearMask(mask, width, height, x, y, tolerance)),
    peak: { x, y },
    mode,
  };
}

/** Checks a region mask: one value per pixel of a width × height map, at least one of them non-zero. */
function validateMask(mask: Uint8Array, width: number, height: number): void {
  if (!(mask instanceof Uint8Array) || mask.length !== width * height) {
    throw invalidArgument(
      'mask',
      `a Uint8Array with one value per pixel of the map, ${width}×${height} = ${width * height}`,
      mask,
    );
  }
  if (!mask.some((v) => v !== 0)) {
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `Argument 'mask' covers no pixel of the ${width}×${height} map (every value is zero); expected a ` +
        'non-zero value at each pixel inside the region.',
      { argument: 'mask', width, height },
    );
  }
}

/** The share of pixels, by attention mass, that makes up a map's "strongest region". */
export const DEFAULT_TOP_FRACTION = 0.2;

export interface TopRegionOptions {
  /** Fraction of the map's pixels in its strongest region, in (0, 1]. Default 0.2 (DEFAULT_TOP_FRACTION). */
  readonly fraction?: number;
  /** How values become mass; default `positive` for a signed map, `absolute` otherwise (see regionAttention). */
  readonly mode?: AttentionMode;
}

/**
 * Intersection over union (Jaccard index) of the map's strongest region with a region mask (non-zero =
 * inside, one value per pixel, row-major). The strongest region is the one mapAgreement compares (see
 * topSet): the top round(fraction · N) pixels by attention mass, ties by pixel index, never a pixel with no
 * mass. 1: the region is exactly the mask; 0: they share no pixel. Throws INVALID_ARGUMENT as maskAttention
 * does (malformed map or mask, a mask that covers no pixel, non-finite values, no attention at all), and for
 * a fraction outside (0, 1] or too small to select one pixel.
 */
export function topRegionIoU(map: AttributionMap, mask: Uint8Array, options: TopRegionOptions = {}): number {
  validateMap(map, 'map');
  const mode = resolveMode(map, options.mode);
  validateMask(mask, map.width, map.height);
  const pixels = map.width * map.height;
  const fraction = resolveTopFraction(options.fraction, pixels, 'fraction');
  const top = topSet(attentionMass(map, mode, 'map'), Math.round(fraction * pixels));
  let both = 0;
  let either = 0;
  for (let i = 0; i < pixels; i++) {
    const inMask = mask[i] !== 0 ? 1 : 0;
    both += top[i] & inMask;
    either += top[i] | inMask;
  }
  return both / either;
}

/** `fraction` (default DEFAULT_TOP_FRACTION) after checking it is in (0, 1] and selects at least one pixel. */
export function resolveTopFraction(fraction: number | undefined, pixels: number, name: string): number {
  const value = fraction ?? DEFAULT_TOP_FRACTION;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw invalidArgument(name, 'a fraction in (0, 1]', value);
  }
  if (Math.round(value * pixels) === 0) {
    throw invalidArgument(
      name,
      `large enough to select at least one of the map's ${pixels} pixels (round(${name} · ${pixels}) ≥ 1)`,
      value,
    );
  }
  return value;
}

/**
 * 1 for the `count` pixels of greatest mass, and among equal masses at the cut-off the lowest indices, but
 * never a pixel with no attention at all: a sparse map (a positive-only Grad-CAM, say) whose attention covers
 * fewer pixels has a smaller strongest region, rather than one padded with arbitrary zero pixels, which would
 * make the overlap depend on pixel order. Linear time: one selection for the cut-off value, then one pass.
 */
export function topSet(mass: Float32Array, count: number): Uint8Array {
  const set = new Uint8Array(mass.length);
  const cutoff = orderStatistic(mass, mass.length - count);
  let taken = 0;
  for (let i = 0; i < mass.length; i++) {
    if (mass[i] > cutoff) {
      set[i] = 1;
      taken++;
    }
  }
  for (let i = 0; i < mass.length && taken < count && cutoff > 0; i++) {
    if (mass[i] === cutoff) {
      set[i] = 1;
      taken++;
    }
  }
  return set;
}

/** Whether some pixel of `mask` lies within `radius` (Euclidean, between pixel centres) of pixel (x, y). */
function nearMask(
  mask: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
  radius: number,
): boolean {
  const r = Math.floor(radius);
  for (let dy = Math.max(-r, -y); dy <= Math.min(r, height - 1 - y); dy++) {
    const reach = Math.floor(Math.sqrt(radius * radius - dy * dy));
    const row = (y + dy) * width;
    for (let j = Math.max(0, x - reach); j <= Math.min(width - 1, x + reach); j++) {
      if (mask[row + j] !== 0) return true;
    }
  }
  return false;
}

/** The mode to measure `map` in: the one asked for, else `positive` for signed maps and `absolute` otherwise. */
export function resolveMode(map: AttributionMap, mode: AttentionMode | undefined): AttentionMode {
  if (mode === undefined) return map.signed ? 'positive' : 'absolute';
  if (!ATTENTION_MODES.includes(mode)) {
    throw invalidArgument('mode', `one of ${ATTENTION_MODES.join(', ')}`, mode);
  }
  return mode;
}

/**
 * Attention mass per pixel (see ATTENTION_MODES). Throws when the map holds a non-finite value or has no mass
 * at all; `name` is the argument the map came in as, for the message.
 */
export function attentionMass(map: AttributionMap, mode: AttentionMode, name: string): Float32Array {
  assertFinite(map.data, name);
  const { data } = map;
  const mass = new Float32Array(data.length);
  // Plain loops: typed-array map() with a callback is several times slower on 12-megapixel maps.
  if (mode === 'absolute') for (let i = 0; i < data.length; i++) mass[i] = Math.abs(data[i]);
  else for (let i = 0; i < data.length; i++) mass[i] = Math.max(0, data[i]);
  let total = 0;
  for (let i = 0; i < mass.length; i++) total += mass[i];
  if (!(total > 0)) {
    const why =
      mode === 'positive'
        ? "no value is above zero (mode 'positive' counts only evidence for the class; mode 'absolute' " +
          'would count evidence against it too)'
        : 'every value is zero';
    throw new SightlineError('INVALID_ARGUMENT', `Argument '${name}' has no attention to measure: ${why}.`, {
      argument: name,
      mode,
    });
  }
  return mass;
}

/** Checks an AttributionMap's shape: positive integer width and height, one value per pixel. */
export function validateMap(map: AttributionMap, name: string): void {
  if (typeof map !== 'object' || map === null || !(map.data instanceof Float32Array)) {
    throw invalidArgument(name, 'an AttributionMap with a Float32Array `data`', map);
  }
  const { width, height } = map;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw invalidArgument(`${name}.width/height`, 'positive integers', [width, height]);
  }
  if (map.data.length !== width * height) {
    throw invalidArgument(
      `${name}.data`,
      `one value per pixel, ${width}×${height} = ${width * height}`,
      map.data,
    );
  }
}
