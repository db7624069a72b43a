import type { AttributionMap, Target } from './core/attribution.js';
import { SightlineError } from './core/errors.js';
import type { RgbImage } from './core/image.js';
import type { MethodOptions } from './core/method.js';
import type { Model } from './core/model.js';
import { type Geometry, mapToImage, preprocess } from './core/preprocess.js';
import type { ProgressCallback } from './core/progress.js';
import {
  boxRegion,
  classShares,
  evaluateTarget,
  maskRegion,
  type OutputTarget,
  pixelClasses,
  type RegionBox,
  type RegionMask,
  segmentShape,
  segmentTarget,
  similarityTarget,
  withTarget,
} from './core/targets.js';
import type { Tensor } from './core/tensor.js';
import { type DetectionDescription, detectionTarget, prepareDetection } from './explain/detect.js';
import { type LayerPass, scoresFromMethodPass, withPass } from './explain/method-pass.js';
import { labelOf, pickIndex, rankPredictions, resolveTarget } from './explain/predictions.js';
import { type AnyMethod, checkCapabilities, getMethod, resolveOptions } from './methods/registry.js';
import type { PhotoMask } from './models/detect-mask.js';
import { checkTaskWidth } from './models/spec.js';

export { labelOf, rankPredictions, resolveTarget } from './explain/predictions.js';

export interface Prediction {
  /** The class (or tag, score) index; for a detector, the detection's rank in the photo. */
  readonly index: number;
  readonly label: string;
  readonly score: number;
  /** Detectors: the detection's class and its box x0, y0, x1, y1 in photo pixels. */
  readonly classIndex?: number;
  readonly box?: readonly [number, number, number, number];
  /** Instance-segmentation detectors: the detection's mask over the photo. */
  readonly mask?: PhotoMask;
}

/** What every surface does to a photo before a method runs on it (see prepare). */
export interface PrepareRequest {
  readonly model: Model;
  readonly image: RgbImage;
  /** 'top' (default), a class index, or a label as resolveTarget reads it. */
  readonly target?: 'top' | number | string;
  /** How many predictions to report (default 5). */
  readonly topK?: number;
  /**
   * Segmenters: the region whose class scores are summed, a box in photo pixels or a photo-sized mask
   * (nonzero = in); default: the output pixels the model gives the class (argmax over the classes).
   */
  readonly region?: RegionBox | RegionMask;
  /**
   * Embedding models (required there): what the embedding is compared with, a photo (embedded by the same
   * model) or a vector of the embedding's length (e.g. a CLIP text embedding).
   */
  readonly reference?: RgbImage | ArrayLike<number>;
  /**
   * The method the photo is prepared for. Where that method's one pass also gives the scores (a gradient
   * CAM on a classifier's layer), prepare runs that pass instead of a forward pass of its own and the method
   * is handed its result (explainPrepared): the same scores, target and map for half the model's work.
   */
  readonly forMethod?: Pick<MethodRequest, 'method' | 'layer'>;
  readonly signal?: AbortSignal;
}

/** What a segment or similarity target is, for people and for --json. */
export type TargetDescription =
  | {
      readonly kind: 'segment';
      /** The class summed, an index into the output's channels. */
      readonly class: number;
      /** Where the region came from: the class's own pixels, a box or a mask. */
      readonly region: 'class pixels' | 'box' | 'mask';
      /** Output pixels in the region, of gridWidth × gridHeight. */
      readonly pixels: number;
      readonly gridWidth: number;
      readonly gridHeight: number;
      /**
       * Set when 'top' passed over the largest class because its label names the background (see
       * BACKGROUND_LABELS): that class, whose map would explain everything but the objects.
       */
      readonly passedOver?: { readonly index: number; readonly label: string };
    }
  | {
      readonly kind: 'similarity';
      readonly reference: 'image' | 'vector';
      /** The embedding's length. */
      readonly dimensions: number;
      /** cos(embedding, reference) for the photo. */
      readonly cosine: number;
    }
  | DetectionDescription;

/** The explained target: `index` into the scores the methods see; a segment or similarity target says more. */
export interface ExplainedTarget extends Target {
  readonly description?: TargetDescription;
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
  readonly target: ExplainedTarget;
  /**
   * For a segment or similarity target: the model the methods and metrics explain, whose one output [N, 1] is
   * the target (core/targets.ts withTarget); `scores`, `classes` and `target.index` then refer to it. The
   * caller of prepare disposes it (disposePrepared); explain does so itself.
   */
  readonly model?: Model;
  /** The method's pass that prepare ran to get the scores (see PrepareRequest.forMethod), handed to it once. */
  readonly pass?: LayerPass;
}

/** Releases what prepare made besides the request's model (a segment or similarity target's model). */
export async function disposePrepared(prepared: PreparedImage): Promise<void> {
  await prepared.model?.dispose();
}

/**
 * Photo → preprocessed input → scores → top predictions and the resolved target: the one preparation that
 * explain, the audit, evaluate and the sanity checks' callers share, so a photo is read the same way
 * everywhere. Metrics take what it returns (input, target index, classes) and never prepare a photo.
 */
export async function prepare(request: PrepareRequest): Promise<PreparedImage> {
  const { model, image } = request;
  refuseUnusedTargetParts(model.spec.task, request.region !== undefined, request.reference !== undefined);
  if (model.spec.task === 'detect') return prepareDetect(request);
  const { tensor: input, geometry } = preprocess(image, model.spec);
  const passed = await scoresFromMethodPass(request, input);
  if (passed) return { ...passed, geometry };
  const scores = await model.predict(input, { signal: request.signal });
  // A width the file did not fix is known now (models/spec.ts checked the fixed ones at load).
  checkTaskWidth(model.spec, scores.dims[1]);
  if (model.spec.task === 'segment') return prepareSegment(request, input, geometry, scores);
  if (model.spec.task === 'embed') return prepareEmbed(request, input, geometry, scores);
  return {
    input,
    geometry,
    scores,
    classes: scores.dims[1],
    predictions: rankPredictions(model, scores, request.topK ?? 5),
    target: resolveTarget(model, scores, request.target ?? 'top'),
  };
}

/**
 * A region or a reference given to a model that has no use for it is refused rather than dropped: the map
 * would be the whole target's, drawn as if it honoured the region or the comparison.
 */
export function refuseUnusedTargetParts(
  modelTask: Model['spec']['task'],
  region: boolean,
  reference: boolean,
): void {
  const task = modelTask ?? 'classify';
  if (region && task !== 'segment')
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `A region (--region) says which output pixels of a segmenter's class are summed; this model's task is '${task}', whose outputs have no pixels to choose. Leave --region out, or pass --task segment for a model whose output is [N, C, h, w].`,
      { task },
    );
  if (reference && task !== 'embed')
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `A reference (--reference) is what an embedding is compared with; this model's task is '${task}', which is not an embedding. Leave --reference out, or pass --task embed for a model whose output is an [N, D] embedding.`,
      { task },
    );
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
  readonly target: ExplainedTarget;
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
  const prepared = await prepare({ ...request, forMethod: { method, layer: request.layer } });
  try {
    return await explainPrepared(request.model, prepared, { ...request, method });
  } finally {
    await disposePrepared(prepared);
  }
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
  const explained = withPass(prepared.model ?? model, prepared.pass);
  const { method, options } = checkMethod(explained, request);
  const { input, geometry, target, classes } = prepared;
  const inputMap = await method.attribute(
    {
      model: explained,
      input,
      target: target.index,
      classes,
      layer: request.layer ?? (await segmentLayer(explained, prepared, method, model.spec.outputShape?.[0])),
      baselineInput: request.baselineImage ? preprocess(request.baselineImage, model.spec).tensor : undefined,
      signal: request.signal,
      onProgress: request.onProgress,
    },
    options,
  );
  return {
    predictions: prepared.predictions,
    target,
    method: method.id,
    options,
    map: photoMap(inputMap, geometry),
    inputMap,
    geometry,
    input,
    classes,
    scores: prepared.scores,
  };
}

/**
 * A method's map at the model's input size, back on the photo through the geometry prepare used: what
 * explainPrepared returns as `map`, for callers that run a method's maths themselves (the detector audit's
 * D-RISE of all a photo's detections at once) and must give the same map.
 */
export function photoMap(inputMap: AttributionMap, geometry: Geometry): AttributionMap {
  return {
    width: geometry.imageWidth,
    height: geometry.imageHeight,
    data: mapToImage(inputMap.data, inputMap.width, inputMap.height, geometry),
    signed: inputMap.signed,
    details: inputMap.details,
  };
}

/** The method, its options with defaults, after checking that the model can serve it. */
function checkMethod(model: Model, request: MethodRequest): { method: AnyMethod; options: MethodOptions } {
  const method = typeof request.method === 'string' ? getMethod(request.method) : request.method;
  const options = resolveOptions(method, request.options);
  checkCapabilities(method, model);
  return { method, options };
}

/**
 * A segmenter's pixel shares, the class (the top one by pixels unless asked), the region and the model whose
 * one output is the class's scores summed over it. The default region is fixed from the unmodified photo, so
 * a perturbation that moves the class's pixels does not move the region.
 */
async function prepareSegment(
  request: PrepareRequest,
  input: Tensor,
  geometry: Geometry,
  scores: Tensor,
): Promise<PreparedImage> {
  const { model } = request;
  const shape = segmentShape(model.spec.outputShape);
  const [c, h, w] = shape;
  const owner = pixelClasses(scores.data.subarray(0, c * h * w), shape);
  const shares = classShares(owner, c);
  const predictions = Array.from(shares, (score, index) => ({ index, label: labelOf(model, index), score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.max(1, request.topK ?? 5));
  const wanted = request.target ?? 'top';
  const top = wanted === 'top' ? topClass(model, shares) : undefined;
  const channel = top ? top.channel : pickIndex(model, c, wanted as number | string);
  const label = labelOf(model, channel);
  const region = request.region;
  const mask: Uint8Array = !region
    ? Uint8Array.from(owner, (k) => (k === channel ? 1 : 0))
    : 'x0' in region
      ? boxRegion(region, geometry, h, w, model.spec)
      : maskRegion(region, geometry, h, w, model.spec);
  const pixels = mask.reduce((n, v) => n + (v ? 1 : 0), 0);
  if (!region && pixels === 0)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The model gives '${label}' (${channel}) none of the ${w} × ${h} output pixels of this photo, so it has no region of its own; pass a region (--region x0,y0,x1,y1 or a mask PNG) to explain it there.`,
      { channel },
    );
  const target = segmentTarget(model.spec.outputShape, channel, mask);
  const description: TargetDescription = {
    kind: 'segment',
    class: channel,
    region: !region ? 'class pixels' : 'x0' in region ? 'box' : 'mask',
    pixels,
    gridWidth: w,
    gridHeight: h,
    ...(top?.passedOver ? { passedOver: top.passedOver } : {}),
  };
  return targeted(model, target, label, description, { input, geometry, scores, predictions });
}

/**
 * Labels that name no object: the class a segmenter gives every pixel it finds nothing in (torchvision's and
 * VOC's 'background' / '__background__', 'bg', VOC's 'void' border). Compared lower-case.
 */
export const BACKGROUND_LABELS: readonly string[] = ['background', '__background__', 'bg', 'void'];

/**
 * 'top' for a segmenter: the class with most pixels, unless it is a background class (BACKGROUND_LABELS) and
 * another class has pixels, in which case the largest of those; ties go to the lower index. On most photos the
 * background has most pixels, and its map would show everything but the objects, which nobody asked about.
 */
function topClass(
  model: Model,
  shares: Float64Array,
): { channel: number; passedOver?: { index: number; label: string } } {
  const isBackground = (k: number) =>
    BACKGROUND_LABELS.includes((model.spec.labels[k] ?? '').trim().toLowerCase());
  let best = 0;
  for (let k = 1; k < shares.length; k++) if (shares[k] > shares[best]) best = k;
  if (!isBackground(best)) return { channel: best };
  let other = -1;
  for (let k = 0; k < shares.length; k++)
    if (!isBackground(k) && shares[k] > 0 && (other < 0 || shares[k] > shares[other])) other = k;
  return other < 0
    ? { channel: best }
    : { channel: other, passedOver: { index: best, label: labelOf(model, best) } };
}

/** An embedding model's reference (a photo embedded by the same model, or a vector) and similarity target. */
async function prepareEmbed(
  request: PrepareRequest,
  input: Tensor,
  geometry: Geometry,
  scores: Tensor,
): Promise<PreparedImage> {
  const { model, reference } = request;
  const d = scores.dims[1];
  if (reference === undefined)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `An embedding model needs a reference to compare with: --reference other.jpg (a photo, embedded by the same model) or --reference vector.npy (${d} numbers, e.g. a text embedding).`,
    );
  const isImage = 'width' in reference && 'height' in reference && 'data' in reference;
  const vector = isImage
    ? (await model.predict(preprocess(reference as RgbImage, model.spec).tensor, { signal: request.signal }))
        .data
    : (reference as ArrayLike<number>);
  const target = similarityTarget(
    vector,
    d,
    isImage ? "The reference photo's embedding (the model's output for it)" : undefined,
  );
  const cosine = evaluateTarget(target, scores).data[0];
  const label = 'similarity to the reference';
  const description: TargetDescription = {
    kind: 'similarity',
    reference: isImage ? 'image' : 'vector',
    dimensions: d,
    cosine,
  };
  const predictions = [{ index: 0, label, score: cosine }];
  return targeted(model, target, label, description, { input, geometry, scores, predictions });
}

/**
 * A detector's photo: every detection as a prediction (rank, label, score, photo box) and the chosen one as
 * the target, through the model of models/detect-target.ts (index 0 of 1; its score is D-RISE's similarity).
 */
async function prepareDetect(request: PrepareRequest): Promise<PreparedImage> {
  const d = await prepareDetection(request.model, request.image, request.target ?? 'top', request.signal);
  const { chosen } = d;
  return {
    input: d.input,
    geometry: d.geometry,
    scores: d.scores,
    classes: 1,
    predictions: d.detections.map((p) => ({
      index: p.index,
      label: p.label,
      score: p.score,
      classIndex: p.classIndex,
      box: p.box,
    })),
    target: detectionTarget(chosen),
    model: d.model,
  };
}

/** A prepared photo whose methods explain `target` through its own model (index 0 of 1). */
async function targeted(
  model: Model,
  target: OutputTarget,
  label: string,
  description: TargetDescription,
  parts: Pick<PreparedImage, 'input' | 'geometry' | 'scores' | 'predictions'>,
): Promise<PreparedImage> {
  return {
    ...parts,
    scores: evaluateTarget(target, parts.scores),
    classes: 1,
    target: { index: 0, label, description },
    model: await withTarget(model, target, label),
  };
}

/**
 * The CAM layer for a segment target when none was asked for: the last spatial map whose channels are not
 * the output's classes. The last map of a segmenter is usually its class scores themselves (upsampled), where
 * Grad-CAM would only repeat the class's own scores; the map before them is what the classes are read from
 * (pytorch-grad-cam's segmentation tutorial uses the backbone's last block the same way).
 */
async function segmentLayer(
  model: Model,
  prepared: PreparedImage,
  method: AnyMethod,
  classes: number | undefined,
): Promise<string | undefined> {
  if (prepared.target.description?.kind !== 'segment' || !method.requires.includes('layers') || !model.layers)
    return undefined;
  const { layers, defaultLayer } = await model.layers();
  const before = layers.filter((l) => l.dims[1] !== classes);
  return before.length > 0 ? before[before.length - 1].name : defaultLayer;
}
