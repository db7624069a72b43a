// Evaluate on a detector: the pointing game and the other region metrics are played against the ground-truth
// object the explained detection found (IoU ≥ 0.5, same class, greedy by score as the audit matches), not
// against every object of the photo, which would reward a map that points at another object.

import { matchDetections } from '../core/detection/match.js';
import type { RgbImage } from '../core/image.js';
import type { Model } from '../core/model.js';
import { shapesMask } from '../core/regions/mask.js';
import { detectPhoto } from '../explain/detect.js';
import { resolveLabel } from '../models/label-match.js';

/**
 * The mask of the object the detection `target` names ('top', an index, or a label: the best detection of that
 * class) found, or why there is none (a sentence: a false positive, or a target not in the photo).
 */
export async function matchedObjectMask(
  model: Model,
  image: RgbImage,
  target: 'top' | number | string,
  objects: readonly { readonly label: string; readonly box: readonly [number, number, number, number] }[],
  signal?: AbortSignal,
): Promise<{ mask: Uint8Array } | { none: string }> {
  const { detections } = await detectPhoto(model, image, signal);
  const classes = Math.max(1, model.spec.labels.length);
  const truth = objects.map((o) => ({
    box: o.box,
    classIndex: resolveLabel(o.label, model.spec.labels, { classes, noun: 'Label' }).index,
  }));
  let i = -1;
  if (target === 'top') i = detections.length > 0 ? 0 : -1;
  else if (typeof target === 'number' || /^\d+$/.test(target.trim())) i = Number(target);
  else {
    const c = resolveLabel(target, model.spec.labels, { classes, noun: 'Target' }).index;
    i = detections.findIndex((d) => d.classIndex === c);
  }
  if (i < 0 || i >= detections.length) return { none: 'the detector finds no such detection in this photo' };
  const match = matchDetections(detections, truth)[i];
  if (match.object < 0)
    return {
      none: `detection #${i} (${detections[i].label}) matches no ground-truth object (a false positive), so it has no region to point at`,
    };
  const [x0, y0, x1, y1] = truth[match.object].box;
  return {
    mask: shapesMask(
      [{ type: 'box', x: x0, y: y0, width: x1 - x0, height: y1 - y0 }],
      image.width,
      image.height,
    ),
  };
}
