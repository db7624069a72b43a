import { runBatched } from '../../core/batch.js';
import { inputView } from '../../core/image-tensor.js';
import type { MethodInput, OptionSpec } from '../../core/method.js';
import { inputToRgb } from '../../core/pixels.js';
import { createRng } from '../../core/random.js';
import { targetValues } from '../../core/scores.js';
import { batchLike } from '../../core/tensor.js';
import { baseline as referenceInput } from '../gradient/common.js';
import { type Segmentation, slic } from './slic.js';

/** What hides a segment that a sample switches off. */
export const FILLS = ['baseline', 'blur', 'mean'] as const;
export type Fill = (typeof FILLS)[number];

/** The options every superpixel method shares (one CLI flag each, one meaning). */
export interface SuperpixelOptions {
  segments: number;
  compactness: number;
  fill: Fill;
  baseline: number;
}

export const SUPERPIXEL_DEFAULTS: SuperpixelOptions = {
  segments: 50,
  compactness: 10,
  fill: 'baseline',
  baseline: 0,
};

export const SUPERPIXEL_OPTIONS: Record<keyof SuperpixelOptions, OptionSpec> = {
  segments: { type: 'int', min: 1, description: 'about how many SLIC superpixels to split the photo into' },
  compactness: {
    type: 'number',
    min: 0.01,
    description: 'SLIC compactness m: higher = squarer superpixels, lower = closer to colour edges',
  },
  fill: {
    type: 'choice',
    choices: FILLS,
    description:
      "what replaces a switched-off superpixel: the --baseline value, a blurred copy of the photo, or the superpixel's mean colour",
  },
  baseline: { type: 'number', description: 'fill value in normalised input space (0 = mean grey)' },
};

/** SLIC superpixels of the image the model sees (its input turned back into pixels). */
export function segmentInput(input: MethodInput, options: SuperpixelOptions): Segmentation {
  return slic(inputToRgb(input.input, input.model.spec), {
    segments: options.segments,
    compactness: options.compactness,
  });
}

/**
 * The input with every superpixel switched off, in the model's normalised space: the constant baseline,
 * the blurred input (σ = 5% of the shorter side, as integrated gradients' blur baseline), or each
 * superpixel's mean value (the lime package's default, which hides texture but keeps the rough colours).
 */
export function offImage(input: MethodInput, seg: Segmentation, options: SuperpixelOptions): Float32Array {
  const x = input.input;
  const spec = input.model.spec;
  if (options.fill === 'baseline') return new Float32Array(x.data.length).fill(options.baseline);
  if (options.fill === 'blur') return referenceInput('blur', x, spec, createRng(0));
  const { plane, channels, channelStride: cs, pixelStride: ps } = inputView(input);
  const sums = new Float64Array(seg.count * channels);
  const counts = new Float64Array(seg.count);
  for (let i = 0; i < plane; i++) {
    const l = seg.labels[i];
    counts[l]++;
    for (let c = 0; c < channels; c++) sums[l * channels + c] += x.data[c * cs + i * ps];
  }
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < plane; i++) {
    const l = seg.labels[i];
    for (let c = 0; c < channels; c++) out[c * cs + i * ps] = sums[l * channels + c] / counts[l];
  }
  return out;
}

/**
 * The target's probability for each on/off vector over the superpixels (`states`: count × M, 1 = the
 * segment shows the photo, 0 = the off image), in batched model calls with progress and cancellation.
 */
export async function scoreStates(
  input: MethodInput,
  seg: Segmentation,
  off: Float32Array,
  states: Uint8Array,
  count: number,
): Promise<Float64Array> {
  const x = input.input;
  const { plane, size, channels, channelStride: cs, pixelStride: ps } = inputView(input);
  const m = seg.count;
  const scores = new Float64Array(count);
  await runBatched(input.model, {
    total: count,
    signal: input.signal,
    onProgress: input.onProgress,
    build(start, end) {
      const batch = batchLike(x, end - start);
      for (let k = start; k < end; k++) {
        const on = states.subarray(k * m, (k + 1) * m);
        const out = batch.data.subarray((k - start) * size, (k - start + 1) * size);
        for (let i = 0; i < plane; i++) {
          const src = on[seg.labels[i]] ? x.data : off;
          for (let c = 0; c < channels; c++) out[c * cs + i * ps] = src[c * cs + i * ps];
        }
      }
      return batch;
    },
    consume(result, start, end) {
      const p = targetValues(result, input.model.spec, input.target);
      for (let k = start; k < end; k++) scores[k] = p[k - start];
    },
  });
  return scores;
}

/** Paints each pixel with its superpixel's value. */
export function paintSegments(seg: Segmentation, values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(seg.labels.length);
  for (let i = 0; i < out.length; i++) out[i] = values[seg.labels[i]];
  return out;
}

/**
 * Solves the symmetric positive (semi)definite system A·x = b (A: n × n, row-major, float64) by Cholesky.
 * A singular A (too few samples to pin down every segment) gets a tiny ridge, 1e-10 of its largest diagonal,
 * which tends to the minimum-norm least-squares solution, as numpy's lstsq would give.
 */
export function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const plain = cholesky(a, b, n, 0);
  if (plain) return plain;
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, a[i * n + i]);
  return cholesky(a, b, n, Math.max(largest, 1) * 1e-10) ?? new Float64Array(n);
}

function cholesky(a: Float64Array, b: Float64Array, n: number, jitter: number): Float64Array | null {
  const l = new Float64Array(n * n);
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs(a[i * n + i]));
  // Pivots below this are rounding noise: the matrix is singular in that direction.
  const tiny = Math.max(largest, 1e-300) * 1e-13;
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j] + jitter;
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > tiny)) return null;
    const root = Math.sqrt(d);
    l[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / root;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}
