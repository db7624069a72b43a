/**
 * Detector outputs → detections per image (pure, no I/O): the raw YOLO layouts through a score threshold, the
 * class-wise NMS of core/detection/nms.ts and, for the seg layouts, each kept detection's mask; the post-NMS
 * layouts read as they are, through the score threshold. Boxes come out xyxy in the model input's pixels,
 * unclipped (the photo's geometry clips them). Every number read is checked finite; counts are bounded.
 *
 * Raw layouts follow Ultralytics' non_max_suppression with multi_label off: an anchor's class is its best
 * class (the first on ties); YOLOv5 first drops anchors whose objectness is not above the threshold, then
 * scores each class as objectness × class score; a candidate needs a score above the threshold.
 */
import { type Box, type BoxConvention, toXyxy } from '../core/detection/boxes.js';
import {
  batchedNms,
  DEFAULT_MAX_CANDIDATES,
  DEFAULT_MAX_DETECTIONS,
  topByScore,
} from '../core/detection/nms.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import { formatCount } from '../core/text.js';
import {
  type DetectFormat,
  type DetectLayout,
  type OutputShape,
  type PostNmsLayout,
  type RawLayout,
  type RowsLayout,
  recognizeDetectFormat,
} from './detect-format.js';

export interface NamedOutput extends OutputShape {
  readonly data: Float32Array;
}

/** A detection's mask at the prototype resolution: sigmoid(coefficients · prototypes), 0 outside its box. */
export interface DetectionMask {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export interface Detection {
  /** x0, y0, x1, y1 in the model input's pixels. */
  readonly box: Box;
  readonly score: number;
  readonly classIndex: number;
  /** The class vector (before objectness) for D-RISE's cosine similarity; raw layouts only. */
  readonly classScores?: Float32Array;
  /** YOLOv5-style objectness, where the format has one. */
  readonly objectness?: number;
  /** The anchor (raw layouts) or row (post-NMS) the detection came from. */
  readonly index: number;
  readonly mask?: DetectionMask;
}

export interface DecodeOptions {
  /** Width and height of the model input, for normalised boxes and mask crops. */
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly format?: DetectFormat;
  /** Overrides the format's box convention (raw: cxcywh pixels; post-NMS: xyxy pixels, TF yxyx 0–1). */
  readonly boxes?: BoxConvention;
  /** Ultralytics' conf default 0.25. */
  readonly scoreThreshold?: number;
  /** Ultralytics' predict default 0.7. */
  readonly iouThreshold?: number;
  readonly maxDetections?: number;
  readonly maxCandidates?: number;
}

export interface DecodedDetections {
  readonly layout: DetectLayout;
  /** Detections of each image of the batch, highest score first. */
  readonly images: readonly (readonly Detection[])[];
}

/** At most this many mask coefficients (Ultralytics uses 32) and prototype pixels per image. */
export const MAX_MASK_COEFFICIENTS = 1024;
export const MAX_PROTOTYPE_PIXELS = 4096 * 4096;

export function decodeDetections(outputs: readonly NamedOutput[], options: DecodeOptions): DecodedDetections {
  for (const o of outputs) {
    const size = o.dims.reduce((a, b) => a * b, 1);
    if (!o.dims.every((d) => Number.isInteger(d) && d >= 0) || size !== o.data.length)
      throw new SightlineError(
        'MODEL_OUTPUT',
        `The model's output '${o.name}' holds ${formatCount(o.data.length)} numbers, not the ${formatCount(size)} its shape [${o.dims.join(', ')}] says.`,
      );
  }
  const layout = recognizeDetectFormat(outputs, options.format);
  if (layout.kind === 'raw') return { layout, images: decodeRaw(outputs, layout, options) };
  if (layout.kind === 'post-nms') return { layout, images: decodePostNms(outputs, layout, options) };
  return { layout, images: decodeRows(outputs, layout, options) };
}

interface Settings {
  readonly width: number;
  readonly height: number;
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
  readonly maxDetections: number;
  readonly maxCandidates: number;
}

function settings(o: DecodeOptions): Settings {
  const s = {
    width: o.inputWidth,
    height: o.inputHeight,
    scoreThreshold: o.scoreThreshold ?? 0.25,
    iouThreshold: o.iouThreshold ?? 0.7,
    maxDetections: o.maxDetections ?? DEFAULT_MAX_DETECTIONS,
    maxCandidates: o.maxCandidates ?? DEFAULT_MAX_CANDIDATES,
  };
  if (!(s.width >= 1 && s.height >= 1)) throw invalidArgument('input size', 'positive', [s.width, s.height]);
  if (!(s.scoreThreshold >= 0 && s.scoreThreshold <= 1))
    throw invalidArgument('scoreThreshold', 'a number in 0–1', s.scoreThreshold);
  return s;
}

function notFinite(what: string, value: number): SightlineError {
  return new SightlineError(
    'MODEL_OUTPUT',
    `The detector gave ${value} for ${what}; expected a finite number (the model's output is broken for this input).`,
    { value: String(value) },
  );
}

function decodeRaw(outputs: readonly NamedOutput[], l: RawLayout, options: DecodeOptions): Detection[][] {
  const s = settings(options);
  const conv = options.boxes ?? { format: 'cxcywh', normalized: false };
  const out = outputs[l.output];
  const n = out.dims[0];
  const A = l.anchors;
  const channels = out.dims[l.channelsFirst ? 1 : 2];
  const step = l.channelsFirst ? A : 1; // between an anchor's channels
  const at = (b: number, a: number) => b * A * channels + (l.channelsFirst ? a : a * channels);
  const first = 4 + (l.objectness ? 1 : 0);
  const protos = l.protos !== undefined ? outputs[l.protos] : undefined;
  if (
    l.maskCoefficients > MAX_MASK_COEFFICIENTS ||
    (protos && protos.dims[2] * protos.dims[3] > MAX_PROTOTYPE_PIXELS)
  )
    throw new SightlineError(
      'MODEL_OUTPUT',
      `The detector's prototypes [${protos?.dims.join(', ')}] are larger than the ${MAX_MASK_COEFFICIENTS} × 4096 × 4096 allowed.`,
    );
  const images: Detection[][] = [];
  const scores = new Float32Array(A);
  const classes = new Int32Array(A);
  const candidates = new Uint32Array(A);
  for (let b = 0; b < n; b++) {
    let count = 0;
    for (let a = 0; a < A; a++) {
      const base = at(b, a);
      let obj = 1;
      if (l.objectness) {
        obj = out.data[base + 4 * step];
        if (!Number.isFinite(obj)) throw notFinite(`the objectness of anchor ${a}`, obj);
        if (!(obj > s.scoreThreshold)) continue;
      }
      let best = -Infinity;
      let cls = 0;
      for (let c = 0; c < l.classes; c++) {
        const v = out.data[base + (first + c) * step];
        if (!Number.isFinite(v)) throw notFinite(`class ${c} of anchor ${a}`, v);
        if (v > best) {
          best = v;
          cls = c;
        }
      }
      // float32 as torch multiplies: the product of two float32 values rounded once.
      const score = Math.fround(best * obj);
      if (!(score > s.scoreThreshold)) continue;
      scores[count] = score;
      classes[count] = cls;
      candidates[count++] = a;
    }
    const cut = topByScore(scores.subarray(0, count), s.maxCandidates);
    const boxes: Box[] = [];
    for (const i of cut) {
      const box = toXyxy(out.data, at(b, candidates[i]), step, conv, s.width, s.height);
      if (!box.every(Number.isFinite))
        throw notFinite(
          `the box of anchor ${candidates[i]}`,
          box.find((v) => !Number.isFinite(v)) ?? Number.NaN,
        );
      boxes.push(box);
    }
    const cutScores = Float32Array.from(cut, (i) => scores[i]);
    const cutClasses = Int32Array.from(cut, (i) => classes[i]);
    const kept = batchedNms(
      { boxes, scores: cutScores, classes: cutClasses },
      { iouThreshold: s.iouThreshold, maxDetections: s.maxDetections, maxCandidates: s.maxCandidates },
    );
    images.push(
      kept.map((k) => {
        const a = candidates[cut[k]];
        const base = at(b, a);
        const classScores = new Float32Array(l.classes);
        for (let c = 0; c < l.classes; c++) classScores[c] = out.data[base + (first + c) * step];
        const det: Detection = {
          box: boxes[k],
          score: cutScores[k],
          classIndex: cutClasses[k],
          classScores,
          index: a,
          ...(l.objectness ? { objectness: out.data[base + 4 * step] } : {}),
        };
        if (!protos) return det;
        const coeffs = new Float32Array(l.maskCoefficients);
        for (let m = 0; m < coeffs.length; m++) {
          coeffs[m] = out.data[base + (first + l.classes + m) * step];
          if (!Number.isFinite(coeffs[m])) throw notFinite(`mask coefficient ${m} of anchor ${a}`, coeffs[m]);
        }
        return { ...det, mask: instanceMask(protos, b, coeffs, boxes[k], s) };
      }),
    );
  }
  return images;
}

/**
 * Ultralytics' process_mask at the prototype resolution: sigmoid(coefficients · prototypes), kept where the
 * pixel's index lies in the box scaled to that resolution (column ≥ x0 and < x1, as its crop_mask compares).
 */
function instanceMask(
  protos: NamedOutput,
  b: number,
  coeffs: Float32Array,
  box: Box,
  s: Settings,
): DetectionMask {
  const [, m, h, w] = protos.dims;
  const sx = w / s.width;
  const sy = h / s.height;
  const x0 = box[0] * sx;
  const x1 = box[2] * sx;
  const y0 = box[1] * sy;
  const y1 = box[3] * sy;
  const data = new Float32Array(w * h);
  const plane = w * h;
  const base = b * m * plane;
  for (let y = Math.max(0, Math.ceil(y0)); y < Math.min(h, y1); y++) {
    for (let x = Math.max(0, Math.ceil(x0)); x < Math.min(w, x1); x++) {
      let z = 0;
      for (let k = 0; k < m; k++) z += coeffs[k] * protos.data[base + k * plane + y * w + x];
      if (!Number.isFinite(z)) throw notFinite(`the mask at prototype pixel ${x}, ${y}`, z);
      data[y * w + x] = 1 / (1 + Math.exp(-z));
    }
  }
  return { width: w, height: h, data };
}

/** A post-NMS class number: a finite whole number (TF gives them as floats). */
function classNumber(v: number, row: number): number {
  if (!Number.isFinite(v) || v < 0 || Math.round(v) !== v)
    throw new SightlineError(
      'MODEL_OUTPUT',
      `The detector gave ${v} as the class of detection ${row}; expected a whole number ≥ 0.`,
    );
  return v;
}

/** Kept rows above the threshold, highest score first (stable), at most maxDetections. */
function finish(dets: Detection[], s: Settings): Detection[] {
  return dets
    .filter((d) => d.score > s.scoreThreshold)
    .sort((p, q) => q.score - p.score)
    .slice(0, s.maxDetections);
}

function decodePostNms(
  outputs: readonly NamedOutput[],
  l: PostNmsLayout,
  options: DecodeOptions,
): Detection[][] {
  const s = settings(options);
  const conv =
    options.boxes ??
    (l.tensorflow ? { format: 'yxyx', normalized: true } : { format: 'xyxy', normalized: false });
  const boxes = outputs[l.boxes];
  const batched = boxes.dims.length === 3;
  const n = batched ? boxes.dims[0] : 1;
  const k = boxes.dims[batched ? 1 : 0];
  const images: Detection[][] = [];
  for (let b = 0; b < n; b++) {
    let valid = k;
    if (l.count !== undefined) {
      const c = outputs[l.count].data;
      const v = c.length === n ? c[b] : c.length === 1 ? c[0] : Number.NaN;
      if (!Number.isFinite(v) || v < 0 || Math.round(v) !== v)
        throw new SightlineError(
          'MODEL_OUTPUT',
          `The detector's detection count for image ${b} is ${v}; expected a whole number ≥ 0.`,
        );
      valid = Math.min(k, v);
    }
    const dets: Detection[] = [];
    for (let r = 0; r < valid; r++) {
      const score = outputs[l.scores].data[b * k + r];
      if (!Number.isFinite(score)) throw notFinite(`the score of detection ${r}`, score);
      const box = toXyxy(boxes.data, (b * k + r) * 4, 1, conv, s.width, s.height);
      if (!box.every(Number.isFinite)) throw notFinite(`the box of detection ${r}`, Number.NaN);
      const classIndex = l.classes === undefined ? 0 : classNumber(outputs[l.classes].data[b * k + r], r);
      dets.push({ box, score, classIndex, index: r });
    }
    images.push(finish(dets, s));
  }
  return images;
}

function decodeRows(outputs: readonly NamedOutput[], l: RowsLayout, options: DecodeOptions): Detection[][] {
  const s = settings(options);
  const conv = options.boxes ?? { format: 'xyxy', normalized: false };
  const out = outputs[l.output];
  const w = l.width;
  const rows = out.data.length / w;
  const batched = out.dims.length === 3;
  const perImage = batched ? out.dims[1] : rows;
  const n = batched ? out.dims[0] : 1;
  const images: Detection[][] = Array.from({ length: n }, () => []);
  for (let r = 0; r < rows; r++) {
    const o = r * w;
    let b = batched ? Math.floor(r / perImage) : 0;
    if (w === 7) {
      b = classNumber(out.data[o], r);
      if (batched && b !== Math.floor(r / perImage))
        throw new SightlineError(
          'MODEL_OUTPUT',
          `Detection row ${r} names image ${b} but lies in image ${Math.floor(r / perImage)}'s rows.`,
        );
      while (images.length <= b) {
        if (images.length >= 65_536)
          throw new SightlineError('MODEL_OUTPUT', `Detection row ${r} names image ${b}, beyond any batch.`);
        images.push([]);
      }
    }
    const boxAt = w === 7 ? o + 1 : o;
    const score = out.data[w === 7 ? o + 6 : o + 4];
    const cls = out.data[w === 7 ? o + 5 : o + 5];
    if (!Number.isFinite(score)) throw notFinite(`the score of detection row ${r}`, score);
    const box = toXyxy(out.data, boxAt, 1, conv, s.width, s.height);
    if (!box.every(Number.isFinite)) throw notFinite(`the box of detection row ${r}`, Number.NaN);
    images[b].push({ box, score, classIndex: classNumber(cls, r), index: r - (batched ? b * perImage : 0) });
  }
  return images.map((d) => finish(d, s));
}
