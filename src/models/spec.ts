// What a model's preprocessing is, from its input shape and what the user says: no I/O, so the browser shares it.
import { invalidArgument, SightlineError } from '../core/errors.js';
import {
  MAX_INPUT_SIDE,
  MODEL_TASKS,
  type ModelSpec,
  type ModelTask,
  RESAMPLE_FILTERS,
  type ResampleFilter,
  type ResizeFirst,
} from '../core/model.js';
import type { ModelProto } from '../engines/onnx/proto.js';
import type { OnnxIo } from '../engines/onnx/session.js';

/** What a user can say about a model that the file itself does not (CLI flags, a sidecar JSON). */
export interface ModelHints {
  readonly width?: number;
  readonly height?: number;
  readonly layout?: 'NCHW' | 'NHWC';
  readonly channelOrder?: 'RGB' | 'BGR';
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly resize?: 'squash' | 'center-crop' | 'letterbox';
  readonly cropFraction?: number;
  /** The resampling filter (default bilinear); see ModelSpec.resample. */
  readonly resample?: ResampleFilter;
  /** Resize the whole photo, then cut the input from its centre (Hugging Face, timm); see ModelSpec.resizeFirst. */
  readonly resizeFirst?: ResizeFirst;
  /** Hugging Face folders: which ONNX file, onnx/model_<variant>.onnx (e.g. 'quantized'); default model.onnx. */
  readonly variant?: string;
  /** Path of a labels file (text or JSON). */
  readonly labelsPath?: string;
  readonly labels?: readonly string[];
  readonly outputs?: 'probabilities' | 'logits';
  /** What the outputs mean (default: read from the graph, see guessTask). */
  readonly task?: ModelTask;
  /** Detectors: the output format (models/detect-format.ts), recognised from the outputs when absent. */
  readonly detectFormat?: string;
  /** Detectors: the box convention, e.g. 'xyxy' or 'cxcywh-normalized', overriding the format's. */
  readonly boxFormat?: string;
  /** Detectors: keep detections scoring above this (default 0.25, Ultralytics' conf). */
  readonly scoreThreshold?: number;
  /** Detectors: class-wise NMS drops a box overlapping a better one above this IoU (default 0.7). */
  readonly iouThreshold?: number;
  readonly maxBatch?: number;
  /** Black-box HTTP models only: transport, limits and headers (docs/http-models.md). */
  readonly http?: HttpHints;
}

/** How to talk to a black-box HTTP model; each field is a CLI flag (docs/http-models.md). */
export interface HttpHints {
  /** How images travel: 'png' (default; 8-bit pixels) or 'float32' (the normalised tensor). */
  readonly input?: 'png' | 'float32';
  /** Images per POST (default 8). */
  readonly requestBatch?: number;
  /** POSTs in flight at once (default 4). */
  readonly concurrency?: number;
  /** Longest wait for one answer in ms (default 30 000). */
  readonly timeoutMs?: number;
  /** Further tries after a 429, a 5xx, a network error or a timeout (default 3). */
  readonly retries?: number;
  /** Requests allowed in all, retries and the metadata GET included (default: no limit). */
  readonly budget?: number;
  /** First backoff ceiling in ms (default 500); each retry doubles it, up to 8 s, with full jitter. */
  readonly backoffMs?: number;
  /** Longest Retry-After honoured, in ms (default 30 000). */
  readonly retryAfterCapMs?: number;
  /** 'Name: value' headers sent with every request; their values are never printed. */
  readonly headers?: readonly string[];
  /** Environment variable holding an API key, sent as 'Authorization: Bearer <key>'. */
  readonly apiKeyEnv?: string;
  /** Send the key raw in this header instead of Authorization. */
  readonly apiKeyHeader?: string;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** What a rank-4 image input's dims say about it; a field is left out where the dims do not say. */
export interface ImageInputShape {
  readonly layout?: 'NCHW' | 'NHWC';
  readonly width?: number;
  readonly height?: number;
}

/**
 * The layout and fixed size of an image input from its dims ([N, C, H, W] or [N, H, W, C]): the given layout,
 * else NCHW when dim 1 is 3 and NHWC when dim 3 is 3 (dim 1 first, so [N, 3, H, 3] is NCHW). Height and width
 * are read at that layout's positions, only where they are positive numbers (a symbolic or −1 dim is not a
 * fixed size), and only once the layout is known. Shared by the CLI (specFromIo) and the web app's model
 * question, so both read a dropped model the same way.
 */
export function imageInputShape(
  dims: readonly (number | string)[],
  layout?: 'NCHW' | 'NHWC',
): ImageInputShape {
  const chosen = layout ?? (dims[1] === 3 ? 'NCHW' : dims[3] === 3 ? 'NHWC' : undefined);
  if (!chosen) return {};
  const fixed = (d: number | string | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);
  const [h, w] = chosen === 'NCHW' ? [dims[2], dims[3]] : [dims[1], dims[2]];
  return { layout: chosen, width: fixed(w), height: fixed(h) };
}

/**
 * Fills a spec from the model's one image input, its first output and the hints. `finalOp` is the operation
 * that makes the output (see finalOp); where the hints do not say, it and the output's width decide the task
 * (guessTask) and whether the scores are probabilities already (a final Softmax, or a Sigmoid for multilabel).
 */
export function specFromIo(
  io: OnnxIo,
  hints: ModelHints & { labels: readonly string[]; finalOp?: string },
): ModelSpec {
  const outputDims = io.outputs[0]?.dims;
  if (hints.task === undefined && hints.detectFormat === undefined) refuseTokenStates(io);
  const task =
    checkTask(hints.task) ??
    (hints.detectFormat !== undefined || looksLikeDetector(io)
      ? 'detect'
      : guessTask(hints.finalOp, outputWidth(outputDims), outputDims));
  const detector = task === 'detect';
  if (task === 'segment' && outputDims && outputDims.length > 0 && outputDims.length !== 4) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `A segmenter's output must be [N, C, h, w] (class scores per pixel); '${io.outputs[0].name}' is [${outputDims.join(', ')}].`,
      { task },
    );
  }
  const outputs =
    hints.outputs ??
    (hints.finalOp === 'Softmax' || (task === 'multilabel' && hints.finalOp === 'Sigmoid')
      ? 'probabilities'
      : 'logits');
  checkTaskWidth({ task, outputs }, outputWidth(outputDims), io.outputs[0]?.name);
  const images = io.inputs.filter((i) => i.dims.length === 4);
  if (images.length !== 1 || io.inputs.length !== 1) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Expected a model with one image input of rank 4 ([N, 3, H, W] or [N, H, W, 3]); its inputs are ${io.inputs.map((i) => `'${i.name}' [${i.dims.join(', ')}]`).join(', ')}.`,
    );
  }
  const input = images[0];
  const dims = input.dims;
  const shape = imageInputShape(dims, hints.layout);
  const layout = shape.layout;
  if (task === 'segment' && layout === 'NHWC' && channelLast(outputDims)) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `The output '${io.outputs[0].name}' [${outputDims!.join(', ')}] looks channel-last ([N, h, w, C]), as TensorFlow segmenters write it; Sightline reads a segmenter's classes from dim 1 ([N, C, h, w]). Export the model with its output transposed to NCHW.`,
      { task },
    );
  }
  if (!layout) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Cannot tell the layout of input '${input.name}' [${dims.join(', ')}]; pass --layout NCHW or NHWC.`,
    );
  }
  const width = hints.width ?? shape.width;
  const height = hints.height ?? shape.height;
  if (width === undefined || height === undefined) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Input '${input.name}' [${dims.join(', ')}] has no fixed size; pass --input-size (e.g. 224 or 224x224).`,
    );
  }
  // Whoever gave it (the file, a metadata.json, a flag), a size past the limit would fail allocating its tensor.
  const side = (n: number) => Number.isInteger(n) && n >= 1 && n <= MAX_INPUT_SIDE;
  if (!side(width) || !side(height)) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Input '${input.name}' [${dims.join(', ')}] asks for ${width} × ${height} pixels; expected whole numbers from 1 to ${MAX_INPUT_SIDE} a side.`,
      { width, height, maxSide: MAX_INPUT_SIDE },
    );
  }
  return {
    inputName: input.name,
    layout,
    width,
    height,
    channelOrder: hints.channelOrder ?? 'RGB',
    // Ultralytics and torchvision detectors take pixels / 255 (torchvision normalises inside the graph).
    mean: triple('mean', hints.mean ?? (detector ? [0, 0, 0] : IMAGENET_MEAN)),
    std: triple('std', hints.std ?? (detector ? [1, 1, 1] : IMAGENET_STD)),
    resize: hints.resize ?? (detector ? 'letterbox' : 'squash'),
    cropFraction: hints.cropFraction ?? 0.875,
    ...(hints.resample === undefined ? {} : { resample: checkResample(hints.resample) }),
    ...(hints.resizeFirst === undefined ? {} : { resizeFirst: checkResizeFirst(hints.resizeFirst) }),
    labels: hints.labels,
    outputs,
    task,
    ...(fixedShape(outputDims) ? { outputShape: fixedShape(outputDims) } : {}),
    ...(detector ? { detect: detectSettings(hints) } : {}),
  };
}

/**
 * A detector by its outputs alone: outputs named boxes and scores (post-NMS exports), or a first output of
 * rank 3, which no classifier, tagger, scorer or segmenter gives ([N, 4 + C, A] or [N, A, 5 + C]); which
 * format it is, is read from the shapes at the first run (detect-format.ts), or refused there in words.
 */
function looksLikeDetector(io: OnnxIo): boolean {
  const names = io.outputs.map((o) => plainName(o.name));
  if (names.some((n) => n === 'boxes' || n === 'detection_boxes') && names.some((n) => n?.includes('scores')))
    return true;
  return io.outputs[0]?.dims.length === 3;
}

/** An output's name as matching sees it: lower case, without a TensorFlow ':0' suffix or a scope path. */
const plainName = (name: string) => name.toLowerCase().replace(/:\d+$/, '').split('/').pop() ?? '';

/** Hugging Face's names for a transformer's token states [N, T, D] (feature-extraction exports). */
const TOKEN_STATE_NAMES = ['last_hidden_state', 'hidden_states', 'encoder_last_hidden_state'];

/**
 * A first output of token states is neither class scores nor detections, though its rank 3 reads as a YOLO
 * output: unasked, it would "detect" boxes in hidden values. Refused, naming the task that reads it.
 */
function refuseTokenStates(io: OnnxIo): void {
  const first = io.outputs[0];
  if (!first || !TOKEN_STATE_NAMES.includes(plainName(first.name))) return;
  throw new SightlineError(
    'MODEL_SHAPE',
    `The model's first output '${first.name}' [${first.dims.join(', ')}] is a transformer's token states (a Hugging Face feature-extraction export), neither class scores nor detections; pass --task embed with --reference to explain their similarity to a reference, or export the model with its classification head (e.g. ViTForImageClassification).`,
    { output: first.name },
  );
}

/** The detect hints, checked (untrusted sidecar JSON or flags). */
function detectSettings(hints: ModelHints): NonNullable<ModelSpec['detect']> {
  const unit = (name: string, v: unknown) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw invalidArgument(name, 'a number from 0 to 1', v);
    return v;
  };
  const text = (name: string, v: unknown) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalidArgument(name, 'a string', v);
    return v;
  };
  const out = {
    format: text('detectFormat', hints.detectFormat),
    boxes: text('boxFormat', hints.boxFormat),
    scoreThreshold: unit('scoreThreshold', hints.scoreThreshold),
    iouThreshold: unit('iouThreshold', hints.iouThreshold),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** A rank-4 output whose last dim is fixed and smaller than both before it: [N, h, w, C]. */
function channelLast(dims: readonly (number | string)[] | undefined): boolean {
  if (dims?.length !== 4) return false;
  const [, h, w, c] = dims;
  return typeof c === 'number' && (typeof h !== 'number' || h > c) && (typeof w !== 'number' || w > c);
}

/** An output's dims after the batch when every one is a fixed number, else undefined (known at run time). */
export function fixedShape(dims: readonly (number | string)[] | undefined): number[] | undefined {
  if (!dims || dims.length < 2) return undefined;
  const rest = dims.slice(1);
  return rest.every((d) => typeof d === 'number' && d > 0) ? (rest as number[]) : undefined;
}

export function triple(name: string, values: readonly number[]): [number, number, number] {
  const v = values.length === 1 ? [values[0], values[0], values[0]] : values;
  if (v.length !== 3 || v.some((x) => !Number.isFinite(x)))
    throw invalidArgument(name, 'one or three finite numbers', values);
  if (name === 'std' && v.some((x) => x <= 0)) throw invalidArgument(name, 'positive numbers', values);
  return [v[0], v[1], v[2]];
}

/** Operations that move or rename values without changing them, looked through to find the final one. */
const PASS_THROUGH = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Cast']);

/** The operation that makes the graph's first output, looking through reshapes (a Sigmoid then a Flatten). */
export function finalOp(model: ModelProto): string | undefined {
  const nodes = model.graph?.node ?? [];
  let name = model.graph?.output?.[0]?.name;
  // Bounded by the node count, so a cycle in a hostile graph cannot loop for ever.
  for (let step = 0; step <= nodes.length && name; step++) {
    const producer = nodes.find((n) => n.output?.includes(name ?? ''));
    if (!producer || !PASS_THROUGH.has(producer.opType ?? '')) return producer?.opType;
    name = producer.input?.[0];
  }
  return undefined;
}

/** A Softmax at the end of the graph means the scores are probabilities already. */
export function guessOutputs(model: ModelProto): ModelSpec['outputs'] {
  return finalOp(model) === 'Softmax' ? 'probabilities' : 'logits';
}

/**
 * The task a graph's end implies: a rank-4 output with more than one position is per-pixel class scores
 * (a segmenter); one output value is a score, whatever makes it (a softmax over one value is always 1, so it
 * can never be a class); a final Sigmoid over several is independent tags; anything else is a classifier, as
 * before tasks existed. `width` is the output's size per image, undefined when not fixed; `dims` the output's
 * dims when known. An embedding [N, D] is never guessed: without a final Softmax or Sigmoid it reads the same
 * as logits, so it is asked for (`--task embed`, or the sidecar's `task`).
 */
export function guessTask(
  op: string | undefined,
  width: number | undefined,
  dims?: readonly (number | string)[],
): ModelTask {
  // [N, K, 1, 1] is a classifier whose Flatten was left out, not a one-pixel segmentation.
  if (dims?.length === 4 && !(dims[2] === 1 && dims[3] === 1)) return 'segment';
  if (width === 1) return 'score';
  if (op === 'Sigmoid') return 'multilabel';
  return 'classify';
}

/** An output's values per image (the product of its dims after the batch), undefined when any is not fixed. */
export function outputWidth(dims: readonly (number | string)[] | undefined): number | undefined {
  if (!dims || dims.length === 0) return undefined;
  let width = 1;
  for (const d of dims.slice(1)) {
    if (typeof d !== 'number' || d <= 0) return undefined;
    width *= d;
  }
  return width;
}

/** A task from a flag or a sidecar (untrusted JSON), checked; undefined stays undefined. */
export function checkTask(task: unknown): ModelTask | undefined {
  if (task === undefined) return undefined;
  if (typeof task === 'string' && (MODEL_TASKS as readonly string[]).includes(task)) return task as ModelTask;
  throw invalidArgument('task', `one of ${MODEL_TASKS.join(', ')}`, task);
}

/**
 * A task told by a flag or a sidecar that one value per image contradicts: a softmax over one logit is always
 * 100% (every map of it is noise), and the cosine of a one-number embedding is only its sign. Refused naming
 * the task that fits; a width undefined (not fixed in the file) passes, and prepare checks the run's width. A
 * classifier told its one output is already a probability (--outputs probabilities) gets no softmax, and passes.
 */
export function checkTaskWidth(
  spec: Pick<ModelSpec, 'task' | 'outputs'>,
  width: number | undefined,
  output?: string,
): void {
  const task = spec.task ?? 'classify';
  const softmax = task === 'classify' && spec.outputs === 'logits';
  if (width !== 1 || !(softmax || task === 'embed')) return;
  throw new SightlineError(
    'MODEL_SHAPE',
    `The model's output${output ? ` '${output}'` : ''} gives one value per image, which cannot be read as task '${task}' (${task === 'embed' ? 'the cosine of a one-number embedding is only its sign' : 'a softmax over one value is always 100%'}); expected --task score (or multilabel for one independent tag), or a model with more outputs.`,
    { task, width },
  );
}

/** A resampling filter from a sidecar (untrusted JSON), checked. */
export function checkResample(filter: unknown): ResampleFilter {
  if (typeof filter === 'string' && (RESAMPLE_FILTERS as readonly string[]).includes(filter))
    return filter as ResampleFilter;
  throw invalidArgument('resample', `one of ${RESAMPLE_FILTERS.join(', ')}`, filter);
}

/** A resize-first rule from a sidecar (untrusted JSON), checked field by field. */
export function checkResizeFirst(r: unknown): ResizeFirst {
  const o = (r ?? {}) as Record<string, unknown>;
  const side = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_INPUT_SIDE;
  const offset = o.offset === 'floor' || o.offset === 'round';
  if (offset && o.kind === 'shortest-edge' && side(o.size)) return r as ResizeFirst;
  if (offset && o.kind === 'fixed' && side(o.width) && side(o.height)) return r as ResizeFirst;
  throw invalidArgument(
    'resizeFirst',
    `{kind: 'shortest-edge', size} or {kind: 'fixed', width, height}, with offset 'floor' or 'round' and sides from 1 to ${MAX_INPUT_SIDE}`,
    typeof r === 'object' ? JSON.stringify(r) : r,
  );
}

/**
 * The preprocessing a converted TFLite model implies: NHWC, and for a uint8 input quantized as
 * scale · (q − zero point) the pixels go in directly, which is (p/255 − zp/255) / (1 / (255 · scale)).
 */
export function tfliteHints(
  hints: ModelHints,
  quantizedInput: { scale: number; zeroPoint: number } | undefined,
): ModelHints {
  const q = quantizedInput;
  return {
    ...hints,
    layout: 'NHWC',
    mean: hints.mean ?? (q ? [q.zeroPoint / 255] : IMAGENET_MEAN),
    std: hints.std ?? (q ? [1 / (255 * q.scale)] : IMAGENET_STD),
  };
}
