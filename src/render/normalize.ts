import { invalidArgument } from '../core/errors.js';
import { ABSOLUTE, bitsOf, mapStatistics, NEGATIVE, POSITIVE } from '../core/select.js';
import { assertFinite } from '../core/values.js';

/**
 * Which part of a signed attribution map to show:
 * - `absolute`: |v|, how much a pixel mattered either way (PAIR saliency's default for gradients);
 * - `positive` / `negative`: max(v, 0) / max(−v, 0), only the evidence for / against the class;
 * - `signed`: v itself, scaled symmetrically around 0 so that 0 stays 0.
 */
export const NORMALIZE_MODES = ['absolute', 'positive', 'negative', 'signed'] as const;
export type NormalizeMode = (typeof NORMALIZE_MODES)[number];

export const DEFAULT_CLIP_PERCENTILE = 99.5;

export interface NormalizeOptions {
  /** Default `absolute`. */
  readonly mode?: NormalizeMode;
  /**
   * The percentile of the chosen values that becomes the top of the scale; larger values are clipped to it,
   * so a few extreme pixels do not wash out the rest. Default 99.5; 100 scales by the maximum, as does any
   * percentile that is the smallest value (attention on fewer pixels than the clip leaves out).
   */
  readonly clipPercentile?: number;
}

/**
 * Scales a map for display, as PAIR saliency's VisualizeImageGrayscale / VisualizeImageDiverging do.
 * Unsigned modes: (x − min) / (p-th percentile − min), clipped to [0, 1]. Signed: v / (p-th percentile of |v|),
 * clipped to [−1, 1]. A constant map (nothing stands out) comes back as all zeros.
 */
export function normalizeMap(map: Float32Array, options: NormalizeOptions = {}): Float32Array {
  const out = new Float32Array(map.length);
  scaleInto(map, 0, map.length, mapScaling(map, options), out);
  return out;
}

/**
 * What normalizeMap does to every value, found in two passes over the map: renderOverlay applies it pixel by
 * pixel instead of keeping a second photo-sized array.
 */
export interface MapScaling {
  readonly mode: NormalizeMode;
  /** Unsigned modes: the smallest chosen value. */
  readonly low: number;
  /** The clip percentile of the chosen values (signed: of |v|). */
  readonly top: number;
  /** Unsigned: 1 / (top − low); 0 when nothing stands out (top ≤ low, or top = 0 when signed). */
  readonly factor: number;
}

export function mapScaling(map: Float32Array, options: NormalizeOptions = {}): MapScaling {
  const mode = options.mode ?? 'absolute';
  if (!NORMALIZE_MODES.includes(mode))
    throw invalidArgument('mode', `one of ${NORMALIZE_MODES.join(', ')}`, mode);
  const clip = options.clipPercentile ?? DEFAULT_CLIP_PERCENTILE;
  if (typeof clip !== 'number' || !(clip > 0 && clip <= 100)) {
    throw invalidArgument('clipPercentile', 'a number in (0, 100]', clip);
  }
  if (map.length === 0) return { mode, low: 0, top: 0, factor: 0 };
  const transform = mode === 'positive' ? POSITIVE : mode === 'negative' ? NEGATIVE : ABSOLUTE;
  const bits = bitsOf(map);
  const stats = mapStatistics(bits, transform, clip);
  if (stats.nonFinite > 0) assertFinite(map);
  const low = stats.min;
  let top = stats.percentile;
  // The clip keeps a few extreme pixels from washing out the rest. When the attention sits on fewer pixels
  // than it leaves out (a 2 × 2 watermark in a 64² photo is 0.1% of it, under the 0.5% above the 99.5th
  // percentile) there is no rest: the percentile is the smallest value and the map would be drawn empty.
  if (clip < 100 && (mode === 'signed' ? top === 0 : top <= low))
    top = mapStatistics(bits, transform, 100).percentile;
  if (mode === 'signed') return { mode, low: 0, top, factor: top === 0 ? 0 : 1 };
  return { mode, low, top, factor: top > low ? 1 / (top - low) : 0 };
}

/** map[from … from + count − 1] as normalizeMap gives them, into out[0 … count − 1]. */
export function scaleInto(
  map: Float32Array,
  from: number,
  count: number,
  s: MapScaling,
  out: Float32Array,
): void {
  if (s.factor === 0) {
    out.fill(0, 0, count);
    return;
  }
  // One loop per mode, so that the mode is not looked at for every pixel.
  const { low, top, factor } = s;
  switch (s.mode) {
    case 'signed':
      for (let i = 0; i < count; i++) out[i] = Math.max(-1, Math.min(1, map[from + i] / top));
      return;
    case 'absolute':
      for (let i = 0; i < count; i++) out[i] = Math.min(1, (Math.abs(map[from + i]) - low) * factor);
      return;
    case 'positive':
      for (let i = 0; i < count; i++) out[i] = Math.min(1, (Math.max(0, map[from + i]) - low) * factor);
      return;
    case 'negative':
      for (let i = 0; i < count; i++) out[i] = Math.min(1, (Math.max(0, -map[from + i]) - low) * factor);
      return;
  }
}

/**
 * Why an overlay of `map` in `options.mode` shows no place above another, in words, or undefined when it
 * shows some: every shown value is zero (in the positive mode: nothing in the photo raised the score) or
 * they are all the same non-zero value (every pixel counts alike); in the signed mode, zero everywhere. These
 * are the maps mapScaling gives no scale (factor 0), found here by one scan that stops at the first pixel
 * unlike the first, not by a second percentile selection beside the overlay's own. Such a map must not be read
 * as attention. `negativeHint` says how to see what lowered the score, in the words of the surface (a flag, a
 * menu).
 */
export function flatMapWords(
  map: Float32Array,
  options: NormalizeOptions,
  target: string,
  negativeHint = 'the negative mode shows what lowered it',
): string | undefined {
  const mode = options.mode ?? 'absolute';
  if (!NORMALIZE_MODES.includes(mode))
    throw invalidArgument('mode', `one of ${NORMALIZE_MODES.join(', ')}`, mode);
  const shown =
    mode === 'positive'
      ? (v: number) => Math.max(0, v)
      : mode === 'negative'
        ? (v: number) => Math.max(0, -v)
        : mode === 'signed'
          ? (v: number) => v
          : Math.abs;
  if (map.length === 0) return undefined;
  const first = shown(map[0]);
  // A non-finite map has no scale either; the overlay refuses it, naming where (assertFinite).
  if (!Number.isFinite(first) || (mode === 'signed' && first !== 0)) return undefined;
  for (let i = 1; i < map.length; i++) if (shown(map[i]) !== first) return undefined;
  const ending = 'so the overlay shows no place above another';
  if (first !== 0)
    return `The map has the same value at every pixel: by this method every pixel counts alike for '${target}', ${ending}.`;
  if (mode === 'positive')
    return `Nothing in the photo raised the score of '${target}': the map has no value above zero, ${ending} (${negativeHint}).`;
  if (mode === 'negative')
    return `Nothing in the photo lowered the score of '${target}': the map has no value below zero, ${ending}.`;
  return `The map is zero at every pixel: by this method nothing in the photo counts for '${target}', ${ending}.`;
}
