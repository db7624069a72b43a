// Detections matched to ground-truth objects as COCO's evaluation matches them (the audit counts found objects,
// false positives and misses with it; evaluate finds the object a detection's map should point at).
import { type Box, iou } from './boxes.js';

/** IoU a detection needs with a ground-truth object of its class to find it (COCO's AP50). */
export const MATCH_IOU = 0.5;

/**
 * Greedy matching as COCO's evaluation does it: detections in score order, each taking the unmatched object of
 * its class it overlaps most, if that IoU is ≥ MATCH_IOU. Returns, per detection, the object index or -1.
 */
export function matchDetections(
  detections: readonly { classIndex: number; score: number; box: Box }[],
  objects: readonly { classIndex: number; box: Box }[],
): { object: number; iou: number }[] {
  const taken = new Array<boolean>(objects.length).fill(false);
  const result = detections.map(() => ({ object: -1, iou: 0 }));
  const order = detections.map((_, i) => i).sort((a, b) => detections[b].score - detections[a].score);
  for (const i of order) {
    let best = -1;
    let bestIou = MATCH_IOU;
    objects.forEach((o, j) => {
      if (taken[j] || o.classIndex !== detections[i].classIndex) return;
      const v = iou(detections[i].box, o.box);
      if (v >= bestIou) {
        best = j;
        bestIou = v;
      }
    });
    if (best >= 0) {
      taken[best] = true;
      result[i] = { object: best, iou: bestIou };
    }
  }
  return result;
}
