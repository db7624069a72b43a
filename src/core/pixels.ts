import { invalidArgument } from './errors.js';
import type { RgbImage } from './image.js';
import { type ImageView, imageView } from './image-tensor.js';
import type { ModelSpec } from './model.js';
import type { Tensor } from './tensor.js';

/** The part of a spec that says how pixels became model inputs. */
export type PixelSpec = Pick<ModelSpec, 'layout' | 'channelOrder' | 'mean' | 'std'>;

/**
 * Image `index` of a batch of model inputs back to RGB pixels in 0..255, row-major H × W × 3: the inverse of
 * preprocess's toModelLayout (layout, channel order, (pixel / 255 − mean) / std), each channel rounded to the
 * nearest byte and clamped: p = round(v · (255 · std) + 255 · mean). Scaling std and mean by 255 first keeps
 * the common "pixel − mean" normalisations exact (the HTTP default, mean 128/255 and std 1/255, gives
 * p = v + 128 with no float error), so half-way values round the way they would on integers.
 * Width and height come from the tensor's dims.
 */
export function batchImageToRgb(batch: Tensor, index: number, spec: PixelSpec): RgbImage {
  const view = rgbView(batch, spec);
  if (!view) {
    throw invalidArgument(
      'batch',
      `images with 3 channels in ${spec.layout} layout`,
      `dims [${batch.dims.join(', ')}]`,
    );
  }
  const { batch: n, width, height, plane, size, channelStride: cs, pixelStride: ps } = view;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw invalidArgument('index', `an image of the batch, 0..${n - 1}`, index);
  }
  const x = batch.data.subarray(index * size, (index + 1) * size);
  const out = new Uint8Array(plane * 3);
  for (let ch = 0; ch < 3; ch++) {
    // Tensor channel ch holds colour ch (RGB) or 2 − ch (BGR); mean and std are indexed by tensor channel.
    const colour = spec.channelOrder === 'RGB' ? ch : 2 - ch;
    const scale = 255 * spec.std[ch];
    const offset = 255 * spec.mean[ch];
    for (let i = 0; i < plane; i++) {
      const v = x[ch * cs + i * ps];
      out[i * 3 + colour] = Math.min(255, Math.max(0, Math.round(v * scale + offset)));
    }
  }
  return { width, height, data: out };
}

/**
 * A one-image model input back to RGB pixels (batchImageToRgb of image 0). Methods that look at the photo's
 * colours (superpixels) read the image they explain this way, so they see exactly what the model sees.
 */
export function inputToRgb(input: Tensor, spec: PixelSpec): RgbImage {
  if (rgbView(input, spec)?.batch !== 1) {
    throw invalidArgument(
      'input',
      `one image with 3 channels in ${spec.layout} layout`,
      `dims [${input.dims.join(', ')}]`,
    );
  }
  return batchImageToRgb(input, 0, spec);
}

/** The view of `t` when it holds images of 3 channels in the spec's layout; undefined otherwise. */
function rgbView(t: Tensor, spec: PixelSpec): ImageView | undefined {
  if (t.dims.length !== 4) return undefined;
  const view = imageView(t.dims, spec.layout);
  return view.channels === 3 ? view : undefined;
}
