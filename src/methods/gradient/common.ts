import { gaussianBlur } from '../../core/blur.js';
import { invalidArgument } from '../../core/errors.js';
import { fromPlanes, imageView, toPlanes } from '../../core/image-tensor.js';
import type { ModelSpec } from '../../core/model.js';
import type { Rng } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';

/** The [n, K] seed that selects one class: the gradient methods differentiate that class's raw score. */
export function oneHot(n: number, classes: number, target: number): Tensor {
  const data = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) data[i * classes + target] = 1;
  return { data, dims: [n, classes] };
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
  const s = imageView(input.dims, spec.layout);
  const { plane, channelStride: cs, pixelStride: ps } = s;
  const out = new Float32Array(input.data.length);
  // spec.mean/std are indexed by the tensor's channel, as preprocess normalises (BGR models included).
  const pixel = (c: number, p: number) => (p / 255 - spec.mean[c]) / spec.std[c];
  switch (type) {
    case 'black':
    case 'white':
      for (let c = 0; c < s.channels; c++)
        for (let i = 0; i < plane; i++) out[c * cs + i * ps] = pixel(c, type === 'black' ? 0 : 255);
      return out;
    case 'noise':
      // Pixel by pixel, channels innermost: the draws' order (and so every seeded baseline) is the same in
      // both layouts.
      for (let i = 0; i < plane; i++)
        for (let c = 0; c < s.channels; c++) out[c * cs + i * ps] = pixel(c, rng.next() * 255);
      return out;
    case 'blur': {
      const sigma = 0.05 * Math.min(s.width, s.height);
      return fromPlanes(gaussianBlur(toPlanes(input.data, s), s.channels, s.width, s.height, sigma), s);
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
