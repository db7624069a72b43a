import type { AttributionMap } from '../../core/attribution.js';
import { runBatched } from '../../core/batch.js';
import { imageView } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { targetValues } from '../../core/scores.js';
import { batchLike } from '../../core/tensor.js';
import { applyMasks } from './masking.js';

export interface OcclusionOptions extends MethodOptions {
  /** Side of the square window in model-input pixels; 0 picks about 1/8 of the shorter side. */
  window: number;
  /** Step between windows; 0 picks half the window. */
  stride: number;
  /** Value the window is filled with, in the model's normalised input space (0 = the dataset mean). */
  baseline: number;
}

/**
 * Occlusion (Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014).
 * A window slides over the input and is filled with the baseline; each pixel's attribution is the mean drop
 * in the target class's probability over the windows that covered it:
 *   A(p) = (1 / |W_p|) Σ_{w ∈ W_p} [f(x) − f(x with w occluded)]
 * Positive values mark regions whose removal lowers the score. Windows always reach the image's last
 * row and column (the final window is aligned to the edge), so every pixel is covered.
 * Defaults: window ≈ 1/8 of the shorter side, stride = window / 2, baseline 0. Output: H × W, signed.
 * Cost: one pass for the original plus one per window position.
 */
export const occlusion: AttributionMethod<OcclusionOptions> = {
  id: 'occlusion',
  title: 'Occlusion',
  description:
    'Slides a grey window over the photo and measures how much the score drops (black-box, exact).',
  requires: ['predict'],
  random: false,
  defaults: { window: 0, stride: 0, baseline: 0 },
  options: {
    window: {
      type: 'int',
      min: 0,
      description: 'window side in model-input pixels (0 = about 1/8 of the image)',
    },
    stride: { type: 'int', min: 0, description: 'step between windows in pixels (0 = half the window)' },
    baseline: { type: 'number', description: 'fill value in normalised input space (0 = mean grey)' },
  },
  passes(options, size) {
    const { xs, ys } = positions(options, size.width, size.height);
    return xs.length * ys.length + 1;
  },
  async attribute(input: MethodInput, options: OcclusionOptions): Promise<AttributionMap> {
    const s = imageView(input.input.dims, input.model.spec.layout);
    const { window, xs, ys } = positions(options, s.width, s.height);
    const plane = s.width * s.height;
    const windows: { x: number; y: number }[] = [];
    for (const y of ys) for (const x of xs) windows.push({ x, y });
    const deltas = new Float32Array(windows.length);
    let reference = Number.NaN;
    // Index 0 is the unoccluded image, so the reference comes out of the same batched calls.
    await runBatched(input.model, {
      total: windows.length + 1,
      signal: input.signal,
      onProgress: input.onProgress,
      build(start, end) {
        const masks = new Float32Array((end - start) * plane).fill(1);
        for (let i = start; i < end; i++) {
          if (i === 0) continue;
          const { x, y } = windows[i - 1];
          const m = masks.subarray((i - start) * plane, (i - start + 1) * plane);
          for (let yy = y; yy < y + window.h; yy++) m.fill(0, yy * s.width + x, yy * s.width + x + window.w);
        }
        const batch = batchLike(input.input, end - start);
        applyMasks(input.input.data, s, masks, end - start, options.baseline, batch.data);
        return batch;
      },
      consume(scores, start, end) {
        const p = targetValues(scores, input.model.spec, input.target);
        for (let i = start; i < end; i++) {
          const score = p[i - start];
          if (i === 0) reference = score;
          else deltas[i - 1] = score;
        }
      },
    });
    const sum = new Float32Array(plane);
    const count = new Float32Array(plane);
    windows.forEach(({ x, y }, i) => {
      const d = reference - deltas[i];
      for (let yy = y; yy < y + window.h; yy++) {
        for (let xx = x; xx < x + window.w; xx++) {
          sum[yy * s.width + xx] += d;
          count[yy * s.width + xx] += 1;
        }
      }
    });
    for (let i = 0; i < plane; i++) sum[i] = count[i] > 0 ? sum[i] / count[i] : 0;
    return { width: s.width, height: s.height, data: sum, signed: true };
  },
};

function positions(options: OcclusionOptions, width: number, height: number) {
  const side = options.window > 0 ? options.window : Math.max(1, Math.round(Math.min(width, height) / 8));
  const w = Math.min(side, width);
  const h = Math.min(side, height);
  const stride = options.stride > 0 ? options.stride : Math.max(1, Math.floor(side / 2));
  return { window: { w, h }, xs: starts(width, w, stride), ys: starts(height, h, stride) };
}

function starts(size: number, window: number, stride: number): number[] {
  const out: number[] = [];
  for (let p = 0; p + window < size; p += stride) out.push(p);
  out.push(size - window);
  return out;
}
