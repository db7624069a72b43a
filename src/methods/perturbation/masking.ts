import type { Tensor } from '../../core/tensor.js';

export interface Spatial {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly layout: 'NCHW' | 'NHWC';
}

/** Height, width and channels of a one-image input in the given layout. */
export function spatialOf(input: Tensor, layout: 'NCHW' | 'NHWC'): Spatial {
  const [, a, b, c] = input.dims;
  return layout === 'NCHW'
    ? { channels: a, height: b, width: c, layout }
    : { height: a, width: b, channels: c, layout };
}

/**
 * Writes count copies of the one-image input into `out`, each blended with a constant baseline through one
 * mask plane: x·m + baseline·(1 − m). Masks are count × H × W in [0, 1], shared by all channels.
 */
export function applyMasks(
  input: Tensor,
  s: Spatial,
  masks: Float32Array,
  count: number,
  baseline: number,
  out: Float32Array,
): void {
  const plane = s.width * s.height;
  const x = input.data;
  for (let n = 0; n < count; n++) {
    const m = masks.subarray(n * plane, (n + 1) * plane);
    const o = n * plane * s.channels;
    if (s.layout === 'NCHW') {
      for (let c = 0; c < s.channels; c++) {
        const off = c * plane;
        for (let i = 0; i < plane; i++) out[o + off + i] = baseline + m[i] * (x[off + i] - baseline);
      }
    } else {
      for (let i = 0; i < plane; i++) {
        const mi = m[i];
        for (let c = 0; c < s.channels; c++) {
          const j = i * s.channels + c;
          out[o + j] = baseline + mi * (x[j] - baseline);
        }
      }
    }
  }
}

/** A batch tensor of `count` images with the input's per-image shape. */
export function batchDims(input: Tensor, count: number): number[] {
  return [count, ...input.dims.slice(1)];
}
