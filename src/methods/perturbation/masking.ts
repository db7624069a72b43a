import type { ImageView } from '../../core/image-tensor.js';

/**
 * Writes count copies of the one-image input `x` (laid out as `view` says) into `out`, each blended with a
 * constant baseline through one mask plane: x·m + baseline·(1 − m). Masks are count × H × W in [0, 1], shared
 * by all channels.
 */
export function applyMasks(
  x: Float32Array,
  view: ImageView,
  masks: Float32Array,
  count: number,
  baseline: number,
  out: Float32Array,
): void {
  const { plane, size, channels, channelStride: cs, pixelStride: ps } = view;
  for (let n = 0; n < count; n++) {
    const m = masks.subarray(n * plane, (n + 1) * plane);
    const o = n * size;
    for (let c = 0; c < channels; c++) {
      for (let i = 0, j = c * cs; i < plane; i++, j += ps) out[o + j] = baseline + m[i] * (x[j] - baseline);
    }
  }
}
