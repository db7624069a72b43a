/**
 * Detectors in explain's terms (task 'detect'): a photo's detections, and one of them prepared as the target
 * (models/detect-target.ts makes the model a method explains: D-RISE's similarity for black-box methods, a
 * box-target head for gradients and CAM on raw layouts). Boxes are given in photo pixels: the letterbox or
 * resize is undone (core/preprocess.ts boxToImage); so are instance masks (models/detect-mask.ts), which then
 * serve as the detection's region for "is the map on the object?", with the box where there is no mask.
 */
import type { AttributionMap } from '../core/attribution.js';
import type { Box } from '../core/detection/boxes.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { Model, ModelOutput } from '../core/model.js';
import { boxToImage, type Geometry, preprocess } from '../core/preprocess.js';
import type { Tensor } from '../core/tensor.js';
import { maskAttention, type RegionAttention } from '../metrics/region.js';
import { type RegionLevel, regionVerdict } from '../metrics/verdict.js';
import { type Detection, decodeDetections } from '../models/detect-decode.js';
import type { DetectLayout } from '../models/detect-format.js';
import { fullPhotoMask, maskArea, type PhotoMask, photoMask } from '../models/detect-mask.js';
import { decodeOptions, detectionModel, detectorOutputs } from '../models/detect-target.js';
import { resolveLabel } from '../models/label-match.js';

/** One detection as people and --json see it. */
export interface PhotoDetection {
  /** Its rank among the photo's detections, highest score first (what --target 2 names). */
  readonly index: number;
  readonly label: string;
  readonly classIndex: number;
  readonly score: number;
  /** x0, y0, x1, y1 in photo pixels. */
  readonly box: Box;
  /** The same box in the model input's pixels. */
  readonly inputBox: Box;
  /** An instance-segmentation detector's mask over the photo (thresholded at 0.5); absent for box detectors. */
  readonly mask?: PhotoMask;
}

export interface DetectedPhoto {
  readonly input: Tensor;
  readonly geometry: Geometry;
  readonly format: DetectLayout['format'];
  readonly detections: readonly PhotoDetection[];
}

const labelOfClass = (model: Model, c: number) => model.spec.labels[c] ?? `class ${c}`;

function toPhoto(
  model: Model,
  geometry: Geometry,
  d: Detection,
  index: number,
  masks = true,
): PhotoDetection {
  return {
    index,
    label: labelOfClass(model, d.classIndex),
    classIndex: d.classIndex,
    score: d.score,
    box: boxToImage(d.box, geometry, model.spec.width, model.spec.height),
    inputBox: d.box,
    ...(d.mask && masks ? { mask: photoMask(d.mask, model.spec.width, model.spec.height, geometry) } : {}),
  };
}

/** How much of a detection's map lies on its object: its mask where it has one, else its box. */
export interface DetectionRegionShare extends RegionAttention {
  /** Which region was measured: 'box' also for a seg detection whose mask holds no photo pixel. */
  readonly region: 'mask' | 'box';
  readonly level: RegionLevel;
}

/**
 * The map's attention inside the detection's region (metrics/region.ts maskAttention, with the classifier's
 * verdict levels of metrics/verdict.ts); undefined for a map with no attention at all (nothing to share) or a
 * region that covers no photo pixel.
 */
export function detectionRegionShare(
  map: AttributionMap,
  detection: { readonly box: Box; readonly mask?: PhotoMask },
): DetectionRegionShare | undefined {
  const { width, height } = map;
  const useMask = detection.mask !== undefined && maskArea(detection.mask) > 0;
  const region =
    useMask && detection.mask
      ? fullPhotoMask(detection.mask, width, height)
      : boxPixels(detection.box, width, height);
  if (!region.includes(1)) return undefined;
  // No attention mass (maskAttention's default mode: positive values of a signed map, any value otherwise) is
  // an answer, nothing raised the score, not a failure; a non-finite value still fails in maskAttention.
  if (map.data.every((v) => Number.isFinite(v) && (map.signed ? v <= 0 : v === 0))) return undefined;
  const attention = maskAttention(map, region);
  return { ...attention, region: useMask ? 'mask' : 'box', level: regionVerdict(attention).level };
}

/** The photo's detections (after NMS for raw layouts), highest score first, with boxes in photo pixels. */
export async function detectPhoto(
  model: Model,
  image: RgbImage,
  signal?: AbortSignal,
): Promise<DetectedPhoto> {
  const { input, geometry, format, detections } = await detectPhotoOutputs(model, image, signal);
  return { input, geometry, format, detections };
}

/**
 * detectPhoto's answer with what its one pass read: the detector's outputs, their layout and the detections in
 * input pixels, which D-RISE of all the photo's detections at once (dRiseDetections) starts from.
 */
export async function detectPhotoOutputs(
  model: Model,
  image: RgbImage,
  signal?: AbortSignal,
): Promise<
  DetectedPhoto & { outputs: readonly ModelOutput[]; layout: DetectLayout; raw: readonly Detection[] }
> {
  const { tensor: input, geometry } = preprocess(image, model.spec);
  const outputs = await detectorOutputs(model, input, { signal });
  const decoded = decodeDetections(outputs, decodeOptions(model.spec));
  const raw = decoded.images[0] ?? [];
  return {
    input,
    geometry,
    format: decoded.layout.format,
    detections: raw.map((d, i) => toPhoto(model, geometry, d, i)),
    outputs,
    layout: decoded.layout,
    raw,
  };
}

/** What the prepared target of a detector is, for people and --json. */
export interface DetectionDescription {
  readonly kind: 'detection';
  readonly detection: number;
  readonly class: number;
  readonly score: number;
  readonly box: Box;
}

/**
 * The target explain gives a detection: its caption (label and rank, the one output of the model that
 * explains it) and its description. One place, since the CLI's D-RISE of all detections at once names them too.
 */
export function detectionTarget(d: PhotoDetection): {
  index: 0;
  label: string;
  description: DetectionDescription;
} {
  return {
    index: 0,
    label: `${d.label} #${d.index}`,
    description: { kind: 'detection', detection: d.index, class: d.classIndex, score: d.score, box: d.box },
  };
}

/**
 * The detection `wanted` names (its index in the list, 'top' for the first, or a label: the best detection of
 * that class), and the model whose one output explains it. The caller disposes `model`.
 */
export async function prepareDetection(
  model: Model,
  image: RgbImage,
  wanted: 'top' | number | string,
  signal?: AbortSignal,
): Promise<{
  input: Tensor;
  geometry: Geometry;
  detections: readonly PhotoDetection[];
  chosen: PhotoDetection;
  model: Model;
  scores: Tensor;
}> {
  const { tensor: input, geometry } = preprocess(image, model.spec);
  const outputs = await detectorOutputs(model, input, { signal });
  const decoded = decodeDetections(outputs, decodeOptions(model.spec));
  const raw = decoded.images[0] ?? [];
  // Without masks: mapping each onto the photo would be redone for every detection explained.
  const detections = raw.map((d, i) => toPhoto(model, geometry, d, i, false));
  const i = pickDetection(model, detections, wanted);
  const chosen = detections[i];
  const { label } = detectionTarget(chosen);
  // The unmodified photo's outputs fix the head's anchors; batchless outputs are the photo's own.
  const explained = detectionModel(model, outputs, decoded.layout, raw[i], label, input);
  try {
    const scores = await explained.predict(input, { signal });
    return { input, geometry, detections, chosen, model: explained, scores };
  } catch (error) {
    await explained.dispose();
    throw error;
  }
}

function pickDetection(
  model: Model,
  detections: readonly PhotoDetection[],
  wanted: 'top' | number | string,
): number {
  const threshold = model.spec.detect?.scoreThreshold ?? 0.25;
  if (detections.length === 0)
    throw new SightlineError(
      'UNKNOWN_TARGET',
      `The detector found nothing in this photo above the score threshold ${threshold}; lower it (--score-threshold 0.05) to see weaker detections.`,
      { scoreThreshold: threshold },
    );
  if (wanted === 'top') return 0;
  const asNumber =
    typeof wanted === 'number' ? wanted : /^\d+$/.test(wanted.trim()) ? Number(wanted) : undefined;
  if (asNumber !== undefined) {
    if (!Number.isInteger(asNumber) || asNumber >= detections.length)
      throw invalidArgument('target', `a detection index from 0 to ${detections.length - 1}`, wanted);
    return asNumber;
  }
  const labels = model.spec.labels;
  const classes = Math.max(labels.length, ...detections.map((d) => d.classIndex + 1));
  const c = resolveLabel(String(wanted), labels, { classes, noun: 'Target' }).index;
  const found = detections.findIndex((d) => d.classIndex === c);
  if (found < 0)
    throw new SightlineError(
      'UNKNOWN_TARGET',
      `The detector found no '${labelOfClass(model, c)}' in this photo (above the score threshold ${threshold}); it found ${[...new Set(detections.map((d) => d.label))].join(', ')}.`,
      { class: c },
    );
  return found;
}

/**
 * The pixels whose centre lies in the box (core/regions/shapes.ts Box's rule: left and top edges in, right and
 * bottom out); none for a degenerate box, which a random-weight detector may give.
 */
function boxPixels(box: Box, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const x0 = Math.max(0, Math.ceil(box[0] - 0.5));
  const x1 = Math.min(width, Math.ceil(box[2] - 0.5));
  const y0 = Math.max(0, Math.ceil(box[1] - 0.5));
  const y1 = Math.min(height, Math.ceil(box[3] - 0.5));
  for (let y = y0; y < y1; y++) out.fill(1, y * width + x0, y * width + Math.max(x0, x1));
  return out;
}
