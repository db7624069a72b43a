import { gaussianBlur } from '../../core/blur.js';
import { invalidArgument } from '../../core/errors.js';
import type { ModelSpec } from '../../core/model.js';
import type { Rng } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { spatialOf } from '../perturbation/masking.js';

/** The [n, K] seed that selects one class: the gradient methods differentiate that class's raw score. */
export function oneHot(n: number, classes: number, target: number): Tensor {
  const data = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) data[i * classes + target] = 1;
  return { data, dims: [n, classes] };
}

/** Copies of one image stacked into a batch of n. */
export function repeat(image: Float32Array, dims: readonly number[], n: number): Tensor {
  const data = new Float32Array(n * image.length);
  for (let i = 0; i < n; i++) data.set(image, i * image.length);
  return { data, dims: [n, ...dims.slice(1)] };
}

/**
 * Per-pixel maps from per-channel values: 'sum' keeps the sign (for attributions that add up, such as
 * integrated gradients), 'max-abs' is the largest magnitude over channels (Simonyan et al.'s saliency).
 */
export function reduceChannels(
  values: Float32Array,
  dims: readonly number[],
  layout: ModelSpec['layout'],
  how: 'sum' | 'max-abs',
): Float32Array {
  const s = spatialOf({ data: values, dims }, layout);
  const plane = s.width * s.height;
  const out = new Float32Array(plane);
  for (let c = 0; c < s.channels; c++) {
    for (let i = 0; i < plane; i++) {
      const v = layout === 'NCHW' ? values[c * plane + i] : values[i * s.channels + c];
      out[i] = how === 'sum' ? out[i] + v : Math.max(out[i], Math.abs(v));
    }
  }
  return out;
}

export const BASELINE_TYPES = ['black', 'white', 'blur', 'noise', 'image'] as const;
export type BaselineType = (typeof BASELINE_TYPES)[number];

/**
 * A reference input in the model's normalised space. 'black' and 'white' are pixels 0 and 255 through the
 * model's own normalisation; 'blur' is the input blurred with σ = 5% of its shorter side (linear, so
 * blurring in normalised space equals normalising the blurred photo); 'noise' is uniform random pixels;
 * 'image' is a custom reference the caller supplies.
 */
export function baseline(
  type: BaselineType,
  input: Tensor,
  spec: ModelSpec,
  rng: Rng,
  custom?: Tensor,
): Float32Array {
  const s = spatialOf(input, spec.layout);
  const plane = s.width * s.height;
  const out = new Float32Array(input.data.length);
  const at = (c: number, i: number) => (spec.layout === 'NCHW' ? c * plane + i : i * s.channels + c);
  // spec.mean/std are indexed by the tensor's channel, as preprocess normalises (BGR models included).
  const pixel = (c: number, p: number) => (p / 255 - spec.mean[c]) / spec.std[c];
  switch (type) {
    case 'black':
    case 'white':
      for (let c = 0; c < s.channels; c++)
        for (let i = 0; i < plane; i++) out[at(c, i)] = pixel(c, type === 'black' ? 0 : 255);
      return out;
    case 'noise':
      for (let i = 0; i < plane; i++)
        for (let c = 0; c < s.channels; c++) out[at(c, i)] = pixel(c, rng.next() * 255);
      return out;
    case 'blur': {
      const planes = new Float32Array(input.data.length);
      for (let c = 0; c < s.channels; c++)
        for (let i = 0; i < plane; i++) planes[c * plane + i] = input.data[at(c, i)];
      const blurred = gaussianBlur(planes, s.channels, s.width, s.height, 0.05 * Math.min(s.width, s.height));
      for (let c = 0; c < s.channels; c++)
        for (let i = 0; i < plane; i++) out[at(c, i)] = blurred[c * plane + i];
      return out;
    }
    case 'image':
      if (!custom || custom.data.length !== input.data.length) {
        throw invalidArgument(
          'baselineImage',
          `a reference image shaped like the input [${input.dims.join(', ')}]`,
          custom?.dims,
        );
      }
      return Float32Array.from(custom.data);
  }
}

/** Standard normal draws (Box–Muller) from the seeded generator. */
export function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
