/**
 * D-RISE for every detection of one photo at once (issue 14): the masks and the detector's masked passes are
 * the same for all of a photo's detections, so one run of N passes gives each its map, where explaining them
 * one by one through explain() runs the detector N times per detection.
 */
import type { AttributionMap } from '../core/attribution.js';
import type { Model, ModelOutput } from '../core/model.js';
import type { ProgressCallback } from '../core/progress.js';
import type { Tensor } from '../core/tensor.js';
import { dRise } from '../methods/perturbation/d-rise.js';
import { type RiseOptions, riseMaps } from '../methods/perturbation/rise.js';
import type { Detection } from '../models/detect-decode.js';
import type { DetectLayout } from '../models/detect-format.js';
import { detectionsModel } from '../models/detect-target.js';

/**
 * D-RISE maps of several detections of one photo from one set of masked passes: the detector runs N times in
 * all, where explaining them one by one runs it N times each; map t equals dRise.attribute's for detections[t]
 * (same masks, same similarity, same sums). `photo` are the unmodified photo's outputs (its batch of 1) and
 * `input` the photo as the detector reads it.
 */
export async function dRiseDetections(
  model: Model,
  input: Tensor,
  photo: readonly ModelOutput[],
  layout: DetectLayout,
  detections: readonly Detection[],
  options: Partial<RiseOptions> = {},
  run: { signal?: AbortSignal; onProgress?: ProgressCallback } = {},
): Promise<AttributionMap[]> {
  if (detections.length === 0) return [];
  const labels = detections.map(
    (d, t) => `${model.spec.labels[d.classIndex] ?? `class ${d.classIndex}`} #${t}`,
  );
  const all = detectionsModel(model, photo, layout, detections, labels);
  return riseMaps(
    { model: all, input, classes: detections.length, ...run },
    { ...dRise.defaults, ...options } as RiseOptions,
    detections.map((_, t) => t),
  );
}
