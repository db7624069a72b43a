/**
 * Class-wise non-maximum suppression with torchvision.ops.batched_nms semantics: candidates in decreasing
 * score order; a candidate is kept unless a kept box of the same class overlaps it with IoU strictly above the
 * threshold; the kept ones come out in decreasing score order. Equal scores are taken in increasing candidate
 * index (a stable sort): torch's sort leaves that order unspecified, so fixtures avoid ties.
 *
 * Bounded on hostile outputs: as Ultralytics' non_max_suppression (max_nms = 30000, max_det = 300), only the
 * `maxCandidates` best-scoring candidates enter NMS and it stops after `maxDetections` kept boxes, so the
 * work is at most maxCandidates × maxDetections IoUs whatever the anchor count. Because the kept list is in
 * score order, stopping early keeps exactly the first `maxDetections` of the full NMS result.
 */
import { invalidArgument } from '../errors.js';
import { type Box, iou } from './boxes.js';

export interface NmsOptions {
  /** IoU above which the lower-scoring box of a class is suppressed (torchvision's iou_threshold). */
  readonly iouThreshold: number;
  /** At most this many boxes are kept (Ultralytics' max_det, default 300). */
  readonly maxDetections?: number;
  /** Only this many highest-scoring candidates enter NMS (Ultralytics' max_nms, default 30000). */
  readonly maxCandidates?: number;
}

export const DEFAULT_MAX_DETECTIONS = 300;
export const DEFAULT_MAX_CANDIDATES = 30_000;

export interface NmsCandidates {
  readonly boxes: readonly Box[];
  readonly scores: ArrayLike<number>;
  readonly classes: ArrayLike<number>;
}

/** Indices into the candidates of the boxes kept, in decreasing score order. */
export function batchedNms(c: NmsCandidates, options: NmsOptions): number[] {
  const { iouThreshold } = options;
  const maxDetections = options.maxDetections ?? DEFAULT_MAX_DETECTIONS;
  const maxCandidates = options.maxCandidates ?? DEFAULT_MAX_CANDIDATES;
  if (!(iouThreshold >= 0 && iouThreshold <= 1))
    throw invalidArgument('iouThreshold', 'a number in 0–1', iouThreshold);
  if (!Number.isInteger(maxDetections) || maxDetections < 1)
    throw invalidArgument('maxDetections', 'a positive integer', maxDetections);
  if (!Number.isInteger(maxCandidates) || maxCandidates < 1)
    throw invalidArgument('maxCandidates', 'a positive integer', maxCandidates);
  const n = c.boxes.length;
  if (c.scores.length !== n || c.classes.length !== n)
    throw invalidArgument('candidates', `as many scores and classes as boxes (${n})`, [
      c.scores.length,
      c.classes.length,
    ]);
  for (let i = 0; i < n; i++) {
    // A NaN would make the sort's comparison inconsistent and the order arbitrary.
    if (!Number.isFinite(c.scores[i])) throw invalidArgument(`scores[${i}]`, 'a finite number', c.scores[i]);
  }
  const order = topByScore(c.scores, maxCandidates);
  const kept: number[] = [];
  for (const i of order) {
    const box = c.boxes[i];
    const cls = c.classes[i];
    let suppressed = false;
    for (const k of kept) {
      if (c.classes[k] === cls && iou(c.boxes[k], box) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    kept.push(i);
    if (kept.length >= maxDetections) break;
  }
  return kept;
}

/**
 * Indices of the `limit` highest scores, highest first, ties by index. A typed array of indices keeps memory
 * at 4 bytes a candidate; sorting all of them and cutting is a fraction of a second at the 1e6 anchors a
 * hostile model may emit, so no partial selection is needed.
 */
export function topByScore(scores: ArrayLike<number>, limit: number): Uint32Array {
  const idx = new Uint32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return idx.length > limit ? idx.slice(0, limit) : idx;
}
