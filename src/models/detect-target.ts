/**
 * A detection as a target (issue 14): the model a method explains when it explains one detection (box b,
 * class c), one output [N, 1] (task 'score') as core/targets.ts withTarget makes for other targets.
 *
 * Its predict is D-RISE's similarity (Petsiuk et al., "Black-box Explanation of Object Detectors via Saliency
 * Maps", CVPR 2021, eq. 2): for each image, the best over its proposals j of IoU(b, b_j) · cos(onehot(c), p_j)
 * · o_j. Raw layouts read every anchor before NMS, as the paper uses every proposal: p_j the anchor's class
 * scores and o_j its objectness (YOLOv5) or, where the format has none (YOLOv8), its best class score, which
 * Ultralytics reads as its confidence: without it an anchor that sees nothing (all classes near 0) would
 * still have a cosine of 1/√C. Post-NMS layouts give one class per row, so p_j is one-hot and o_j the score:
 * IoU · [c_j = c] · s_j. Occlusion, RISE and D-RISE read this.
 *
 * Gradient and CAM methods on raw layouts (a model that can append a head) get the class-c score summed over
 * the anchors whose decoded box overlaps b with IoU ≥ 0.5 in the unmodified photo: a fixed mask over the
 * output (core/targets.ts MaskedSumTarget), so the head is a MatMul the autodiff differentiates. Their
 * GradientResult.scores are that sum, not the similarity.
 */
import { type Box, iou, parseBoxConvention, toXyxy } from '../core/detection/boxes.js';
import { SightlineError } from '../core/errors.js';
import type { Capability, LayerInfo, Model, ModelOutput, ModelSpec, RunOptions } from '../core/model.js';
import { type MaskedSumTarget, targetSpec } from '../core/targets.js';
import type { Tensor } from '../core/tensor.js';
import {
  type DecodedDetections,
  type DecodeOptions,
  type Detection,
  decodeDetections,
} from './detect-decode.js';
import { DETECT_FORMATS, type DetectFormat, type DetectLayout, type RawLayout } from './detect-format.js';

/** The anchors a box-target head sums over overlap the detection at least this much (issue 14). */
export const HEAD_IOU = 0.5;

/** The decode options a detector's spec implies (flags and sidecar through ModelSpec.detect). */
export function decodeOptions(spec: ModelSpec): DecodeOptions {
  const d = spec.detect ?? {};
  return {
    inputWidth: spec.width,
    inputHeight: spec.height,
    ...(d.format !== undefined ? { format: checkDetectFormat(d.format) } : {}),
    ...(d.boxes !== undefined ? { boxes: parseBoxConvention(d.boxes) } : {}),
    ...(d.scoreThreshold !== undefined ? { scoreThreshold: d.scoreThreshold } : {}),
    ...(d.iouThreshold !== undefined ? { iouThreshold: d.iouThreshold } : {}),
  };
}

export function checkDetectFormat(format: unknown): DetectFormat {
  if (typeof format === 'string' && (DETECT_FORMATS as readonly string[]).includes(format))
    return format as DetectFormat;
  throw new SightlineError(
    'INVALID_ARGUMENT',
    `The detect format ${JSON.stringify(format)} is not one of ${DETECT_FORMATS.join(', ')}.`,
  );
}

/** Every output of one run; a model without capability 'outputs' is refused in words. */
export async function detectorOutputs(
  model: Model,
  batch: Tensor,
  options: RunOptions = {},
): Promise<readonly ModelOutput[]> {
  if (!model.outputs)
    throw new SightlineError(
      'MISSING_CAPABILITY',
      'This model cannot give all its outputs at once, which reading a detector needs (ONNX models can; HTTP and TF.js detectors are not supported yet).',
      { capability: 'outputs' },
    );
  return model.outputs(batch, options);
}

/** The detections of each image of a batch, as the spec says to read them. */
export async function detect(
  model: Model,
  batch: Tensor,
  options: RunOptions = {},
): Promise<DecodedDetections> {
  return decodeDetections(await detectorOutputs(model, batch, options), decodeOptions(model.spec));
}

/** Whether the layout's outputs carry a batch axis; post-NMS exports often have none (one image a run). */
function batched(layout: DetectLayout, outputs: readonly ModelOutput[]): boolean {
  if (layout.kind === 'raw') return true;
  if (layout.kind === 'post-nms') return outputs[layout.boxes].dims.length === 3;
  return outputs[layout.output].dims.length === 3;
}

/** The detection a D-RISE target compares proposals with: its box (input pixels) and class. */
export interface DetectionVector {
  readonly box: Box;
  readonly classIndex: number;
}

/** D-RISE's similarity of each image's proposals to `target` (see the file's comment), one per image. */
export function driseSimilarity(
  outputs: readonly ModelOutput[],
  layout: DetectLayout,
  options: DecodeOptions,
  target: DetectionVector,
): Float32Array {
  return driseSimilarities(outputs, layout, options, [target])[0];
}

/** driseSimilarity for several targets, reading the outputs once: one array per target. */
export function driseSimilarities(
  outputs: readonly ModelOutput[],
  layout: DetectLayout,
  options: DecodeOptions,
  targets: readonly DetectionVector[],
): Float32Array[] {
  if (layout.kind === 'raw') return rawSimilarities(outputs, layout, options, targets);
  // Post-NMS rows: every row the model gave, below the score threshold too.
  const all = decodeDetections(outputs, { ...options, format: layout.format, scoreThreshold: 0 });
  return targets.map((target) =>
    Float32Array.from(all.images, (dets) => {
      let best = 0;
      for (const d of dets)
        if (d.classIndex === target.classIndex) best = Math.max(best, iou(target.box, d.box) * d.score);
      return best;
    }),
  );
}

function rawSimilarities(
  outputs: readonly ModelOutput[],
  l: RawLayout,
  options: DecodeOptions,
  targets: readonly DetectionVector[],
): Float32Array[] {
  const out = outputs[l.output];
  const data = out.data;
  const n = out.dims[0];
  const step = l.channelsFirst ? l.anchors : 1;
  const first = 4 + (l.objectness ? 1 : 0);
  const C = l.classes;
  const objectnessAt = l.objectness ? 4 * step : -1;
  const k = targets.length;
  const results = targets.map(() => new Float32Array(n));
  const best = new Float64Array(k);
  // Where each target's class score sits from an anchor's first number.
  const classAt = Int32Array.from(targets, (t) => (first + t.classIndex) * step);
  const A = l.anchors;
  const channels = out.dims[l.channelsFirst ? 1 : 2];
  const conv = options.boxes ?? { format: 'cxcywh', normalized: false };
  for (let b = 0; b < n; b++) {
    best.fill(0);
    for (let a = 0; a < A; a++) {
      const base = b * A * channels + (l.channelsFirst ? a : a * channels);
      let squares = 0;
      let top = 0;
      for (let c = 0, j = base + first * step; c < C; c++, j += step) {
        const v = data[j];
        squares += v * v;
        top = Math.max(top, v);
      }
      if (!(squares > 0)) continue;
      const norm = Math.sqrt(squares);
      const objectness = objectnessAt >= 0 ? data[base + objectnessAt] : top;
      let box: Box | undefined;
      for (let t = 0; t < k; t++) {
        const cosine = data[base + classAt[t]] / norm;
        // IoU ≤ 1, so an anchor whose class evidence cannot beat the best so far needs no box: on a small
        // detector decoding every anchor's box cost a tenth of its pass.
        if (!(cosine * objectness > best[t])) continue;
        box ??= toXyxy(data, base, step, conv, options.inputWidth, options.inputHeight);
        const overlap = iou(targets[t].box, box);
        if (!(overlap > 0)) continue;
        const s = overlap * cosine * objectness;
        if (s > best[t]) best[t] = s;
      }
    }
    for (let t = 0; t < targets.length; t++) {
      if (!Number.isFinite(best[t]))
        throw new SightlineError(
          'MODEL_OUTPUT',
          `The detector's outputs for masked image ${b} are not finite.`,
        );
      results[t][b] = best[t];
    }
  }
  return results;
}

/** Calls `visit` with each anchor of image b, its decoded box and the offset of its first number. */
function forEachAnchorBox(
  out: ModelOutput,
  l: RawLayout,
  options: DecodeOptions,
  b: number,
  visit: (anchor: number, box: Box, base: number) => void,
): void {
  const A = l.anchors;
  const channels = out.dims[l.channelsFirst ? 1 : 2];
  const step = l.channelsFirst ? A : 1;
  const conv = options.boxes ?? { format: 'cxcywh', normalized: false };
  for (let a = 0; a < A; a++) {
    const base = b * A * channels + (l.channelsFirst ? a : a * channels);
    const box = toXyxy(out.data, base, step, conv, options.inputWidth, options.inputHeight);
    visit(a, box, base);
  }
}

/**
 * The box-target head's mask over one image's raw output: 1 at the class-c score of every anchor whose box in
 * the unmodified photo's outputs overlaps the detection with IoU ≥ HEAD_IOU. Refused for post-NMS layouts.
 */
export function boxHeadTarget(
  outputs: readonly ModelOutput[],
  layout: DetectLayout,
  options: DecodeOptions,
  target: DetectionVector,
): MaskedSumTarget & { readonly anchors: number } {
  if (layout.kind !== 'raw')
    throw new SightlineError(
      'MISSING_CAPABILITY',
      `A box target for gradients needs the detector's raw anchors (yolov8 or yolov5 layouts); a ${layout.format} model gives its detections after NMS. Use --method d-rise, rise or occlusion.`,
      { capability: 'inputGradients' },
    );
  const out = outputs[layout.output];
  const A = layout.anchors;
  const channels = out.dims[layout.channelsFirst ? 1 : 2];
  const step = layout.channelsFirst ? A : 1;
  const first = 4 + (layout.objectness ? 1 : 0);
  const weights = new Float32Array(A * channels);
  let anchors = 0;
  forEachAnchorBox(out, layout, options, 0, (_a, box, base) => {
    if (iou(target.box, box) >= HEAD_IOU) {
      weights[base + (first + target.classIndex) * step] = 1;
      anchors++;
    }
  });
  return {
    kind: 'masked-sum',
    weights,
    anchors,
    what: `a ${layout.format} output of ${channels} × ${A} numbers an image`,
  };
}

/** Map layers tried, from the default back, for one whose gradient the box target reaches. */
export const DEFAULT_LAYER_TRIES = 8;

/**
 * D-RISE's similarity of each masked image of a batch to each of `targets`, [n, targets]: one run of the
 * detector for all of them. Layouts without a batch axis run image by image.
 */
function similarities(
  model: Model,
  layout: DetectLayout,
  targets: readonly DetectionVector[],
  oneByOne: boolean,
): (batch: Tensor, run?: RunOptions) => Promise<Tensor> {
  const options = { ...decodeOptions(model.spec), format: layout.format };
  const k = targets.length;
  const fill = async (batch: Tensor, run: RunOptions, data: Float32Array, first: number) => {
    const outputs = await detectorOutputs(model, batch, run);
    driseSimilarities(outputs, layout, options, targets).forEach((s, t) => {
      for (let i = 0; i < s.length; i++) data[(first + i) * k + t] = s[i];
    });
  };
  return async (batch, run = {}) => {
    const n = batch.dims[0];
    const data = new Float32Array(n * k);
    if (!oneByOne) await fill(batch, run, data, 0);
    else {
      const size = batch.data.length / n;
      for (let i = 0; i < n; i++) {
        const one = {
          data: batch.data.subarray(i * size, (i + 1) * size),
          dims: [1, ...batch.dims.slice(1)],
        };
        await fill(one, run, data, i);
      }
    }
    return { data, dims: [n, k] };
  };
}

/**
 * The model D-RISE explains every detection of one photo with at once: output t is the similarity to
 * detections[t] (task 'score', one label each), so one masked pass serves them all. Predict only.
 */
export function detectionsModel(
  model: Model,
  photo: readonly ModelOutput[],
  layout: DetectLayout,
  detections: readonly Detection[],
  labels: readonly string[],
): Model {
  const targets = detections.map((d) => ({ box: d.box, classIndex: d.classIndex }));
  const oneByOne = !batched(layout, photo);
  return {
    spec: { ...targetSpec(model.spec, labels[0] ?? ''), labels: [...labels], outputShape: [targets.length] },
    capabilities: new Set<Capability>(['predict']),
    notes: model.notes,
    maxBatch: oneByOne ? 1 : model.maxBatch,
    predict: similarities(model, layout, targets, oneByOne),
    async dispose() {},
  };
}

/**
 * The model a method explains for one detection: predict is D-RISE's similarity; where the detector can append
 * a head and its layout is raw, input gradients and layers come from the box-target head (made on first use).
 * `photo` are the unmodified photo's outputs (batch of 1). The caller disposes it; `model` stays the caller's.
 *
 * With `probe` (the photo's input tensor), the default CAM layer is the last map layer, from the graph's own
 * default back (at most DEFAULT_LAYER_TRIES), whose gradient of the box target on the photo is not all zero:
 * the graph's default is its last spatial map, which in a YOLOv5-style head can be the objectness branch (the
 * box target sums class scores, so its gradient there is 0 and Grad-CAM's map is empty), and in a multi-scale
 * head the scale the detection does not lie on.
 */
export function detectionModel(
  model: Model,
  photo: readonly ModelOutput[],
  layout: DetectLayout,
  detection: Detection,
  label: string,
  probe?: Tensor,
): Model {
  const options = decodeOptions(model.spec);
  const spec = targetSpec(model.spec, label);
  const target: DetectionVector = { box: detection.box, classIndex: detection.classIndex };
  const oneByOne = !batched(layout, photo);
  const gradients = layout.kind === 'raw' && model.withTargetHead !== undefined;
  let head: Promise<Model> | undefined;
  const headModel = () => {
    head ??= model.withTargetHead!(boxHeadTarget(photo, layout, options, target), spec);
    return head;
  };
  let defaultLayer: Promise<string> | undefined;
  const layers = async () => {
    const head = await headModel();
    const listed = await head.layers!();
    if (!probe || !head.layer) return listed;
    defaultLayer ??= reachedLayer(head, listed.layers, listed.defaultLayer, probe);
    return { ...listed, defaultLayer: await defaultLayer };
  };
  const capabilities = new Set<Capability>(['predict']);
  if (gradients)
    for (const c of ['inputGradients', 'layers'] as const) if (model.capabilities.has(c)) capabilities.add(c);
  return {
    spec,
    capabilities,
    notes: model.notes,
    maxBatch: oneByOne ? 1 : model.maxBatch,
    predict: similarities(model, layout, [target], oneByOne),
    ...(capabilities.has('inputGradients')
      ? {
          inputGradients: async (batch, seed, run) => (await headModel()).inputGradients!(batch, seed, run),
        }
      : {}),
    ...(capabilities.has('layers')
      ? {
          layers,
          layer: async (name, batch, seed, run) => (await headModel()).layer!(name, batch, seed, run),
        }
      : {}),
    async dispose() {
      const made = head;
      head = undefined;
      await (await made?.catch(() => undefined))?.dispose();
    },
  } satisfies Model;
}

/**
 * The last map layer, from `fallback` back (DEFAULT_LAYER_TRIES at most), where the head's gradient on `probe`
 * has a non-zero value; `fallback` when none does (the map is then empty whichever layer is read).
 */
async function reachedLayer(
  head: Model,
  layers: readonly LayerInfo[],
  fallback: string,
  probe: Tensor,
): Promise<string> {
  const end = layers.findIndex((l) => l.name === fallback);
  const seed = { data: Float32Array.of(1), dims: [1, 1] };
  let tried = 0;
  for (let i = end; i >= 0 && tried < DEFAULT_LAYER_TRIES; i--) {
    const info = layers[i];
    if ((info.kind ?? 'map') !== 'map' || info.dims.length !== 4) continue;
    tried++;
    const { gradients } = await head.layer!(info.name, probe, seed);
    if (gradients?.data.some((v) => v !== 0)) return info.name;
  }
  return fallback;
}
