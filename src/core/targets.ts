/**
 * Targets that are a function of a model's outputs (issue 13), defined once: a segmentation class summed over
 * a region of the output grid (as pytorch-grad-cam's SemanticSegmentationTarget), and the cosine similarity of
 * an embedding to a reference vector. This file evaluates them in TypeScript (predict-only models, the
 * black-box methods through withTarget); engines/onnx/target-head.ts writes the same definitions as an ONNX
 * head that the autodiff differentiates through. Both read the weights built here (targetWeights), so they
 * cannot drift apart; a test holds them to each other. A class or a tag is not here: it stays an index into
 * the scores (core/scores.ts).
 */
import { SightlineError } from './errors.js';
import type { Model, ModelSpec } from './model.js';
import { type Geometry, inputToImage } from './preprocess.js';
import type { Tensor } from './tensor.js';

/** Σ over the region's pixels of the class-`channel` output (a logit, or a probability where the model ends so). */
export interface SegmentTarget {
  readonly kind: 'segment';
  /** The class c. */
  readonly channel: number;
  /** The output's [C, h, w] after the batch. */
  readonly shape: readonly [number, number, number];
  /** 1 where an output pixel is in the region, h·w values row-major. */
  readonly mask: Uint8Array;
}

/** cos(embedding, reference) = (e · r̂) / √(e · e + ε). */
export interface SimilarityTarget {
  readonly kind: 'similarity';
  /** The reference vector, length D (any length; it is normalised here). */
  readonly reference: Float32Array;
}

/**
 * Σ of the outputs where `weights` is 1 (a fixed mask over one image's flattened output): a detection's
 * class-c score summed over the anchors whose boxes overlap it (models/detect-target.ts), which the head
 * differentiates for gradient and CAM methods.
 */
export interface MaskedSumTarget {
  readonly kind: 'masked-sum';
  /** One weight per output value of an image (the output flattened after the batch). */
  readonly weights: Float32Array;
  /** What the sum is over, in words, for error messages. */
  readonly what: string;
}

export type OutputTarget = SegmentTarget | SimilarityTarget | MaskedSumTarget;

/**
 * Added under the square root so an all-zero embedding gives 0 instead of 0/0 (and a finite gradient);
 * a real embedding's squared norm is many orders above it.
 */
export const COSINE_EPSILON = 1e-12;

/** A segment target, checked against the output's shape; an empty region is refused in words. */
export function segmentTarget(
  shape: readonly number[] | undefined,
  channel: number,
  mask: Uint8Array,
): SegmentTarget {
  const [c, h, w] = segmentShape(shape);
  if (!Number.isInteger(channel) || channel < 0 || channel >= c)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The segmentation class must be an index from 0 to ${c - 1}; got ${channel}.`,
    );
  if (mask.length !== h * w)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `A region over a ${w} × ${h} output must have ${w * h} pixels; got ${mask.length}.`,
    );
  if (!mask.some((v) => v !== 0))
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The region covers no pixel of the model's ${w} × ${h} output grid, so there is nothing to explain; give a larger --region, or a class the model finds in the photo.`,
      { channel },
    );
  return { kind: 'segment', channel, shape: [c, h, w], mask };
}

/** A segmenter's [C, h, w], or a refusal that says why it is not known. */
export function segmentShape(shape: readonly number[] | undefined): [number, number, number] {
  if (shape?.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1))
    throw new SightlineError(
      'MODEL_SHAPE',
      `A segmentation target needs the model's output as [N, C, h, w]; its output is ${shape ? `[N, ${shape.join(', ')}]` : 'of unknown shape'}.`,
    );
  return [shape[0], shape[1], shape[2]];
}

/**
 * A similarity target; the reference must be `dimensions` finite numbers, not all zero. `what` names it in
 * refusals: a vector the user gave, or the embedding of the reference photo the model made.
 */
export function similarityTarget(
  reference: ArrayLike<number>,
  dimensions: number,
  what = 'The reference vector',
): SimilarityTarget {
  if (reference.length !== dimensions)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `${what} has ${reference.length} numbers; this model's embedding has ${dimensions}.`,
      { got: reference.length, expected: dimensions },
    );
  let norm = 0;
  for (let i = 0; i < reference.length; i++) {
    if (!Number.isFinite(reference[i]))
      throw new SightlineError(
        'INVALID_ARGUMENT',
        `${what} holds ${reference[i]} at position ${i}; expected finite numbers.`,
      );
    norm += reference[i] * reference[i];
  }
  if (norm === 0)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `${what} is all zeros; a cosine similarity to it is undefined.`,
    );
  return { kind: 'similarity', reference: Float32Array.from(reference) };
}

/** How many scores per image the target reads: C·h·w, or D. */
export function targetWidth(target: OutputTarget): number {
  if (target.kind === 'similarity') return target.reference.length;
  if (target.kind === 'masked-sum') return target.weights.length;
  const [c, h, w] = target.shape;
  return c * h * w;
}

/**
 * The linear part of each target, over one image's flattened output: the segment's mask placed at its
 * channel (C·h·w values), or the unit reference r̂ (D values). The ONNX head multiplies by these same numbers.
 */
export function targetWeights(target: OutputTarget): Float32Array {
  if (target.kind === 'masked-sum') return target.weights;
  if (target.kind === 'similarity') {
    const r = target.reference;
    let norm = 0;
    for (let i = 0; i < r.length; i++) norm += r[i] * r[i];
    norm = Math.sqrt(norm);
    return r.map((v) => v / norm);
  }
  const [, h, w] = target.shape;
  const out = new Float32Array(targetWidth(target));
  const offset = target.channel * h * w;
  for (let i = 0; i < h * w; i++) out[offset + i] = target.mask[i] ? 1 : 0;
  return out;
}

/** Each image's target scalar, [N, 1], from scores [N, K] (the output flattened after the batch). */
export function evaluateTarget(target: OutputTarget, scores: Tensor): Tensor {
  const [n, k] = scores.dims;
  if (k !== targetWidth(target))
    throw new SightlineError(
      'MODEL_OUTPUT',
      `The model gave ${k} values per image; the target expects ${targetWidth(target)} (${target.kind === 'segment' ? `its [C, h, w] = [${target.shape.join(', ')}]` : target.kind === 'masked-sum' ? target.what : "the reference's length"}).`,
    );
  const weights = targetWeights(target);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = scores.data.subarray(i * k, (i + 1) * k);
    let dot = 0;
    let squares = 0;
    for (let j = 0; j < k; j++) {
      dot += weights[j] * row[j];
      squares += row[j] * row[j];
    }
    out[i] = target.kind === 'similarity' ? dot / Math.sqrt(squares + COSINE_EPSILON) : dot;
  }
  return { data: out, dims: [n, 1] };
}

/**
 * A model whose single output is the target's scalar [N, 1], read raw (task 'score'), so every method explains
 * it unchanged with target 0 of 1. An engine that can append the target to its graph does (gradients and CAM
 * layers then work); any other model is wrapped here, predict-only, evaluating the same definition over its
 * predictions. `label` names the target in the new spec. The caller disposes the result; the plain model stays
 * open and is still the caller's.
 */
export async function withTarget(model: Model, target: OutputTarget, label: string): Promise<Model> {
  const spec = targetSpec(model.spec, label);
  if (model.withTargetHead) return model.withTargetHead(target, spec);
  return {
    spec,
    capabilities: new Set(['predict']),
    notes: model.notes,
    maxBatch: model.maxBatch,
    predict: async (batch, options) => evaluateTarget(target, await model.predict(batch, options)),
    dispose: async () => {},
  };
}

/** The spec of a model whose one output [N, 1] is a target's scalar, read raw, named `label`. */
export function targetSpec(spec: ModelSpec, label: string): ModelSpec {
  return { ...spec, task: 'score', outputs: 'logits', labels: [label], outputShape: [1] };
}

/** The class each output pixel is given (argmax over C), h·w values; ties go to the lower class. */
export function pixelClasses(row: ArrayLike<number>, shape: readonly [number, number, number]): Int32Array {
  const [c, h, w] = shape;
  const plane = h * w;
  const out = new Int32Array(plane);
  for (let p = 0; p < plane; p++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (row[k * plane + p] > row[best * plane + p]) best = k;
    out[p] = best;
  }
  return out;
}

/** Each class's share of the output pixels. */
export function classShares(classes: Int32Array, channels: number): Float64Array {
  const out = new Float64Array(channels);
  for (const k of classes) out[k] += 1 / classes.length;
  return out;
}

/** A box in photo pixels: x0 ≤ x < x1, y0 ≤ y < y1. */
export interface RegionBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** A photo-sized mask: nonzero = in the region (any channel of an RGB mask). */
export interface RegionMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** Values per pixel (3 for an RGB image). */
  readonly channels: number;
}

/** The model input's size, in its pixels: the output grid spans it, letterbox padding included. */
export interface InputSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Where each output pixel's centre falls in the photo: the output grid spans the model's input, which
 * preprocess filled from the photo by the geometry (a crop, a resize-then-crop, or a letterbox whose padding
 * maps outside the photo).
 */
function pixelCentres(g: Geometry, input: InputSize, h: number, w: number) {
  const { x0, y0, sx, sy } = inputToImage(g, input.width, input.height);
  return (i: number, j: number): [number, number] => [
    x0 + ((j + 0.5) * input.width * sx) / w,
    y0 + ((i + 0.5) * input.height * sy) / h,
  ];
}

/** The output pixels whose centres lie in a photo box; a box outside the photo is refused. */
export function boxRegion(
  box: RegionBox,
  geometry: Geometry,
  h: number,
  w: number,
  input: InputSize,
): Uint8Array {
  const { imageWidth: W, imageHeight: H } = geometry;
  const values = [box.x0, box.y0, box.x1, box.y1];
  if (
    values.some((v) => !Number.isFinite(v)) ||
    box.x0 < 0 ||
    box.y0 < 0 ||
    box.x1 > W ||
    box.y1 > H ||
    box.x0 >= box.x1 ||
    box.y0 >= box.y1
  )
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The region ${values.join(',')} is not a box inside the ${W} × ${H} photo; expected x0,y0,x1,y1 with 0 ≤ x0 < x1 ≤ ${W} and 0 ≤ y0 < y1 ≤ ${H}.`,
      { region: values },
    );
  const centre = pixelCentres(geometry, input, h, w);
  const out = new Uint8Array(h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const [x, y] = centre(i, j);
      if (x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1) out[i * w + j] = 1;
    }
  return out;
}

/** The output pixels whose centres fall on a nonzero pixel of a photo-sized mask (padding's fall on none). */
export function maskRegion(
  mask: RegionMask,
  geometry: Geometry,
  h: number,
  w: number,
  input: InputSize,
): Uint8Array {
  if (mask.width !== geometry.imageWidth || mask.height !== geometry.imageHeight)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The region mask is ${mask.width} × ${mask.height}; it must be the photo's size, ${geometry.imageWidth} × ${geometry.imageHeight}.`,
    );
  const centre = pixelCentres(geometry, input, h, w);
  const out = new Uint8Array(h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const [x, y] = centre(i, j);
      if (x < 0 || y < 0 || x >= mask.width || y >= mask.height) continue;
      const px = Math.floor(x);
      const py = Math.floor(y);
      const at = (py * mask.width + px) * mask.channels;
      for (let c = 0; c < mask.channels; c++) if (mask.data[at + c] !== 0) out[i * w + j] = 1;
    }
  return out;
}
