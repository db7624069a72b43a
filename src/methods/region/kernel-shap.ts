import type { AttributionMap } from '../../core/attribution.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { createRng, type Rng } from '../../core/random.js';
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

export interface KernelShapOptions extends MethodOptions, SuperpixelOptions {
  /** Coalitions evaluated besides the full and the empty one; 0 = 2M + 2048, as the shap package. */
  samples: number;
  seed: number;
}

/**
 * KernelSHAP over superpixels (Lundberg & Lee, "A Unified Approach to Interpreting Model Predictions",
 * NeurIPS 2017, Theorem 2), following the shap package's KernelExplainer:
 * - players are the M SLIC superpixels; a coalition z ∈ {0, 1}^M shows the photo in its superpixels and the
 *   fill elsewhere (default: the baseline 0 in normalised space, mean grey); v(z) is the target class's
 *   probability;
 * - φ minimises Σ_z π(z) (v(z) − v(∅) − φᵀz)² with the Shapley kernel π(z) = (M − 1) / (C(M, |z|) · |z| ·
 *   (M − |z|)), and the empty and full coalitions (infinite weight) enforced as the constraint
 *   Σ φ_i = v(1) − v(∅): one φ is eliminated and the rest is an ordinary weighted least-squares problem, so
 *   efficiency holds exactly;
 * - coalitions are chosen by size: sizes s and M − s (paired) are enumerated completely, from the smallest
 *   up, while the budget covers them at their kernel weight; the rest are sampled by the kernel's size
 *   distribution with each draw's complement beside it (antithetic), repeats adding weight instead of model
 *   calls. When the budget reaches 2^M − 2 every coalition is evaluated and φ are the exact Shapley values.
 * Each pixel gets its superpixel's φ_i, not divided by the superpixel's area: the φ sum over superpixels
 * (not over pixels) to f(x) − f(baseline). details: scoreAtInput f(x), scoreAtBaseline f(all off),
 * efficiencyGap (Σ φ − (f(x) − f(baseline)), rounding only), segments M, coalitions evaluated, exact (1 when
 * all were). Defaults: 50 superpixels, compactness 10, 2M + 2048 coalitions (at most 2^M − 2), seed 0.
 * Output: H × W, signed. Cost: coalitions + 2 model passes.
 */
export const kernelShap: AttributionMethod<KernelShapOptions> = {
  id: 'kernel-shap',
  title: 'KernelSHAP',
  description:
    'Shapley values of superpixels from a weighted regression over coalitions; they add up to the score change (black-box).',
  requires: ['predict'],
  random: true,
  defaults: { ...SUPERPIXEL_DEFAULTS, samples: 0, seed: 0 },
  options: {
    ...SUPERPIXEL_OPTIONS,
    samples: {
      type: 'int',
      min: 0,
      description: 'superpixel coalitions evaluated (0 = 2 × superpixels + 2048, at most all of them)',
    },
    seed: { type: 'int', min: 0, description: 'random seed; the same seed gives the same map' },
  },
  // The superpixel count is known only after segmenting; the requested count stands in for it.
  passes: (options) => coalitionBudget(options.samples, options.segments) + 2,
  async attribute(input: MethodInput, options: KernelShapOptions): Promise<AttributionMap> {
    const seg = segmentInput(input, options);
    const m = seg.count;
    const coalitions = shapleyCoalitions(m, coalitionBudget(options.samples, m), createRng(options.seed));
    const count = coalitions.weights.length;
    const states = new Uint8Array((count + 2) * m);
    states.fill(1, 0, m);
    states.set(coalitions.states, 2 * m);
    const scores = await scoreStates(input, seg, offImage(input, seg, options), states, count + 2);
    const full = scores[0];
    const empty = scores[1];
    const phi = kernelShapValues(coalitions.states, coalitions.weights, scores.subarray(2), m, full, empty);
    let sum = 0;
    for (const v of phi) sum += v;
    return {
      width: seg.width,
      height: seg.height,
      data: paintSegments(seg, phi),
      signed: true,
      details: {
        scoreAtInput: full,
        scoreAtBaseline: empty,
        efficiencyGap: sum - (full - empty),
        segments: m,
        coalitions: count,
        exact: count >= 2 ** m - 2 ? 1 : 0,
      },
    };
  },
};

/** Coalitions to evaluate for M players: the requested number (0 = 2M + 2048), never more than exist. */
export function coalitionBudget(samples: number, m: number): number {
  return Math.max(0, Math.min(samples > 0 ? samples : 2 * m + 2048, 2 ** m - 2));
}

export interface Coalitions {
  /** count × M on/off states, never all on or all off. */
  readonly states: Uint8Array;
  /** Each coalition's regression weight (proportional to the Shapley kernel where enumerated). */
  readonly weights: Float64Array;
}

/**
 * Up to `budget` distinct coalitions of M players and their weights, as shap's KernelExplainer picks them:
 * complete sizes first (s and M − s together), then paired draws by the kernel's size distribution.
 */
export function shapleyCoalitions(m: number, budget: number, rng: Rng): Coalitions {
  const rows: Uint8Array[] = [];
  const weights: number[] = [];
  const index = new Map<string, number>();
  const add = (state: Uint8Array, weight: number): boolean => {
    const key = String.fromCharCode(...state);
    const at = index.get(key);
    if (at !== undefined) {
      weights[at] += weight;
      return false;
    }
    index.set(key, rows.length);
    rows.push(state);
    weights.push(weight);
    return true;
  };

  const sizes = Math.ceil((m - 1) / 2);
  const paired = Math.floor((m - 1) / 2);
  // Total kernel weight of each size s (and of M − s when paired), normalised to sum to 1.
  const sizeWeight = new Float64Array(sizes);
  for (let s = 1; s <= sizes; s++) sizeWeight[s - 1] = ((m - 1) / (s * (m - s))) * (s <= paired ? 2 : 1);
  normalise(sizeWeight);

  let left = budget;
  let complete = 0;
  const remaining = Float64Array.from(sizeWeight);
  for (let s = 1; s <= sizes; s++) {
    const subsets = binomial(m, s) * (s <= paired ? 2 : 1);
    // Enumerate this size only if its share of the remaining budget would draw each subset at least once.
    if ((left * remaining[s - 1]) / subsets < 1 - 1e-8) break;
    complete++;
    left -= subsets;
    if (remaining[s - 1] < 1) {
      const share = remaining[s - 1];
      for (let i = 0; i < sizes; i++) remaining[i] /= 1 - share;
    }
    const w = sizeWeight[s - 1] / subsets;
    forEachSubset(m, s, (members) => {
      const state = new Uint8Array(m);
      for (const i of members) state[i] = 1;
      add(state, w);
      if (s <= paired) add(complementOf(state), w);
    });
  }

  const fixed = rows.length;
  left = budget - fixed;
  if (complete < sizes && left > 0) {
    const draw = Float64Array.from(sizeWeight, (w, i) => (i < paired ? w / 2 : w)).subarray(complete);
    normalise(draw);
    const order = Int32Array.from({ length: m }, (_, i) => i);
    // shap's bound on draws: repeats only add weight, so a budget near the number of coalitions left may
    // not be filled.
    for (let attempt = 4 * left; attempt > 0 && left > 0; attempt--) {
      const s = pick(draw, rng) + complete + 1;
      const state = new Uint8Array(m);
      // The first s entries of a partial Fisher–Yates shuffle are a uniform s-subset.
      for (let i = 0; i < s; i++) {
        const j = i + Math.floor(rng.next() * (m - i));
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
        state[order[i]] = 1;
      }
      if (add(state, 1)) left--;
      if (left > 0 && s <= paired && add(complementOf(state), 1)) left--;
    }
    // The sampled coalitions share what the complete sizes left of the kernel's mass.
    let sampled = 0;
    for (let i = fixed; i < weights.length; i++) sampled += weights[i];
    let mass = 0;
    for (let i = complete; i < sizes; i++) mass += sizeWeight[i];
    for (let i = fixed; i < weights.length; i++) weights[i] *= mass / sampled;
  }

  const states = new Uint8Array(rows.length * m);
  for (const [i, row] of rows.entries()) states.set(row, i * m);
  return { states, weights: Float64Array.from(weights) };
}

/**
 * The constrained weighted least squares of KernelSHAP: φ_M = Δ − Σ_{i<M} φ_i with Δ = v(full) − v(∅) is
 * substituted, leaving min Σ_k w_k (v_k − v(∅) − z_kM Δ − Σ_{i<M} (z_ki − z_kM) φ_i)², solved from its normal
 * equations in float64.
 */
export function kernelShapValues(
  states: Uint8Array,
  weights: ArrayLike<number>,
  values: ArrayLike<number>,
  m: number,
  full: number,
  empty: number,
): Float64Array {
  const delta = full - empty;
  const phi = new Float64Array(m);
  if (m === 1) {
    phi[0] = delta;
    return phi;
  }
  const p = m - 1;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  const e = new Float64Array(p);
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k];
    const row = states.subarray(k * m, (k + 1) * m);
    const last = row[p];
    const y = values[k] - empty - last * delta;
    for (let i = 0; i < p; i++) e[i] = row[i] - last;
    for (let i = 0; i < p; i++) {
      if (e[i] === 0) continue;
      const we = w * e[i];
      b[i] += we * y;
      for (let j = i; j < p; j++) a[i * p + j] += we * e[j];
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) a[i * p + j] = a[j * p + i];
  const x = solveSymmetric(a, b, p);
  let sum = 0;
  for (let i = 0; i < p; i++) {
    phi[i] = x[i];
    sum += x[i];
  }
  phi[p] = delta - sum;
  return phi;
}

function complementOf(state: Uint8Array): Uint8Array {
  return Uint8Array.from(state, (v) => 1 - v);
}

/** Calls `visit` with each s-subset of 0 … m − 1 in lexicographic order. */
function forEachSubset(m: number, s: number, visit: (members: Int32Array) => void): void {
  const members = Int32Array.from({ length: s }, (_, i) => i);
  for (;;) {
    visit(members);
    let i = s - 1;
    while (i >= 0 && members[i] === m - s + i) i--;
    if (i < 0) return;
    members[i]++;
    for (let j = i + 1; j < s; j++) members[j] = members[j - 1] + 1;
  }
}

function binomial(n: number, k: number): number {
  let out = 1;
  for (let i = 1; i <= k; i++) out = (out * (n - k + i)) / i;
  return out;
}

function normalise(values: Float64Array): void {
  let sum = 0;
  for (const v of values) sum += v;
  for (let i = 0; i < values.length; i++) values[i] /= sum;
}

/** An index drawn with the given probabilities. */
function pick(probabilities: ArrayLike<number>, rng: Rng): number {
  let u = rng.next();
  for (let i = 0; i < probabilities.length - 1; i++) {
    u -= probabilities[i];
    if (u < 0) return i;
  }
  return probabilities.length - 1;
}
