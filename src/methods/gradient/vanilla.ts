import type { AttributionMap } from '../../core/attribution.js';
import { runGradientBatches } from '../../core/batch.js';
import { inputView, reduceChannels } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import type { BackwardRules } from '../../core/model.js';
import { oneHot } from './common.js';

/** The input gradient of the target's raw score for one image (one gradient pass), by `rules` (default exact). */
export async function gradientOf(input: MethodInput, rules?: BackwardRules): Promise<Float32Array> {
  let grad = new Float32Array(0);
  await runGradientBatches(
    input.model,
    {
      total: 1,
      build: () => input.input,
      consume: (result) => {
        grad = Float32Array.from(result.gradients.data);
      },
      signal: input.signal,
      onProgress: input.onProgress,
    },
    (n) => oneHot(n, input.classes, input.target),
    rules,
  );
  return grad;
}

/** A map at the input's size from per-channel values, reduced over the channels. */
export function channelMap(
  input: MethodInput,
  values: Float32Array,
  how: 'sum' | 'max-abs',
  signed: boolean,
): AttributionMap {
  const view = inputView(input);
  return { width: view.width, height: view.height, data: reduceChannels(values, view, how), signed };
}

function saliencyMap(_image: Float32Array, grad: Float32Array, input: MethodInput): AttributionMap {
  return channelMap(input, grad, 'max-abs', false);
}

function productMap(image: Float32Array, grad: Float32Array, input: MethodInput): AttributionMap {
  // A loop, not Float32Array.from with a callback: this runs once per noisy sample inside SmoothGrad.
  const product = new Float32Array(grad.length);
  for (let i = 0; i < grad.length; i++) product[i] = grad[i] * image[i];
  return channelMap(input, product, 'sum', true);
}

/**
 * Vanilla gradient (Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks", 2014, eq. 2 and
 * §3.1): M(p) = max over channels c of |∂S_target / ∂x(p, c)|, with S the raw (pre-softmax) class score.
 * No options. Output: H × W, non-negative. Cost: one gradient pass.
 */
export const gradient: AttributionMethod<MethodOptions> = {
  id: 'gradient',
  title: 'Vanilla gradient',
  description: 'How strongly each pixel, nudged, would change the class score (one gradient pass).',
  requires: ['inputGradients'],
  random: false,
  defaults: {},
  options: {},
  passes: () => 1,
  fromGradient: saliencyMap,
  attribute: async (input) => saliencyMap(input.input.data, await gradientOf(input), input),
};

/**
 * Gradient × input (Shrikumar et al., "Not Just a Black Box", 2016): A(p) = Σ_c x(p, c) · ∂S/∂x(p, c),
 * in the model's normalised input space (so a pixel at the dataset mean contributes nothing).
 * Output: H × W, signed. Cost: one gradient pass.
 */
export const gradientTimesInput: AttributionMethod<MethodOptions> = {
  id: 'gradient-x-input',
  title: 'Gradient × input',
  description: 'Gradient times the pixel values: a first-order estimate of each pixel’s contribution.',
  requires: ['inputGradients'],
  random: false,
  defaults: {},
  options: {},
  passes: () => 1,
  fromGradient: productMap,
  attribute: async (input) => productMap(input.input.data, await gradientOf(input), input),
};
