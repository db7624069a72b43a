import { invalidArgument } from './errors.js';

export type Layout = 'NCHW' | 'NHWC';

/**
 * Where the values of a batch of images lie in a [N, C, H, W] or [N, H, W, C] tensor: the one place that knows
 * the layouts. Value (n, c, y, x) sits at n · size + c · channelStride + (y · width + x) · pixelStride, so
 * loops over pixels and channels are written once, for both layouts, with no branch inside.
 */
export interface ImageView {
  readonly layout: Layout;
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** height × width: pixels per image. */
  readonly plane: number;
  /** channels × plane: values per image. */
  readonly size: number;
  /** Step between channels of one pixel: plane (NCHW) or 1 (NHWC). */
  readonly channelStride: number;
  /** Step between neighbouring pixels of one channel: 1 (NCHW) or channels (NHWC). */
  readonly pixelStride: number;
}

/** The view of a rank-4 image tensor's dims in the given layout. */
export function imageView(dims: readonly number[], layout: Layout): ImageView {
  if (dims.length !== 4) {
    throw invalidArgument('dims', `a rank-4 image tensor in ${layout} layout`, dims);
  }
  const [batch, a, b, c] = dims;
  const [channels, height, width] = layout === 'NCHW' ? [a, b, c] : [c, a, b];
  const plane = height * width;
  return {
    layout,
    batch,
    channels,
    height,
    width,
    plane,
    size: channels * plane,
    channelStride: layout === 'NCHW' ? plane : 1,
    pixelStride: layout === 'NCHW' ? 1 : channels,
  };
}

/** The view of a method's input: its dims in the layout the model's spec declares. */
export function inputView(input: {
  readonly input: { readonly dims: readonly number[] };
  readonly model: { readonly spec: { readonly layout: Layout } };
}): ImageView {
  return imageView(input.input.dims, input.model.spec.layout);
}

/** The dims of `batch` images of the given size in a layout: [N, C, H, W] or [N, H, W, C]. */
export function imageDims(
  layout: Layout,
  channels: number,
  height: number,
  width: number,
  batch = 1,
): number[] {
  return layout === 'NCHW' ? [batch, channels, height, width] : [batch, height, width, channels];
}

/** Image `n` of the tensor as channel planes (C × H × W, planar), whatever the layout. */
export function toPlanes(data: Float32Array, view: ImageView, n = 0): Float32Array {
  const image = data.subarray(n * view.size, (n + 1) * view.size);
  if (view.layout === 'NCHW') return Float32Array.from(image);
  const out = new Float32Array(view.size);
  const { plane, channels } = view;
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < plane; i++) out[c * plane + i] = image[i * channels + c];
  return out;
}

/** Channel planes (C × H × W) back to one image in the view's layout: the inverse of toPlanes. */
export function fromPlanes(planes: Float32Array, view: ImageView): Float32Array {
  if (view.layout === 'NCHW') return Float32Array.from(planes.subarray(0, view.size));
  const out = new Float32Array(view.size);
  const { plane, channels } = view;
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < plane; i++) out[i * channels + c] = planes[c * plane + i];
  return out;
}

/**
 * One value per pixel of image 0 from its channels: 'sum' keeps the sign, 'max' is the largest value,
 * 'max-abs' the largest magnitude.
 */
export function reduceChannels(
  data: Float32Array,
  view: ImageView,
  how: 'sum' | 'max' | 'max-abs',
): Float32Array {
  const { plane, channels, channelStride: cs, pixelStride: ps } = view;
  const out = new Float32Array(plane).fill(how === 'max' ? Number.NEGATIVE_INFINITY : 0);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) {
      const v = data[c * cs + i * ps];
      out[i] = how === 'sum' ? out[i] + v : Math.max(out[i], how === 'max' ? v : Math.abs(v));
    }
  }
  return out;
}
