import type { AttributionMap } from '../../core/attribution.js';
import { runGradientBatches } from '../../core/batch.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { createRng } from '../../core/random.js';
import { BASELINE_TYPES, type BaselineType, baseline, oneHot, reduceChannels } from './common.js';
import { INTEGRATION_RULES, type IntegrationRule, quadrature } from './quadrature.js';
import { spatialMap } from './vanilla.js';

export interface IntegratedGradientsOptions extends MethodOptions {
  steps: number;
  rule: IntegrationRule;
  baselineType: BaselineType;
  seed: number;
}

/** Per-channel IG attributions and the scores at the path's ends, for reuse by Expected Gradients and XRAI. */
export interface PathIntegral {
  readonly attributions: Float32Array;
  /** Raw target score at the input and at the baseline (from the gradient passes at α = 1 and 0). */
  readonly scoreAtInput: number;
  readonly scoreAtBaseline: number;
}

/**
 * Integrated Gradients (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks", ICML 2017,
 * eq. 1 and its Riemann approximation eq. 3): A_i = (x_i − x'_i) · ∫₀¹ ∂S(x' + α(x − x'))/∂x_i dα,
 * approximated with `steps` points of the chosen rule (Gauss–Legendre by default, as Captum does).
 * Completeness: Σ A = S(x) − S(x'); the map's `details.completenessDelta` reports Σ A − (S(x) − S(x')), and
 * `details.relativeDelta` that as a fraction of |S(x) − S(x')|.
 * Defaults: 50 steps, Gauss–Legendre, black baseline (pixels 0). Output: H × W (channels summed), signed.
 * Cost: steps gradient passes + 1 batched pass for the two end scores.
 */
export const integratedGradients: AttributionMethod<IntegratedGradientsOptions> = {
  id: 'integrated-gradients',
  title: 'Integrated Gradients',
  description:
    'Sums gradients along a path from a blank image to the photo; attributions add up to the score change.',
  requires: ['inputGradients'],
  random: false,
  defaults: { steps: 50, rule: 'gauss-legendre', baselineType: 'black', seed: 0 },
  options: {
    steps: { type: 'int', min: 1, description: 'points on the path from the baseline to the photo' },
    rule: { type: 'choice', choices: INTEGRATION_RULES, description: 'numerical integration rule' },
    baselineType: {
      type: 'choice',
      choices: BASELINE_TYPES,
      description: 'reference image the path starts from',
    },
    seed: { type: 'int', min: 0, description: 'seed for the noise baseline' },
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
    const path = await integratePath(input, reference, options.steps, options.rule);
    let sum = 0;
    for (const v of path.attributions) sum += v;
    const change = path.scoreAtInput - path.scoreAtBaseline;
    const map = reduceChannels(path.attributions, input.input.dims, input.model.spec.layout, 'sum');
    return {
      ...spatialMap(input, map, true),
      details: {
        completenessDelta: sum - change,
        relativeDelta: change === 0 ? 0 : Math.abs(sum - change) / Math.abs(change),
        scoreAtInput: path.scoreAtInput,
        scoreAtBaseline: path.scoreAtBaseline,
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
      build(start, end) {
        const data = new Float32Array((end - start) * size);
        for (let j = start; j < end; j++) {
          const a = points[j];
          const o = (j - start) * size;
          for (let i = 0; i < size; i++) data[o + i] = reference[i] + a * (x[i] - reference[i]);
        }
        return { data, dims: [end - start, ...input.input.dims.slice(1)] };
      },
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
  return { attributions, scoreAtInput, scoreAtBaseline };
}
