import { invalidArgument } from './errors.js';
import type { RgbImage } from './image.js';
import type { ModelSpec } from './model.js';
import type { Tensor } from './tensor.js';

/**
 * A one-image model input back to RGB pixels in 0..255: the inverse of preprocess's toModelLayout (layout,
 * channel order, (pixel / 255 − mean) / std), rounded and clamped to bytes. Methods that look at the photo's
 * colours (superpixels) read the image they explain this way, so they see exactly what the model sees.
 */
export function inputToRgb(
  input: Tensor,
  spec: Pick<ModelSpec, 'layout' | 'channelOrder' | 'mean' | 'std'>,
): RgbImage {
  const [n, a, b, c] = input.dims;
  const [channels, height, width] = spec.layout === 'NCHW' ? [a, b, c] : [c, a, b];
  if (input.dims.length !== 4 || n !== 1 || channels !== 3) {
    throw invalidArgument(
      'input',
      `one image with 3 channels in ${spec.layout} layout`,
      `dims [${input.dims.join(', ')}]`,
    );
  }
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let ch = 0; ch < 3; ch++) {
    // Tensor channel ch holds colour ch (RGB) or 2 − ch (BGR); mean and std are indexed by tensor channel.
    const colour = spec.channelOrder === 'RGB' ? ch : 2 - ch;
    const mean = spec.mean[ch];
    const std = spec.std[ch];
    for (let i = 0; i < plane; i++) {
      const v = spec.layout === 'NCHW' ? input.data[ch * plane + i] : input.data[i * 3 + ch];
      out[i * 3 + colour] = Math.min(255, Math.max(0, Math.round((v * std + mean) * 255)));
    }
  }
  return { width, height, data: out };
}
