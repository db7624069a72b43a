import type { AttributionMap } from '../core/attribution.js';
import { describe, invalidArgument, SightlineError } from '../core/errors.js';
import { assertFinite } from '../render/normalize.js';

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
}

export interface RegionAttention {
  /** Attention mass inside the union of the boxes ÷ all attention mass, in [0, 1]. */
  readonly share: number;
  /** Pixels inside the union of the boxes ÷ all pixels, in (0, 1]. */
  readonly areaShare: number;
  /** share ÷ areaShare: 1 is what an area that size gets by chance (attention spread evenly), above 1 is more. */
  readonly concentration: number;
  /** Whether the pixel of greatest mass is inside the boxes. */
  readonly peakInside: boolean;
  /** That pixel's column (x) and row (y); the first in row-major order on ties. */
  readonly peak: { readonly x: number; readonly y: number };
  /** The mode the mass was measured in. */
  readonly mode: AttentionMode;
}

/**
 * How much of a map's attention falls inside the boxes a person marked: the energy-based pointing game of
 * Score-CAM (Wang et al. 2020, "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural
 * Networks", §4.2: Proportion = Σ inside / (Σ inside + Σ outside)) together with the pointing game of Zhang
 * et al. 2016 ("Top-down Neural Attention by Excitation Backprop": a hit when the map's maximum falls in the
 * object's box), which is `peakInside` here.
 *
 * Mass per pixel is |v| (`absolute`) or max(v, 0) (`positive`); overlapping boxes count each pixel once.
 * Throws INVALID_ARGUMENT for a malformed map or box, a map holding NaN or ±Infinity, and a map with no
 * attention at all (zero total mass), whose share would be 0 / 0.
 */
export function regionAttention(
  map: AttributionMap,
  boxes: readonly Box[],
  options: RegionAttentionOptions = {},
): RegionAttention {
  validateMap(map, 'map');
  const mode = resolveMode(map, options.mode);
  const inside = boxMask(boxes, map.width, map.height);
  const mass = attentionMass(map, mode, 'map');

  let total = 0;
  let within = 0;
  let area = 0;
  let peak = 0;
  for (let i = 0; i < mass.length; i++) {
    const m = mass[i];
    total += m;
    if (inside[i]) {
      within += m;
      area++;
    }
    if (m > mass[peak]) peak = i;
  }
  const share = within / total;
  const areaShare = area / mass.length;
  return {
    share,
    areaShare,
    concentration: share / areaShare,
    peakInside: inside[peak] === 1,
    peak: { x: peak % map.width, y: Math.floor(peak / map.width) },
    mode,
  };
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

    // Column j is inside when x ≤ j + 0.5 < x + width, i.e. ceil(x − 0.5) ≤ j < ceil(x + width − 0.5).
    const x0 = Math.max(0, Math.ceil(box.x - 0.5));
    const x1 = Math.min(width, Math.ceil(box.x + box.width - 0.5));
    const y0 = Math.max(0, Math.ceil(box.y - 0.5));
    const y1 = Math.min(height, Math.ceil(box.y + box.height - 0.5));
    if (x0 >= x1 || y0 >= y1) throw emptyBox(name, box, width, height);
    for (let i = y0; i < y1; i++) mask.fill(1, i * width + x0, i * width + x1);
  });
  return mask;
}

function emptyBox(name: string, box: Box, width: number, height: number): SightlineError {
  const outside = box.x >= width || box.y >= height || box.x + box.width <= 0 || box.y + box.height <= 0;
  const seen = `{x: ${describe(box.x)}, y: ${describe(box.y)}, width: ${describe(box.width)}, height: ${describe(box.height)}}`;
  const message = outside
    ? `Argument '${name}' lies entirely outside the ${width}×${height} image; got ${seen}.`
    : `Argument '${name}' contains no pixel centre of the ${width}×${height} image (a pixel counts when ` +
      `its centre is inside the box), so it marks nothing; got ${seen}.`;
  return new SightlineError('INVALID_ARGUMENT', message, { argument: name, box, width, height });
}
