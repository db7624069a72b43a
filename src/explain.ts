import type { AttributionMap, Target } from './core/attribution.js';
import { invalidArgument, SightlineError } from './core/errors.js';
import type { RgbImage } from './core/image.js';
import type { MethodOptions } from './core/method.js';
import type { Model } from './core/model.js';
import { type Geometry, mapToImage, preprocess } from './core/preprocess.js';
import type { ProgressCallback } from './core/progress.js';
import { softmax } from './core/scores.js';
import type { Tensor } from './core/tensor.js';
import { type AnyMethod, checkCapabilities, getMethod, resolveOptions } from './methods/registry.js';

export interface Prediction {
  readonly index: number;
  readonly label: string;
  readonly score: number;
}

export interface ExplainRequest {
  readonly model: Model;
  readonly image: RgbImage;
  readonly method: string | AnyMethod;
  /** 'top' (default), a class index, or a label (exact, case-insensitive, or a unique part of one). */
  readonly target?: 'top' | number | string;
  readonly options?: MethodOptions;
  /** A custom baseline image for methods that take one (integrated gradients with baselineType 'image'). */
  readonly baselineImage?: RgbImage;
  /** The feature map CAM methods read (default: the model's last spatial one). */
  readonly layer?: string;
  /** How many predictions to report (default 5). */
  readonly topK?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
}

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
}

/** Photo → predictions and a saliency map for one class, at the photo's size. */
export async function explain(request: ExplainRequest): Promise<Explanation> {
  const { model, image } = request;
  const method = typeof request.method === 'string' ? getMethod(request.method) : request.method;
  const options = resolveOptions(method, request.options);
  checkCapabilities(method, model);
  const { tensor, geometry } = preprocess(image, model.spec);
  const scores = await model.predict(tensor, { signal: request.signal });
  const predictions = rankPredictions(model, scores, request.topK ?? 5);
  const target = resolveTarget(model, scores, request.target ?? 'top');
  const inputMap = await method.attribute(
    {
      model,
      input: tensor,
      target: target.index,
      classes: scores.dims[1],
      layer: request.layer,
      baselineInput: request.baselineImage ? preprocess(request.baselineImage, model.spec).tensor : undefined,
      signal: request.signal,
      onProgress: request.onProgress,
    },
    options,
  );
  const data = mapToImage(inputMap.data, inputMap.width, inputMap.height, geometry);
  return {
    predictions,
    target,
    method: method.id,
    options,
    map: {
      width: image.width,
      height: image.height,
      data,
      signed: inputMap.signed,
      details: inputMap.details,
    },
    inputMap,
    geometry,
    input: tensor,
    classes: scores.dims[1],
  };
}

export function labelOf(model: Model, index: number): string {
  return model.spec.labels[index] ?? `class ${index}`;
}

/** Top-k classes with probabilities (softmax applied when the model outputs logits). */
export function rankPredictions(model: Model, scores: Tensor, k: number): Prediction[] {
  const row = scores.data.subarray(0, scores.dims[1]);
  const probs = Array.from(model.spec.outputs === 'logits' ? softmax(row) : row);
  return probs
    .map((score, index) => ({ index, label: labelOf(model, index), score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.max(1, k));
}

export function resolveTarget(model: Model, scores: Tensor, target: 'top' | number | string): Target {
  const k = scores.dims[1];
  if (target === 'top') {
    let best = 0;
    for (let i = 1; i < k; i++) if (scores.data[i] > scores.data[best]) best = i;
    return { index: best, label: labelOf(model, best) };
  }
  if (typeof target === 'number' || /^\d+$/.test(target)) {
    const index = Number(target);
    if (!Number.isInteger(index) || index < 0 || index >= k) {
      throw invalidArgument('target', `a class index from 0 to ${k - 1}`, target);
    }
    return { index, label: labelOf(model, index) };
  }
  const wanted = target.trim().toLowerCase();
  const labels = model.spec.labels.map((l) => l.toLowerCase());
  let index = labels.indexOf(wanted);
  if (index < 0) {
    const partial = labels.flatMap((l, i) => (l.includes(wanted) ? [i] : []));
    if (partial.length === 1) index = partial[0];
    else {
      const hint =
        partial.length > 1
          ? `it matches ${partial.length} labels: ${partial
              .slice(0, 5)
              .map((i) => `'${model.spec.labels[i]}'`)
              .join(', ')}${partial.length > 5 ? ', …' : ''}`
          : model.spec.labels.length === 0
            ? 'the model has no labels; give a class index'
            : 'no label contains it';
      throw new SightlineError(
        'UNKNOWN_TARGET',
        `Target '${target}' is not a label of this model (${hint}).`,
        { target },
      );
    }
  }
  return { index, label: model.spec.labels[index] };
}
