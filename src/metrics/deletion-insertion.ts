// Faithfulness of a map to the model: does removing what the map calls important destroy the score, and does
// restoring it bring the score back? Pure TypeScript over the model interface, for Node and the browser alike.
import type { AttributionMap } from '../core/attribution.js';
import { runBatched } from '../core/batch.js';
import { gaussianBlur } from '../core/blur.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import { fromPlanes, type ImageView, imageDims, imageView, toPlanes } from '../core/image-tensor.js';
import type { Model, ModelSpec } from '../core/model.js';
import { toModelLayout } from '../core/preprocess.js';
import type { ProgressCallback } from '../core/progress.js';
import { targetValues } from '../core/scores.js';
import { batchLike, type Tensor } from '../core/tensor.js';
import { assertFinite } from '../core/values.js';
import { validateMap } from './region.js';

/** What deleted pixels become in the deletion curve (see DeletionInsertionOptions.baseline). */
export const DELETION_BASELINES = ['zero', 'black', 'blur'] as const;
export type DeletionBaseline = (typeof DELETION_BASELINES)[number];

/** The reference implementation's insertion blur, `gkern(11, 5)`: an 11 × 11 Gaussian of σ = 5 pixels. */
export const INSERTION_BLUR_KERNEL = 11;
export const INSERTION_BLUR_SIGMA = 5;

export interface DeletionInsertionInput {
  readonly model: Model;
  /** One preprocessed image, batch axis of 1, in the model's layout and normalisation ([1, 3, H, W] or [1, H, W, 3]). */
  readonly input: Tensor;
  /** The map to judge, at the model's input resolution (spec.width × spec.height). */
  readonly map: AttributionMap;
  /** Index of the output score whose value (a probability, or a raw score) the curves follow. */
  readonly target: number;
}

export interface DeletionInsertionOptions {
  /**
   * Number of steps; step i changes the first round(i · P / steps) pixels of the order (P = width · height),
   * so the steps differ by at most one pixel. Give this or `stepPixels`, not both.
   */
  readonly steps?: number;
  /**
   * Pixels changed per step; the last step changes what is left (it may be smaller). Default: `width`, one
   * image row's worth per step and so `height` steps, as the reference implementation's 224 on 224² inputs.
   */
  readonly stepPixels?: number;
  /**
   * What deleted pixels become: 'zero' (default) is 0 in the normalised space, the dataset's mean colour;
   * 'black' is a black pixel (0) normalised by the spec's mean and std, channel by channel, exactly as
   * preprocessing would give it; 'blur' is the insertion curve's blurred copy of the image.
   */
  readonly baseline?: DeletionBaseline;
  /** Side of the insertion curve's Gaussian kernel, an odd number of pixels. Default 11. */
  readonly blurKernel?: number;
  /** σ of the insertion curve's Gaussian, in pixels. Default 5. */
  readonly blurSigma?: number;
  readonly signal?: AbortSignal;
  /** Reports model passes: 2 · (steps + 1) in all. */
  readonly onProgress?: ProgressCallback;
  /** Caps the batch below the model's own maxBatch. */
  readonly batchSize?: number;
}

export interface Curve {
  /** Area under the curve by the trapezoidal rule over `fractions`; in [0, 1] for probabilities. */
  readonly auc: number;
  /** The target's value after each step, step 0 (nothing changed yet) first. */
  readonly scores: number[];
  /** The share of pixels changed at each step, from 0 to 1. */
  readonly fractions: number[];
}

export interface DeletionInsertion {
  /** Starts from the image and replaces pixels, most salient first, with the baseline: lower AUC is better. */
  readonly deletion: Curve;
  /** Starts from a blurred copy and restores pixels, most salient first: higher AUC is better. */
  readonly insertion: Curve;
}

/**
 * Deletion and insertion (Petsiuk, Das & Saenko, "RISE: Randomized Input Sampling for Explanation of
 * Black-box Models", BMVC 2018, §4.2 and the authors' `CausalMetric`): pixels are ordered by the map's value,
 * highest first (ties by pixel index, row-major), and changed a step at a time; a pixel is one position with
 * all its channels. Deletion starts from the image and sets them to the baseline; insertion starts from a
 * blurred copy and restores them. After each step (and before the first) the target's value is recorded as
 * core/scores.ts targetValues reads it: a class's or a tag's probability, a score's raw value (whose AUC is
 * then in the score's own units). AUC is the trapezoidal rule over the share of pixels changed, which for
 * equal steps is the reference's (Σ scores − (first + last) / 2) / (n − 1); an uneven last step is weighted by its size.
 *
 * The blur is the insertion baseline of the reference (`gkern(11, 5)`): a Gaussian of σ = blurSigma cut to
 * blurKernel × blurKernel, per channel, on the normalised input, through core/blur.ts. Two differences from
 * the reference, both at most a few per cent of a blurred value: the kernel is the truncated Gaussian
 * renormalised to sum 1 (the reference folds the tails of scipy's `gaussian_filter` back into the window), and
 * the image edges are reflected rather than padded with zeros (the reference darkens a 5-pixel border towards
 * the mean colour).
 *
 * Cost: 2 · (steps + 1) model passes (225 · 2 = 450 for a 224² input by default), batched by the model's
 * maxBatch. Throws INVALID_ARGUMENT for an input not shaped as the model's spec, a map of another size than
 * the model's input, a map holding NaN or ±Infinity, a target that is no class index, and bad options.
 */
export async function deletionInsertion(
  input: DeletionInsertionInput,
  options: DeletionInsertionOptions = {},
): Promise<DeletionInsertion> {
  const { model, map, target } = input;
  const spec = model.spec;
  const image = validateInput(input.input, spec);
  validateMap(map, 'map');
  if (map.width !== spec.width || map.height !== spec.height) {
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `Argument 'map' must be at the model's input resolution ${spec.width}×${spec.height}; got a ` +
        `${map.width}×${map.height} map (width×height).`,
      { argument: 'map', expected: [spec.width, spec.height], got: [map.width, map.height] },
    );
  }
  assertFinite(map.data, 'map');
  if (!Number.isInteger(target) || target < 0) {
    throw invalidArgument('target', 'a class index (an integer ≥ 0)', target);
  }
  const pixels = spec.width * spec.height;
  const counts = stepCounts(pixels, spec.width, options);
  const baseline = options.baseline ?? 'zero';
  if (!DELETION_BASELINES.includes(baseline)) {
    throw invalidArgument('baseline', `one of ${DELETION_BASELINES.join(', ')}`, baseline);
  }
  const kernel = options.blurKernel ?? INSERTION_BLUR_KERNEL;
  if (!(Number.isInteger(kernel) && kernel >= 1 && kernel % 2 === 1)) {
    throw invalidArgument('blurKernel', 'an odd number of pixels ≥ 1', kernel);
  }
  const sigma = options.blurSigma ?? INSERTION_BLUR_SIGMA;
  if (typeof sigma !== 'number' || !(sigma > 0) || !Number.isFinite(sigma)) {
    throw invalidArgument('blurSigma', 'a finite number of pixels > 0', sigma);
  }

  const order = salienceOrder(map.data);
  const view = imageView(input.input.dims, spec.layout);
  const blurred = blurImage(image, view, sigma, (kernel - 1) / 2);
  const deleted =
    baseline === 'blur'
      ? blurred
      : baseline === 'black'
        ? toModelLayout(new Float32Array(3 * pixels), spec).data
        : new Float32Array(image.length);
  // Deletion: image → baseline; insertion: blurred → image. One model input per step and curve.
  const curves = [
    { from: image, to: deleted },
    { from: blurred, to: image },
  ];
  const n = counts.length;
  const probabilities = new Float64Array(2 * n);
  await runBatched(model, {
    total: 2 * n,
    signal: options.signal,
    onProgress: options.onProgress,
    batchSize: options.batchSize,
    build(start, end) {
      const batch = batchLike(input.input, end - start);
      for (let j = start; j < end; j++) {
        const { from, to } = curves[j < n ? 0 : 1];
        const out = batch.data.subarray((j - start) * image.length, (j - start + 1) * image.length);
        out.set(from);
        copyPixels(to, out, order, counts[j % n], view);
      }
      return batch;
    },
    consume(scores, start) {
      const classes = scores.dims[1];
      if (target >= classes)
        throw invalidArgument('target', `a class index from 0 to ${classes - 1}`, target);
      const p = targetValues(scores, spec, target);
      probabilities.set(p, start);
    },
  });
  const fractions = Array.from(counts, (c) => c / pixels);
  return {
    deletion: curve(probabilities.subarray(0, n), fractions),
    insertion: curve(probabilities.subarray(n), fractions),
  };
}

/** The image's data, after checking it is one image shaped as the spec says. */
function validateInput(input: Tensor, spec: ModelSpec): Float32Array {
  const expected = imageDims(spec.layout, 3, spec.height, spec.width);
  const dims = input?.dims;
  if (
    !(input?.data instanceof Float32Array) ||
    !Array.isArray(dims) ||
    dims.length !== 4 ||
    dims.some((d, i) => d !== expected[i]) ||
    input.data.length !== 3 * spec.width * spec.height
  ) {
    throw invalidArgument(
      'input',
      `one preprocessed image shaped as the model's spec, [${expected.join(', ')}] (${spec.layout})`,
      dims,
    );
  }
  return input.data;
}

/** Cumulative pixels changed at each step, from 0 to `pixels`. */
function stepCounts(pixels: number, width: number, options: DeletionInsertionOptions): number[] {
  if (options.steps !== undefined && options.stepPixels !== undefined) {
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `Arguments 'steps' and 'stepPixels' both say how far each step goes; give one of them (got steps ` +
        `${options.steps} and stepPixels ${options.stepPixels}).`,
      { argument: 'steps', steps: options.steps, stepPixels: options.stepPixels },
    );
  }
  if (options.steps !== undefined) {
    const steps = options.steps;
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= pixels)) {
      throw invalidArgument('steps', `an integer from 1 to the input's ${pixels} pixels`, steps);
    }
    return Array.from({ length: steps + 1 }, (_, i) => Math.round((i * pixels) / steps));
  }
  const size = options.stepPixels ?? width;
  if (!(Number.isInteger(size) && size >= 1)) {
    throw invalidArgument('stepPixels', 'an integer number of pixels ≥ 1', size);
  }
  const steps = Math.ceil(pixels / size);
  return Array.from({ length: steps + 1 }, (_, i) => Math.min(pixels, i * size));
}

/** Pixel indices by value, highest first; equal values in index order. */
function salienceOrder(values: Float32Array): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => values[b] - values[a] || a - b);
}

/** Copies the first `count` pixels of `order`, every channel, from `src` into `out`. */
function copyPixels(
  src: Float32Array,
  out: Float32Array,
  order: Uint32Array,
  count: number,
  view: ImageView,
): void {
  const { channelStride: cs, pixelStride: ps } = view;
  for (let k = 0; k < count; k++) {
    const p = order[k] * ps;
    out[p] = src[p];
    out[p + cs] = src[p + cs];
    out[p + 2 * cs] = src[p + 2 * cs];
  }
}

/** The image blurred per channel in the normalised space, in the model's layout. */
function blurImage(image: Float32Array, view: ImageView, sigma: number, radius: number): Float32Array {
  const blurred = gaussianBlur(toPlanes(image, view), 3, view.width, view.height, sigma, radius);
  return fromPlanes(blurred, view);
}

function curve(probabilities: Float64Array, fractions: number[]): Curve {
  const scores = Array.from(probabilities);
  let auc = 0;
  for (let i = 1; i < scores.length; i++) {
    auc += ((fractions[i] - fractions[i - 1]) * (scores[i] + scores[i - 1])) / 2;
  }
  return { auc, scores, fractions };
}
