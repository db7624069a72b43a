import type { AttributionMap, Target } from './core/attribution.js';
import { invalidArgument } from './core/errors.js';
import type { RgbImage } from './core/image.js';
import type { MethodOptions } from './core/method.js';
import type { Model } from './core/model.js';
import { type Geometry, mapToImage, preprocess } from './core/preprocess.js';
import type { ProgressCallback } from './core/progress.js';
import { outputValues } from './core/scores.js';
import type { Tensor } from './core/tensor.js';
import { type AnyMethod, checkCapabilities, getMethod, resolveOptions } from './methods/registry.js';
import { resolveLabel } from './models/label-match.js';

export interface Prediction {
  readonly index: number;
  readonly label: string;
  readonly score: number;
}

/** What every surface does to a photo before a method runs on it (see prepare). */
export interface PrepareRequest {
  readonly model: Model;
  readonly image: RgbImage;
  /** 'top' (default), a class index, or a label as resolveTarget reads it. */
  readonly target?: 'top' | number | string;
  /** How many predictions to report (default 5). */
  readonly topK?: number;
  readonly signal?: AbortSignal;
}

/** A photo ready to be explained: the model's input, its scores and the class to explain. */
export interface PreparedImage {
  /** The preprocessed input (batch of 1), shaped as the model's spec says. */
  readonly input: Tensor;
  /** Where the input came from in the photo, to map a map back onto it. */
  readonly geometry: Geometry;
  /** The model's scores for the input, [1, K]. */
  readonly scores: Tensor;
  /** K, the number of scores the model gives. */
  readonly classes: number;
  readonly predictions: readonly Prediction[];
  readonly target: Target;
}

/**
 * Photo → preprocessed input → scores → top predictions and the resolved target: the one preparation that
 * explain, the audit, evaluate and the sanity checks' callers share, so a photo is read the same way
 * everywhere. Metrics take what it returns (input, target index, classes) and never prepare a photo.
 */
export async function prepare(request: PrepareRequest): Promise<PreparedImage> {
  const { model, image } = request;
  const { tensor: input, geometry } = preprocess(image, model.spec);
  const scores = await model.predict(input, { signal: request.signal });
  return {
    input,
    geometry,
    scores,
    classes: scores.dims[1],
    predictions: rankPredictions(model, scores, request.topK ?? 5),
    target: resolveTarget(model, scores, request.target ?? 'top'),
  };
}

/** One method on a prepared photo (see explainPrepared). */
export interface MethodRequest {
  readonly method: string | AnyMethod;
  readonly options?: MethodOptions;
  /** A custom baseline image for methods that take one (integrated gradients with baselineType 'image'). */
  readonly baselineImage?: RgbImage;
  /** The feature map CAM methods read (default: the model's last spatial one). */
  readonly layer?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
}

export interface ExplainRequest extends PrepareRequest, MethodRequest {}

export interface Explanation {
  readonly predictions: readonly Prediction[];
  readonly target: Target;
  readonly method: string;
  readonly options: Readonly<MethodOptions>;
  /** The map at the photo's own size, aligned with it. */
  readonly map: AttributionMap;
  /** The map at the model's input resolution, as the method computed it. */
  readonly inputMap: AttributionMap;
  readonly geometry: Geometry;
  /** The preprocessed input the method explained (batch of 1), and the number of scores the model gives. */
  readonly input: Tensor;
  readonly classes: number;
  /** The model's scores for the input, [1, K] (as prepare gave them), e.g. for core/confidence.ts. */
  readonly scores: Tensor;
}

/** Photo → predictions and a saliency map for one class, at the photo's size. */
export async function explain(request: ExplainRequest): Promise<Explanation> {
  // The method and its options are checked before the model runs, so a typo costs no prediction.
  const { method } = checkMethod(request.model, request);
  return explainPrepared(request.model, await prepare(request), { ...request, method });
}

/**
 * A method's map for a prepared photo, at the model's input size and mapped back onto the photo. Several
 * methods on one photo share one prepare (as `sightline evaluate` does).
 */
export async function explainPrepared(
  model: Model,
  prepared: PreparedImage,
  request: MethodRequest,
): Promise<Explanation> {
  const { method, options } = checkMethod(model, request);
  const { input, geometry, target, classes } = prepared;
  const inputMap = await method.attribute(
    {
      model,
      input,
      target: target.index,
      classes,
      layer: request.layer,
      baselineInput: request.baselineImage ? preprocess(request.baselineImage, model.spec).tensor : undefined,
      signal: request.signal,
      onProgress: request.onProgress,
    },
    options,
  );
  const data = mapToImage(inputMap.data, inputMap.width, inputMap.height, geometry);
  return {
    predictions: prepared.predictions,
    target,
    method: method.id,
    options,
    map: {
      width: geometry.imageWidth,
      height: geometry.imageHeight,
      data,
      signed: inputMap.signed,
      details: inputMap.details,
    },
    inputMap,
    geometry,
    input,
    classes,
    scores: prepared.scores,
  };
}

/** The method, its options with defaults, after checking that the model can serve it. */
function checkMethod(model: Model, request: MethodRequest): { method: AnyMethod; options: MethodOptions } {
  const method = typeof request.method === 'string' ? getMethod(request.method) : request.method;
  const options = resolveOptions(method, request.options);
  checkCapabilities(method, model);
  return { method, options };
}

export function labelOf(model: Model, index: number): string {
  const noun = model.spec.task === 'multilabel' ? 'tag' : model.spec.task === 'score' ? 'score' : 'class';
  return model.spec.labels[index] ?? `${noun} ${index}`;
}

/**
 * The first k predictions in the task's words (core/scores.ts outputValues): classes by softmax probability
 * and tags by their own sigmoid probability, highest first; a score model's raw outputs in their own order, as
 * ranking regression outputs against each other means nothing.
 */
export function rankPredictions(model: Model, scores: Tensor, k: number): Prediction[] {
  const row = scores.data.subarray(0, scores.dims[1]);
  const predictions = Array.from(outputValues(row, model.spec), (score, index) => ({
    index,
    label: labelOf(model, index),
    score,
  }));
  if (model.spec.task !== 'score') predictions.sort((a, b) => b.score - a.score);
  return predictions.slice(0, Math.max(1, k));
}

/**
 * 'top' (the highest score), a class index below the number of scores, or a label as resolveLabel reads it
 * (exact, a class index, case-insensitive, underscores and hyphens as spaces, a unique part).
 */
export function resolveTarget(model: Model, scores: Tensor, target: 'top' | number | string): Target {
  const k = scores.dims[1];
  if (target === 'top') {
    let best = 0;
    for (let i = 1; i < k; i++) if (scores.data[i] > scores.data[best]) best = i;
    return { index: best, label: labelOf(model, best) };
  }
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target < 0 || target >= k) {
      throw invalidArgument('target', `a class index from 0 to ${k - 1}`, target);
    }
    return { index: target, label: labelOf(model, target) };
  }
  const { index } = resolveLabel(target, model.spec.labels, { classes: k, noun: 'Target' });
  return { index, label: labelOf(model, index) };
}
