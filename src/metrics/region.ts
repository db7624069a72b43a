import type { RegionShape } from '../audit/types.js';
import type { AttributionMap } from '../core/attribution.js';
import { describe, invalidArgument, SightlineError } from '../core/errors.js';
import { assertFinite, orderStatistic } from '../core/values.js';

/**
 * A rectangle in the map's pixel coordinates: (x, y) is its top-left corner, x to the right, y down. It may be
 * fractional and may reach beyond the image (it is clipped). Pixel (row i, column j) is inside when its centre
 * (j + 0.5, i + 0.5) lies in the half-open box [x, x + width) × [y, y + height), so two boxes that share an
 * edge never both claim the pixel on it, and an integer box {x: 1, y: 0, width: 2, height: 1} is columns 1–2
 * of row 0.
 */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

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

/** 1 for each pixel of a width × height grid whose centre lies in at least one box (see Box). */
export function boxMask(boxes: readonly Box[], width: number, height: number): Uint8Array {
  if (!Array.isArray(boxes) || boxes.length === 0) {
    throw invalidArgument('boxes', 'a non-empty list of boxes {x, y, width, height}', boxes);
  }
  const mask = new Uint8Array(width * height);
  boxes.forEach((box, k) => {
    const name = `boxes[${k}]`;
    validateBox(box, name);
    if (!markBox(mask, box, width, height)) throw emptyShape(name, { type: 'box', ...box }, width, height);
  });
  return mask;
}

/**
 * 1 for each pixel of a width × height grid whose centre (j + 0.5, i + 0.5) lies inside the closed polygon
 * x0, y0, x1, y1, … (at least 3 vertices) by the even-odd rule; parts beyond the image are clipped. As for
 * Box, a centre on a left or top edge is inside and one on a right or bottom edge is not, so a rectangle
 * drawn as a polygon gives exactly its box's mask. The mask may be all zero (a polygon outside the image or
 * between pixel centres); shapesMask refuses such a shape, maskAttention such a mask.
 */
export function polygonMask(points: readonly number[], width: number, height: number): Uint8Array {
  validatePolygon(points, 'points');
  const mask = new Uint8Array(width * height);
  markPolygon(mask, points, width, height);
  return mask;
}

/**
 * 1 for each pixel of a width × height grid inside at least one shape (see RegionShape): boxes by Box's
 * pixel-centre rule, polygons by polygonMask's. Throws INVALID_ARGUMENT for an empty list, a malformed shape,
 * or a shape that marks no pixel (entirely outside the image, or between pixel centres), naming `shapes[k]`;
 * the error's details carry `index` and `reason` ('outside' or 'no-pixel-centre').
 */
export function shapesMask(shapes: readonly RegionShape[], width: number, height: number): Uint8Array {
  if (!Array.isArray(shapes) || shapes.length === 0) {
    throw invalidArgument(
      'shapes',
      "a non-empty list of shapes ({type: 'box', …} or {type: 'polygon', …})",
      shapes,
    );
  }
  const mask = new Uint8Array(width * height);
  shapes.forEach((shape, k) => {
    const name = `shapes[${k}]`;
    if (typeof shape !== 'object' || shape === null) {
      throw invalidArgument(name, "a shape {type: 'box', …} or {type: 'polygon', …}", shape);
    }
    let marked: boolean;
    if (shape.type === 'box') {
      validateBox(shape, name);
      marked = markBox(mask, shape, width, height);
    } else if (shape.type === 'polygon') {
      validatePolygon(shape.points, `${name}.points`);
      marked = markPolygon(mask, shape.points, width, height);
    } else {
      throw invalidArgument(`${name}.type`, "'box' or 'polygon'", (shape as { type?: unknown }).type);
    }
    if (!marked) throw emptyShape(name, shape, width, height, k);
  });
  return mask;
}

function validateBox(box: Box, name: string): void {
  if (typeof box !== 'object' || box === null) {
    throw invalidArgument(name, 'a box {x, y, width, height}', box);
  }
  for (const key of ['x', 'y', 'width', 'height'] as const) {
    if (typeof box[key] !== 'number' || !Number.isFinite(box[key])) {
      throw invalidArgument(`${name}.${key}`, 'a finite number', box[key]);
    }
  }
  if (box.width < 0) throw invalidArgument(`${name}.width`, 'a number ≥ 0', box.width);
  if (box.height < 0) throw invalidArgument(`${name}.height`, 'a number ≥ 0', box.height);
}

function validatePolygon(points: readonly number[], name: string): void {
  if (!Array.isArray(points) || points.length < 6 || points.length % 2 !== 0) {
    throw invalidArgument(name, 'a list x0, y0, x1, y1, … of at least 3 points (an even count ≥ 6)', points);
  }
  const bad = points.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw invalidArgument(`${name}[${bad}]`, 'a finite number', points[bad]);
}

/** Sets the box's pixels in `mask`; false when it holds no pixel centre of the image. */
function markBox(mask: Uint8Array, box: Box, width: number, height: number): boolean {
  // Column j is inside when x ≤ j + 0.5 < x + width, i.e. ceil(x − 0.5) ≤ j < ceil(x + width − 0.5).
  const x0 = Math.max(0, Math.ceil(box.x - 0.5));
  const x1 = Math.min(width, Math.ceil(box.x + box.width - 0.5));
  const y0 = Math.max(0, Math.ceil(box.y - 0.5));
  const y1 = Math.min(height, Math.ceil(box.y + box.height - 0.5));
  if (x0 >= x1 || y0 >= y1) return false;
  for (let i = y0; i < y1; i++) mask.fill(1, i * width + x0, i * width + x1);
  return true;
}

/** Sets the polygon's pixels in `mask` by scanlines through the pixel centres; false when it holds none. */
function markPolygon(mask: Uint8Array, points: readonly number[], width: number, height: number): boolean {
  const n = points.length / 2;
  let top = Infinity;
  let bottom = -Infinity;
  for (let k = 1; k < points.length; k += 2) {
    top = Math.min(top, points[k]);
    bottom = Math.max(bottom, points[k]);
  }
  let marked = false;
  const crossings: number[] = [];
  // Rows whose centre i + 0.5 lies in [top, bottom).
  for (let i = Math.max(0, Math.ceil(top - 0.5)); i < Math.min(height, Math.ceil(bottom - 0.5)); i++) {
    const yc = i + 0.5;
    crossings.length = 0;
    for (let k = 0, prev = n - 1; k < n; prev = k++) {
      const xa = points[2 * prev];
      const ya = points[2 * prev + 1];
      const xb = points[2 * k];
      const yb = points[2 * k + 1];
      // Half-open in y, so a vertex on the scanline is counted once and horizontal edges never.
      if (ya <= yc !== yb <= yc) crossings.push(xa + ((yc - ya) * (xb - xa)) / (yb - ya));
    }
    crossings.sort((a, b) => a - b);
    // Even-odd: a centre is inside between crossings 2m and 2m + 1, half-open like Box.
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      const j0 = Math.max(0, Math.ceil(crossings[c] - 0.5));
      const j1 = Math.min(width, Math.ceil(crossings[c + 1] - 0.5));
      if (j0 < j1) {
        mask.fill(1, i * width + j0, i * width + j1);
        marked = true;
      }
    }
  }
  return marked;
}

function emptyShape(
  name: string,
  shape: RegionShape,
  width: number,
  height: number,
  index?: number,
): SightlineError {
  const outside = outsideImage(shape, width, height);
  const seen =
    shape.type === 'box'
      ? `{x: ${describe(shape.x)}, y: ${describe(shape.y)}, width: ${describe(shape.width)}, height: ${describe(shape.height)}}`
      : `the polygon ${describePoints(shape.points)}`;
  const message = outside
    ? `Argument '${name}' lies entirely outside the ${width}×${height} image; got ${seen}.`
    : `Argument '${name}' contains no pixel centre of the ${width}×${height} image (a pixel counts when ` +
      `its centre is inside the ${shape.type}), so it marks nothing; got ${seen}.`;
  return new SightlineError('INVALID_ARGUMENT', message, {
    argument: name,
    shape,
    width,
    height,
    reason: outside ? 'outside' : 'no-pixel-centre',
    ...(index === undefined ? {} : { index }),
  });
}

/** Whether the shape's bounding box lies entirely outside the width × height image (touching counts as outside). */
function outsideImage(shape: RegionShape, width: number, height: number): boolean {
  let left = Infinity;
  let right = -Infinity;
  let top = Infinity;
  let bottom = -Infinity;
  if (shape.type === 'box') {
    [left, right, top, bottom] = [shape.x, shape.x + shape.width, shape.y, shape.y + shape.height];
  } else {
    for (let k = 0; k < shape.points.length; k += 2) {
      left = Math.min(left, shape.points[k]);
      right = Math.max(right, shape.points[k]);
      top = Math.min(top, shape.points[k + 1]);
      bottom = Math.max(bottom, shape.points[k + 1]);
    }
  }
  return left >= width || top >= height || right <= 0 || bottom <= 0;
}

/** A polygon's points for a message, the first 8 numbers and a count of the rest. */
export function describePoints(points: readonly number[]): string {
  const shown = points.slice(0, 8).map(describe).join(', ');
  return points.length > 8 ? `[${shown}, … (${points.length / 2} points)]` : `[${shown}]`;
}
