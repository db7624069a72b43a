import { runGradientBatches } from '../../core/batch.js';
import type { AttributionMethod, MethodOptions } from '../../core/method.js';
import { createRng } from '../../core/random.js';
import { batchLike } from '../../core/tensor.js';
import { type BaselineType, baseline, oneHot } from './common.js';
import { channelMap } from './vanilla.js';

export interface ExpectedGradientsOptions extends MethodOptions {
  samples: number;
  seed: number;
}

/** References are drawn from these, each equally likely; 'noise' draws fresh random pixels every time. */
const REFERENCE_TYPES: readonly BaselineType[] = ['black', 'white', 'blur', 'noise'];

/**
 * Expected Gradients (Erion et al., "Improving performance of deep learning models with axiomatic
 * attribution priors and expected gradients", 2021, eq. 4), the sampling form of GradientSHAP (Lundberg &
 * Lee 2017): A = E_{x' ∼ D, α ∼ U(0,1)} [(x − x') ⊙ ∂S(x' + α(x − x'))/∂x], one gradient per sample.
 * With no training set at hand, D mixes black, white, blurred and uniform-noise references.
 * Defaults: 50 samples, seed 0. Output: H × W (channels summed), signed. Cost: samples gradient passes.
 */
export const expectedGradients: AttributionMethod<ExpectedGradientsOptions> = {
  id: 'expected-gradients',
  title: 'Expected Gradients (GradientSHAP)',
  description:
    'Integrated gradients averaged over random references and path points (SHAP values in expectation).',
  requires: ['inputGradients'],
  random: true,
  defaults: { samples: 50, seed: 0 },
  options: {
    samples: { type: 'int', min: 1, description: 'random (reference, α) draws' },
    seed: { type: 'int', min: 0, description: 'random seed; the same seed gives the same map' },
  },
  passes: (o) => o.samples,
  async attribute(input, options) {
    const rng = createRng(options.seed);
    const x = input.input.data;
    const size = x.length;
    const draws = Array.from({ length: options.samples }, () => {
      const type = REFERENCE_TYPES[Math.floor(rng.next() * REFERENCE_TYPES.length)];
      return { reference: baseline(type, input.input, input.model.spec, rng), alpha: rng.next() };
    });
    const total = new Float64Array(size);
    await runGradientBatches(
      input.model,
      {
        total: options.samples,
        build(start, end) {
          const batch = batchLike(input.input, end - start);
          for (let j = start; j < end; j++) {
            const { reference, alpha } = draws[j];
            for (let i = 0; i < size; i++)
              batch.data[(j - start) * size + i] = reference[i] + alpha * (x[i] - reference[i]);
          }
          return batch;
        },
        consume(result, start, end) {
          for (let j = start; j < end; j++) {
            const { reference } = draws[j];
            const g = result.gradients.data.subarray((j - start) * size, (j - start + 1) * size);
            for (let i = 0; i < size; i++) total[i] += (x[i] - reference[i]) * g[i];
          }
        },
        signal: input.signal,
        onProgress: input.onProgress,
      },
      (n) => oneHot(n, input.classes, input.target),
    );
    const attributions = new Float32Array(size);
    for (let i = 0; i < size; i++) attributions[i] = total[i] / options.samples;
    return channelMap(input, attributions, 'sum', true);
  },
};
