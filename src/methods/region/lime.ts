import type { AttributionMap } from '../../core/attribution.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { createRng } from '../../core/random.js';
import {
  offImage,
  paintSegments,
  SUPERPIXEL_DEFAULTS,
  SUPERPIXEL_OPTIONS,
  type SuperpixelOptions,
  scoreStates,
  segmentInput,
  solveSymmetric,
} from './superpixels.js';

export interface LimeOptions extends MethodOptions, SuperpixelOptions {
  /** Perturbed images N, the unperturbed photo included. */
  samples: number;
  /** σ of the exponential kernel over cosine distance. */
  kernelWidth: number;
  /** α of the ridge penalty on the segment coefficients (not on the intercept). */
  ridge: number;
  seed: number;
}

/**
 * LIME for images (Ribeiro, Singh & Guestrin, "'Why Should I Trust You?': Explaining the Predictions of Any
 * Classifier", KDD 2016, eq. 1–2 and Algorithm 1), over SLIC superpixels:
 * - N binary vectors z ∈ {0, 1}^M over the M superpixels, the first all ones and the rest uniform draws;
 *   each gives an image whose switched-off superpixels show the fill (default: the baseline 0 in normalised
 *   space, i.e. mean grey), and f(z) is the target class's probability for it;
 * - weights π(z) = exp(−D(1, z)² / σ²) with D the cosine distance to the all-on vector (D = 1 − √(|z| / M));
 *   the lime package uses the square root of this kernel, i.e. its σ = 0.25 acts as σ = 0.25 · √2 here;
 * - the weighted ridge regression min Σ π(z) (f(z) − b − wᵀz)² + α‖w‖², intercept b unpenalised, solved
 *   exactly from its (M + 1) × (M + 1) normal equations in float64 (lime uses scikit-learn's Ridge, α = 1).
 * Each pixel gets its superpixel's coefficient w_i: the change in probability the fit attributes to
 * showing that superpixel. details: r2 (the fit's weighted R²), intercept, segments (M), scoreAtInput.
 * Defaults: 50 superpixels, compactness 10, N = 1000, σ = 0.25, α = 1, seed 0. Output: H × W, signed.
 * Cost: N model passes.
 */
export const lime: AttributionMethod<LimeOptions> = {
  id: 'lime',
  title: 'LIME',
  description:
    'Switches random superpixels off and fits a weighted linear model to the scores (black-box, segment-level).',
  requires: ['predict'],
  random: true,
  defaults: { ...SUPERPIXEL_DEFAULTS, samples: 1000, kernelWidth: 0.25, ridge: 1, seed: 0 },
  options: {
    ...SUPERPIXEL_OPTIONS,
    samples: { type: 'int', min: 1, description: 'perturbed images evaluated, the photo itself included' },
    kernelWidth: {
      type: 'number',
      min: 0.001,
      description: 'kernel width σ over cosine distance (smaller = more local)',
    },
    ridge: { type: 'number', min: 0, description: 'ridge penalty α on the superpixel weights' },
    seed: { type: 'int', min: 0, description: 'random seed; the same seed gives the same map' },
  },
  passes: (options) => options.samples,
  async attribute(input: MethodInput, options: LimeOptions): Promise<AttributionMap> {
    const seg = segmentInput(input, options);
    const m = seg.count;
    const n = options.samples;
    const rng = createRng(options.seed);
    const states = new Uint8Array(n * m);
    states.fill(1, 0, m);
    for (let i = m; i < n * m; i++) states[i] = rng.next() < 0.5 ? 1 : 0;
    const scores = await scoreStates(input, seg, offImage(input, seg, options), states, n);

    const weights = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let on = 0;
      for (let j = 0; j < m; j++) on += states[k * m + j];
      // Cosine distance to the all-ones vector; the all-off vector has no direction, distance 1 (scikit-learn's convention).
      const d = on === 0 ? 1 : 1 - Math.sqrt(on / m);
      weights[k] = Math.exp(-(d * d) / (options.kernelWidth * options.kernelWidth));
    }
    const fit = weightedRidge(states, scores, weights, n, m, options.ridge);
    return {
      width: seg.width,
      height: seg.height,
      data: paintSegments(seg, fit.coefficients),
      signed: true,
      details: { r2: fit.r2, intercept: fit.intercept, segments: m, scoreAtInput: scores[0] },
    };
  },
};

/**
 * min_b,w Σ_k π_k (y_k − b − wᵀz_k)² + α‖w‖² over binary rows z_k (n × m), through the normal equations of
 * the design [1, z]; r2 is the weighted coefficient of determination (scikit-learn's score with weights).
 */
export function weightedRidge(
  z: Uint8Array,
  y: ArrayLike<number>,
  pi: ArrayLike<number>,
  n: number,
  m: number,
  alpha: number,
): { coefficients: Float64Array; intercept: number; r2: number } {
  const p = m + 1;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  const row = new Float64Array(p);
  for (let k = 0; k < n; k++) {
    const w = pi[k];
    if (w === 0) continue;
    row[0] = 1;
    for (let j = 0; j < m; j++) row[j + 1] = z[k * m + j];
    for (let i = 0; i < p; i++) {
      if (row[i] === 0) continue;
      const wi = w * row[i];
      b[i] += wi * y[k];
      for (let j = i; j < p; j++) a[i * p + j] += wi * row[j];
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) a[i * p + j] = a[j * p + i];
  for (let i = 1; i < p; i++) a[i * p + i] += alpha;
  const x = solveSymmetric(a, b, p);

  let sw = 0;
  let swy = 0;
  for (let k = 0; k < n; k++) {
    sw += pi[k];
    swy += pi[k] * y[k];
  }
  const mean = swy / sw;
  let residual = 0;
  let total = 0;
  for (let k = 0; k < n; k++) {
    let fit = x[0];
    for (let j = 0; j < m; j++) fit += x[j + 1] * z[k * m + j];
    residual += pi[k] * (y[k] - fit) ** 2;
    total += pi[k] * (y[k] - mean) ** 2;
  }
  // Constant scores: a perfect fit counts as 1 and any other as 0, as scikit-learn's r2_score does.
  const r2 = total > 0 ? 1 - residual / total : residual <= 1e-24 ? 1 : 0;
  return { coefficients: x.subarray(1), intercept: x[0], r2 };
}
