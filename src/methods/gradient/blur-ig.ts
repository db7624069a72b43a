import type { AttributionMap } from '../../core/attribution.js';
import { runGradientBatches } from '../../core/batch.js';
import { gaussianBlur } from '../../core/blur.js';
import { fromPlanes, imageView, toPlanes } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { batchLike, type Tensor } from '../../core/tensor.js';
import { oneHot } from './common.js';
import { pathMap } from './path-map.js';

export interface BlurIgOptions extends MethodOptions {
  steps: number;
  /** The blur the path starts from, as a Gaussian σ in input pixels. */
  maxSigma: number;
  /**
   * σ steps even in σ ('linear') or in σ² ('sqrt', σ_i = maxSigma · √(i / steps)). PAIR's sqrt=True takes
   * σ_i = √(i · maxSigma / steps), whose path ends at √maxSigma; here both spacings end at maxSigma.
   */
  spacing: 'linear' | 'sqrt';
  /** The finite-difference step in σ for ∂x/∂σ. */
  gradStep: number;
}

/**
 * Blur Integrated Gradients (Xu, Venugopalan & Sundararajan, "Attribution in Scale and Space", CVPR 2020,
 * eq. 4, as PAIR's saliency BlurIG computes it): IG along the path of ever less blurred images, from the
 * input blurred with σ = maxSigma down to the input itself, so no baseline image has to be chosen.
 * With x(σ) the input blurred by a Gaussian of σ pixels (in the model's normalised space, each channel),
 * A = −Σ_{i<steps} (σ_{i+1} − σ_i) · ∂x/∂σ(σ_i) ⊙ ∂S/∂x(x(σ_i)), ∂x/∂σ by the forward difference
 * (x(σ + gradStep) − x(σ)) / gradStep, the minus because the path runs from large σ to 0. Completeness:
 * Σ A ≈ S(x) − S(x(maxSigma)); `details.completenessDelta` is the difference, `relativeDelta` that over
 * |S(x) − S(x(maxSigma))|. The blur reflects at the edges (core/blur.ts), where PAIR's scipy filter pads
 * with zeros, so a heavy blur tends to the image's mean colour, not to a dark frame.
 * Defaults as PAIR's: maxSigma 50, 100 steps, linear spacing, gradStep 0.01.
 * Output: H × W (channels summed), signed. Cost: steps + 1 gradient passes (the last one, at maxSigma, for
 * its score), batched, and two blurs per step, each O(σ) per pixel (core/blur.ts convolves directly): on a
 * 299 × 299 input a blur at σ = 50 costs several gradient passes, so with the defaults the blurs take
 * longer than the model.
 */
export const blurIg: AttributionMethod<BlurIgOptions> = {
  id: 'blur-ig',
  title: 'Blur Integrated Gradients',
  description: 'Integrated Gradients from a heavily blurred photo to the sharp one: needs no baseline image.',
  requires: ['inputGradients'],
  random: false,
  defaults: { steps: 100, maxSigma: 50, spacing: 'linear', gradStep: 0.01 },
  options: {
    steps: { type: 'int', min: 1, description: 'blur levels on the path from blurred to sharp' },
    maxSigma: { type: 'number', min: 0.01, description: 'blur the path starts from (Gaussian σ in pixels)' },
    spacing: {
      type: 'choice',
      choices: ['linear', 'sqrt'],
      description: 'blur levels spaced evenly in σ, or in σ² (sqrt)',
    },
    gradStep: {
      type: 'number',
      min: 1e-4,
      max: 1,
      description: 'finite-difference step in σ for the derivative of the blur',
    },
  },
  passes: (o) => o.steps + 1,
  async attribute(input: MethodInput, options: BlurIgOptions): Promise<AttributionMap> {
    const { steps, maxSigma, gradStep } = options;
    const view = imageView(input.input.dims, input.model.spec.layout);
    const planes = toPlanes(input.input.data, view);
    const blurred = (sigma: number) =>
      fromPlanes(gaussianBlur(planes, view.channels, view.width, view.height, sigma), view);
    const sigmas = Float64Array.from({ length: steps + 1 }, (_, i) =>
      options.spacing === 'sqrt' ? maxSigma * Math.sqrt(i / steps) : (i * maxSigma) / steps,
    );
    const size = input.input.data.length;
    const total = new Float64Array(size);
    // The derivatives of the batch in hand, by point, from build to consume.
    const derivatives = new Map<number, Float32Array>();
    let scoreAtInput = 0;
    let scoreAtBaseline = 0;
    await runGradientBatches(
      input.model,
      {
        total: steps + 1,
        build(start, end): Tensor {
          const batch = batchLike(input.input, end - start);
          derivatives.clear();
          for (let i = start; i < end; i++) {
            const x = blurred(sigmas[i]);
            batch.data.set(x, (i - start) * size);
            if (i === steps) continue;
            const ahead = blurred(sigmas[i] + gradStep);
            for (let j = 0; j < size; j++) ahead[j] = (ahead[j] - x[j]) / gradStep;
            derivatives.set(i, ahead);
          }
          return batch;
        },
        consume(result, start, end) {
          const k = result.scores.dims[1];
          for (let i = start; i < end; i++) {
            const score = result.scores.data[(i - start) * k + input.target];
            if (i === 0) scoreAtInput = score;
            if (i === steps) {
              scoreAtBaseline = score;
              continue;
            }
            const d = derivatives.get(i)!;
            const w = sigmas[i + 1] - sigmas[i];
            const g = result.gradients.data.subarray((i - start) * size, (i - start + 1) * size);
            for (let j = 0; j < size; j++) total[j] -= w * d[j] * g[j];
          }
        },
        signal: input.signal,
        onProgress: input.onProgress,
      },
      (n) => oneHot(n, input.classes, input.target),
    );
    return pathMap(input, total, { scoreAtInput, scoreAtBaseline, steps });
  },
};
