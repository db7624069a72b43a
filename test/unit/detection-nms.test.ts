/**
 * Boxes and NMS against hand-computed cases, and NMS against a direct transcription of torchvision's
 * batched_nms (offset boxes by class, sort by score, greedy suppression with IoU > threshold) on random boxes.
 */
import { describe, expect, it } from 'vitest';
import { type Box, clipBox, iou, parseBoxConvention, toXyxy } from '../../src/core/detection/boxes.js';
import { batchedNms } from '../../src/core/detection/nms.js';
import { SightlineError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';

describe('box conventions', () => {
  const px = (format: 'xyxy' | 'xywh' | 'cxcywh' | 'yxyx') => ({ format, normalized: false });
  it('turns each convention into xyxy pixels', () => {
    expect(toXyxy([5, 5, 4, 2], 0, 1, px('cxcywh'), 10, 10)).toEqual([3, 4, 7, 6]);
    expect(toXyxy([1, 2, 3, 4], 0, 1, px('xywh'), 10, 10)).toEqual([1, 2, 4, 6]);
    expect(toXyxy([1, 2, 3, 4], 0, 1, px('xyxy'), 10, 10)).toEqual([1, 2, 3, 4]);
    expect(toXyxy([1, 2, 3, 4], 0, 1, px('yxyx'), 10, 10)).toEqual([2, 1, 4, 3]);
    // Normalised: x by the width, y by the height; strided reads (channels-first layouts).
    expect(
      toXyxy([0.5, 0, 0.5, 0, 0.2, 0, 0.4, 0], 0, 2, { format: 'cxcywh', normalized: true }, 100, 50),
    ).toEqual([40, 15, 60, 35]);
  });

  it('parses flag text and refuses the unknown in words', () => {
    expect(parseBoxConvention('cxcywh-normalized')).toEqual({ format: 'cxcywh', normalized: true });
    expect(parseBoxConvention('XYXY')).toEqual({ format: 'xyxy', normalized: false });
    expect(() => parseBoxConvention('ltrb')).toThrow(/one of xyxy, xywh, cxcywh, yxyx/);
    expect(() => parseBoxConvention('xyxy-percent')).toThrow(SightlineError);
  });

  it('computes IoU as torchvision does', () => {
    expect(iou([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7, 12);
    expect(iou([0, 0, 2, 2], [0, 0, 2, 2])).toBe(1);
    expect(iou([0, 0, 2, 2], [2, 0, 4, 2])).toBe(0); // touching
    expect(iou([0, 0, 4, 1], [0, 0, 2, 1])).toBe(0.5);
    expect(iou([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0); // empty union: torch's NaN, which suppresses nothing
  });

  it('clips into the image', () => {
    expect(clipBox([-3, 2, 12, 40], 10, 20)).toEqual([0, 2, 10, 20]);
  });
});

describe('batchedNms', () => {
  const nms = (boxes: Box[], scores: number[], classes: number[], iouThreshold = 0.5, more = {}) =>
    batchedNms({ boxes, scores, classes }, { iouThreshold, ...more });

  it('suppresses within a class only, keeping score order', () => {
    const boxes: Box[] = [
      [1, 0, 11, 10], // IoU 90/110 with the next
      [0, 0, 10, 10],
      [20, 20, 30, 30],
    ];
    expect(nms(boxes, [0.8, 0.9, 0.7], [0, 0, 0])).toEqual([1, 2]);
    expect(nms(boxes, [0.8, 0.9, 0.7], [1, 0, 0])).toEqual([1, 0, 2]);
  });

  it('suppresses only above the threshold (IoU exactly 0.5 survives at 0.5)', () => {
    expect(
      nms(
        [
          [0, 0, 4, 1],
          [0, 0, 2, 1],
        ],
        [0.9, 0.8],
        [0, 0],
        0.5,
      ),
    ).toEqual([0, 1]);
    expect(
      nms(
        [
          [0, 0, 4, 1],
          [0, 0, 2, 1],
        ],
        [0.9, 0.8],
        [0, 0],
        0.49,
      ),
    ).toEqual([0]);
  });

  it('lets a box suppressed by a kept one suppress nothing', () => {
    // A–B IoU 70/130 > 0.5, B–C the same, A–C 40/160: B goes, so C stays.
    const boxes: Box[] = [
      [0, 0, 10, 10],
      [3, 0, 13, 10],
      [6, 0, 16, 10],
    ];
    expect(nms(boxes, [0.9, 0.8, 0.7], [0, 0, 0])).toEqual([0, 2]);
  });

  it('takes equal scores in index order, and honours maxDetections and maxCandidates', () => {
    const disjoint: Box[] = [0, 1, 2, 3].map((i) => [i * 10, 0, i * 10 + 5, 5]);
    expect(nms(disjoint, [0.5, 0.9, 0.5, 0.5], [0, 0, 0, 0])).toEqual([1, 0, 2, 3]);
    expect(nms(disjoint, [0.5, 0.9, 0.5, 0.5], [0, 0, 0, 0], 0.5, { maxDetections: 2 })).toEqual([1, 0]);
    // The cap drops the lowest-scoring candidates before NMS, as Ultralytics' max_nms does.
    expect(nms(disjoint, [0.1, 0.9, 0.3, 0.2], [0, 0, 0, 0], 0.5, { maxCandidates: 2 })).toEqual([1, 2]);
  });

  it('refuses a NaN score and bad options in words', () => {
    expect(() => nms([[0, 0, 1, 1]], [Number.NaN], [0])).toThrow(/scores\[0\].*finite/);
    expect(() => nms([[0, 0, 1, 1]], [0.5], [0], 1.5)).toThrow(/iouThreshold/);
    expect(() => nms([[0, 0, 1, 1]], [0.5], [0], 0.5, { maxDetections: 0 })).toThrow(/maxDetections/);
  });

  it('equals a transcription of torchvision batched_nms on random boxes', () => {
    const rng = createRng(14);
    const random = () => rng.next();
    for (let trial = 0; trial < 20; trial++) {
      const n = 60;
      const boxes: Box[] = [];
      const scores: number[] = [];
      const classes: number[] = [];
      for (let i = 0; i < n; i++) {
        const x = random() * 50;
        const y = random() * 50;
        boxes.push([x, y, x + 5 + random() * 20, y + 5 + random() * 20]);
        scores.push(random());
        classes.push(Math.floor(random() * 3));
      }
      const thr = 0.2 + random() * 0.6;
      expect(nms(boxes, scores, classes, thr)).toEqual(torchvisionBatchedNms(boxes, scores, classes, thr));
    }
  });
});

/** torchvision's _batched_nms_coordinate_trick + the CPU nms kernel, line by line. */
function torchvisionBatchedNms(boxes: Box[], scores: number[], classes: number[], thr: number): number[] {
  const maxCoordinate = Math.max(...boxes.flat());
  const shifted = boxes.map((b, i) => b.map((v) => v + classes[i] * (maxCoordinate + 1)) as unknown as Box);
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const suppressed = new Array(boxes.length).fill(false);
  const keep: number[] = [];
  for (let oi = 0; oi < order.length; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    keep.push(i);
    for (let oj = oi + 1; oj < order.length; oj++) {
      const j = order[oj];
      if (!suppressed[j] && iou(shifted[i], shifted[j]) > thr) suppressed[j] = true;
    }
  }
  return keep;
}
