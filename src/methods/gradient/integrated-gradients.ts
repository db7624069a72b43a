import type { AttributionMap } from '../../core/attribution.js';
import { runGradientBatches } from '../../core/batch.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { createRng } from '../../core/random.js';
import { batchLike, type Tensor } from '../../core/tensor.js';
import { BASELINE_TYPES, type BaselineType, baseline, oneHot } from './common.js';
import { INTEGRATION_RULES, type IntegrationRule, quadrature } from './quadrature.js';
import { channelMap } from './vanilla.js';

export interface IntegratedGradientsOptions extends MethodOptions {
  steps: number;
  rule: IntegrationRule;
  baselineType: BaselineType;
  seed: number;
  /** When above 0: refine the path adaptively until the completeness delta is under this fraction. */
  tolerance: number;
}

/** Per-channel IG attributions and the scores at the path's ends, for reuse by Expected Gradients and XRAI. */
export interface PathIntegral {
  readonly attributions: Float32Array;
  /** Raw target score at the input and at the baseline (from the gradient passes at α = 1 and 0). */
  readonly scoreAtInput: number;
  readonly scoreAtBaseline: number;
  /** Gradient passes spent on path points (not counting the two end points). */
  readonly steps: number;
}

/**
 * Integrated Gradients (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks", ICML 2017,
 * eq. 1 and its Riemann approximation eq. 3): A_i = (x_i − x'_i) · ∫₀¹ ∂S(x' + α(x − x'))/∂x_i dα,
 * approximated with `steps` points of the chosen rule (Gauss–Legendre by default, as Captum does).
 * Completeness: Σ A = S(x) − S(x'); the map's `details.completenessDelta` reports Σ A − (S(x) − S(x')), and
 * `details.relativeDelta` that as a fraction of |S(x) − S(x')|.
 * With `tolerance` > 0 the path is integrated adaptively instead (see integrateAdaptive) and `steps` is the
 * budget of gradient passes; `details.steps` reports how many were spent.
 * Defaults: 50 steps, Gauss–Legendre, black baseline (pixels 0), tolerance 0 (fixed rule).
 * Output: H × W (channels summed), signed. Cost: steps gradient passes + 2 for the end scores.
 */
export const integratedGradients: AttributionMethod<IntegratedGradientsOptions> = {
  id: 'integrated-gradients',
  title: 'Integrated Gradients',
  description:
    'Sums gradients along a path from a blank image to the photo; attributions add up to the score change.',
  requires: ['inputGradients'],
  random: false,
  defaults: { steps: 50, rule: 'gauss-legendre', baselineType: 'black', seed: 0, tolerance: 0 },
  options: {
    steps: { type: 'int', min: 1, description: 'points on the path from the baseline to the photo' },
    rule: { type: 'choice', choices: INTEGRATION_RULES, description: 'numerical integration rule' },
    baselineType: {
      type: 'choice',
      choices: BASELINE_TYPES,
      description: 'reference image the path starts from',
    },
    seed: { type: 'int', min: 0, description: 'seed for the noise baseline' },
    tolerance: {
      type: 'number',
      min: 0,
      max: 1,
      description:
        'refine the path until attributions sum to the score change within this fraction (0 = fixed steps)',
    },
  },
  passes: (o) => o.steps + 2,
  async attribute(input, options) {
    const reference = baseline(
      options.baselineType,
      input.input,
      input.model.spec,
      createRng(options.seed),
      input.baselineInput,
    );
    const path =
      options.tolerance > 0
        ? await integrateAdaptive(input, reference, options.steps, options.tolerance)
        : await integratePath(input, reference, options.steps, options.rule);
    let sum = 0;
    for (const v of path.attributions) sum += v;
    const change = path.scoreAtInput - path.scoreAtBaseline;
    return {
      ...channelMap(input, path.attributions, 'sum', true),
      details: {
        completenessDelta: sum - change,
        relativeDelta: change === 0 ? 0 : Math.abs(sum - change) / Math.abs(change),
        scoreAtInput: path.scoreAtInput,
        scoreAtBaseline: path.scoreAtBaseline,
        steps: path.steps,
      },
    } satisfies AttributionMap;
  },
};

/** IG along the straight line from `reference` to the input, in batches of path points. */
export async function integratePath(
  input: MethodInput,
  reference: Float32Array,
  steps: number,
  rule: IntegrationRule,
): Promise<PathIntegral> {
  const { alphas, weights } = quadrature(rule, steps);
  const x = input.input.data;
  const size = x.length;
  // Two extra points, α = 0 and α = 1, give the end scores for the completeness check.
  const points = Float64Array.from([...alphas, 0, 1]);
  const total = new Float64Array(size);
  let scoreAtInput = 0;
  let scoreAtBaseline = 0;
  await runGradientBatches(
    input.model,
    {
      total: points.length,
      build: (start, end) => pathBatch(input, reference, (j) => points[j], start, end),
      consume(result, start, end) {
        const k = result.scores.dims[1];
        for (let j = start; j < end; j++) {
          const score = result.scores.data[(j - start) * k + input.target];
          if (j === steps) scoreAtBaseline = score;
          else if (j === steps + 1) scoreAtInput = score;
          else {
            const w = weights[j];
            const g = result.gradients.data.subarray((j - start) * size, (j - start + 1) * size);
            for (let i = 0; i < size; i++) total[i] += w * g[i];
          }
        }
      },
      signal: input.signal,
      onProgress: input.onProgress,
    },
    (n) => oneHot(n, input.classes, input.target),
  );
  const attributions = new Float32Array(size);
  for (let i = 0; i < size; i++) attributions[i] = (x[i] - reference[i]) * total[i];
  return { attributions, scoreAtInput, scoreAtBaseline, steps };
}

/** Each panel of the adaptive rule is integrated with 4-point Gauss–Legendre. */
const PANEL = quadrature('gauss-legendre', 4);
const FIRST_PANELS = 8;
const SPLITS_PER_ROUND = 4;

interface Panel {
  readonly a: number;
  readonly b: number;
  /** Σ w · ∂S/∂x over the panel's nodes (per input element). */
  readonly contribution: Float32Array;
  /** The panel's share of Σ A, i.e. ∫ ∂S/∂x · (x − x′) dα over it. */
  readonly scalar: number;
  /** How much that scalar integrand varies over the panel, times its width: where to refine. */
  readonly roughness: number;
}

/**
 * Adaptive path integration, for models whose integrand has narrow spikes that a fixed rule steps over
 * (quantized models with clipped activations, for one). The path starts as 8 panels of 4-point
 * Gauss–Legendre; while the completeness delta |Σ A − (S(x) − S(x′))| exceeds `tolerance` · |S(x) − S(x′)|
 * and the budget allows, the panels whose scalar integrand ∂S/∂x · (x − x′) varies most are halved.
 * Completeness is the stopping test because it is the one error IG can measure without the true integral.
 */
export async function integrateAdaptive(
  input: MethodInput,
  reference: Float32Array,
  budget: number,
  tolerance: number,
): Promise<PathIntegral> {
  const x = input.input.data;
  const size = x.length;
  const diff = Float32Array.from(x, (v, i) => v - reference[i]);
  let scoreAtInput = 0;
  let scoreAtBaseline = 0;
  let spent = 0;

  const evaluate = async (
    ranges: readonly (readonly [number, number])[],
    withEnds: boolean,
  ): Promise<Panel[]> => {
    const nodes: { panel: number; alpha: number; weight: number }[] = [];
    ranges.forEach(([a, b], panel) => {
      for (let j = 0; j < PANEL.alphas.length; j++) {
        nodes.push({ panel, alpha: a + (b - a) * PANEL.alphas[j], weight: (b - a) * PANEL.weights[j] });
      }
    });
    const ends = withEnds ? [0, 1] : [];
    const contributions = ranges.map(() => new Float32Array(size));
    const scalars = new Float64Array(ranges.length);
    const low = new Float64Array(ranges.length).fill(Number.POSITIVE_INFINITY);
    const high = new Float64Array(ranges.length).fill(Number.NEGATIVE_INFINITY);
    const alphaOf = (j: number) => (j < nodes.length ? nodes[j].alpha : ends[j - nodes.length]);
    await runGradientBatches(
      input.model,
      {
        total: nodes.length + ends.length,
        build: (start, end) => pathBatch(input, reference, alphaOf, start, end),
        consume(result, start, end) {
          const k = result.scores.dims[1];
          for (let j = start; j < end; j++) {
            if (j >= nodes.length) {
              const score = result.scores.data[(j - start) * k + input.target];
              if (ends[j - nodes.length] === 0) scoreAtBaseline = score;
              else scoreAtInput = score;
              continue;
            }
            const { panel, weight } = nodes[j];
            const g = result.gradients.data.subarray((j - start) * size, (j - start + 1) * size);
            const c = contributions[panel];
            let h = 0;
            for (let i = 0; i < size; i++) {
              c[i] += weight * g[i];
              h += g[i] * diff[i];
            }
            scalars[panel] += weight * h;
            low[panel] = Math.min(low[panel], h);
            high[panel] = Math.max(high[panel], h);
          }
        },
        signal: input.signal,
        onProgress:
          input.onProgress &&
          ((p) => input.onProgress?.({ done: spent + p.done, total: budget + 2, unit: p.unit })),
      },
      (n) => oneHot(n, input.classes, input.target),
    );
    spent += nodes.length + ends.length;
    return ranges.map(([a, b], i) => ({
      a,
      b,
      contribution: contributions[i],
      scalar: scalars[i],
      roughness: (high[i] - low[i]) * (b - a),
    }));
  };

  let panels = await evaluate(
    Array.from({ length: FIRST_PANELS }, (_, i) => [i / FIRST_PANELS, (i + 1) / FIRST_PANELS] as const),
    true,
  );
  const perSplit = 2 * PANEL.alphas.length;
  for (;;) {
    const change = scoreAtInput - scoreAtBaseline;
    const total = panels.reduce((acc, p) => acc + p.scalar, 0);
    if (Math.abs(total - change) <= tolerance * Math.abs(change)) break;
    const affordable = Math.min(SPLITS_PER_ROUND, Math.floor((budget + 2 - spent) / perSplit));
    if (affordable < 1) break;
    const worst = [...panels].sort((p, q) => q.roughness - p.roughness).slice(0, affordable);
    const halves = worst.flatMap((p) => [[p.a, (p.a + p.b) / 2] as const, [(p.a + p.b) / 2, p.b] as const]);
    const refined = await evaluate(halves, false);
    panels = [...panels.filter((p) => !worst.includes(p)), ...refined].sort((p, q) => p.a - q.a);
  }
  const attributions = new Float32Array(size);
  for (const p of panels) for (let i = 0; i < size; i++) attributions[i] += p.contribution[i];
  for (let i = 0; i < size; i++) attributions[i] *= diff[i];
  return { attributions, scoreAtInput, scoreAtBaseline, steps: spent - 2 };
}

/** The path points x′ + α_j (x − x′) for j in [start, end), as one batch. */
function pathBatch(
  input: MethodInput,
  reference: Float32Array,
  alphaOf: (j: number) => number,
  start: number,
  end: number,
): Tensor {
  const x = input.input.data;
  const size = x.length;
  const batch = batchLike(input.input, end - start);
  for (let j = start; j < end; j++) {
    const a = alphaOf(j);
    const o = (j - start) * size;
    for (let i = 0; i < size; i++) batch.data[o + i] = reference[i] + a * (x[i] - reference[i]);
  }
  return batch;
}
