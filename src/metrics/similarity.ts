/**
 * How alike two saliency maps of the same image are, as Adebayo et al. measure it in "Sanity Checks for
 * Saliency Maps" (NeurIPS 2018, §3): Spearman's rank correlation and the structural similarity index (SSIM).
 * Both work on full-resolution maps (row-major typed arrays of equal length), in plain TypeScript.
 */
import { invalidArgument } from '../core/errors.js';
import { averageRanks, pearson } from './agreement.js';

/**
 * Spearman's ρ: Pearson's r of the two arrays' ranks, ties given the mean of the ranks they span (as
 * scipy.stats.spearmanr). Computed on every value, with no down-sampling. 1: the same order; −1: reversed.
 * NaN when either array is constant, since a constant has no order to correlate.
 */
export function spearman(a: Float32Array, b: Float32Array): number {
  checkPair(a, b);
  return pearson(averageRanks(Float64Array.from(a)), averageRanks(Float64Array.from(b)));
}

export interface SsimOptions {
  /** Side of the square uniform window, odd, at least 3. Default 7 (scikit-image's default win_size). */
  readonly windowSize?: number;
  /**
   * Normalise each map first as Adebayo et al. do: |v| divided by the map's largest |v| (a map that is zero
   * everywhere stays zero), so both lie in [0, 1]. Default true; false compares the values as given.
   */
  readonly normalize?: boolean;
}

/** SSIM's stabilising constants (Wang et al. 2004, eq. 7 and 9): C1 = (K1·L)², C2 = (K2·L)². */
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;

/**
 * Structural similarity (Wang, Bovik, Sheikh and Simoncelli, "Image Quality Assessment: From Error Visibility
 * to Structural Similarity", IEEE TIP 2004, eq. 13) of two width × height maps, computed as scikit-image's
 * `structural_similarity(a, b, win_size=7, data_range=L)` with its defaults (uniform window, sample
 * covariances): after optional normalisation (see SsimOptions.normalize), for every w × w window that lies
 * wholly inside the map (w = windowSize), with the window means μa, μb, sample variances σa², σb² and sample
 * covariance σab (divided by w² − 1),
 *
 *   SSIM_window = (2·μa·μb + C1)(2·σab + C2) / ((μa² + μb² + C1)(σa² + σb² + C2)),
 *
 * and the result is their mean. L, the data range, is max − min over both (normalised) maps; when it is 0 (both
 * maps the same constant) L = 1 is used, which gives 1. C1 = (0.01·L)², C2 = (0.03·L)². 1: identical maps;
 * values near 0: unrelated structure; it can be negative. Throws INVALID_ARGUMENT for arrays that are not
 * width · height long or a map smaller than the window.
 */
export function ssim(
  a: Float32Array,
  b: Float32Array,
  width: number,
  height: number,
  options: SsimOptions = {},
): number {
  checkPair(a, b);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width * height !== a.length) {
    throw invalidArgument('width, height', `sizes whose product is the maps' length ${a.length}`, [
      width,
      height,
    ]);
  }
  const w = options.windowSize ?? 7;
  if (!Number.isInteger(w) || w < 3 || w % 2 === 0) {
    throw invalidArgument('windowSize', 'an odd whole number of at least 3', w);
  }
  if (width < w || height < w) {
    throw invalidArgument('width, height', `at least the window size ${w} each`, [width, height]);
  }
  const x = options.normalize === false ? Float64Array.from(a) : normalizedAbs(a);
  const y = options.normalize === false ? Float64Array.from(b) : normalizedAbs(b);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of [x, y]) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] < lo) lo = v[i];
      if (v[i] > hi) hi = v[i];
    }
  }
  const range = hi - lo > 0 ? hi - lo : 1;
  const c1 = (SSIM_K1 * range) ** 2;
  const c2 = (SSIM_K2 * range) ** 2;
  // Summed-area tables of x, y, x², y², xy give every window's sums in constant time.
  const sx = integral(width, height, (i) => x[i]);
  const sy = integral(width, height, (i) => y[i]);
  const sxx = integral(width, height, (i) => x[i] * x[i]);
  const syy = integral(width, height, (i) => y[i] * y[i]);
  const sxy = integral(width, height, (i) => x[i] * y[i]);
  const np = w * w;
  const covNorm = np / (np - 1);
  let total = 0;
  let count = 0;
  for (let top = 0; top + w <= height; top++) {
    for (let left = 0; left + w <= width; left++) {
      const box = (s: Float64Array) => windowSum(s, width, left, top, w) / np;
      const mx = box(sx);
      const my = box(sy);
      const vx = covNorm * (box(sxx) - mx * mx);
      const vy = covNorm * (box(syy) - my * my);
      const vxy = covNorm * (box(sxy) - mx * my);
      total += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

/** |v| / max |v| (all zeros stay zeros), in double precision. */
export function normalizedAbs(values: Float32Array): Float64Array {
  const out = new Float64Array(values.length);
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.abs(values[i]);
    if (out[i] > max) max = out[i];
  }
  if (max > 0) for (let i = 0; i < out.length; i++) out[i] /= max;
  return out;
}

function checkPair(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length || a.length === 0) {
    throw invalidArgument('a, b', 'non-empty arrays of the same length', [a.length, b.length]);
  }
  for (const [name, v] of [
    ['a', a],
    ['b', b],
  ] as const) {
    const bad = v.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) throw invalidArgument(name, 'finite values', `${v[bad]} at index ${bad}`);
  }
}

/** (width + 1) × (height + 1) table: s[(y + 1)(width + 1) + x + 1] = Σ f over rows ≤ y, columns ≤ x. */
function integral(width: number, height: number, f: (i: number) => number): Float64Array {
  const stride = width + 1;
  const s = new Float64Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += f(y * width + x);
      s[(y + 1) * stride + x + 1] = s[y * stride + x + 1] + row;
    }
  }
  return s;
}

function windowSum(s: Float64Array, width: number, left: number, top: number, w: number): number {
  const stride = width + 1;
  const a = top * stride + left;
  const b = (top + w) * stride + left;
  return s[b + w] - s[b] - s[a + w] + s[a];
}
