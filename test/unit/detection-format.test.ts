/**
 * Recognising detector formats from output names and shapes, decoding the post-NMS layouts, and refusing
 * hostile outputs (NaN, wrong ranks, mismatched sizes, a million anchors all above the threshold) in words
 * and in bounded time.
 */
import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { decodeDetections, type NamedOutput } from '../../src/models/detect-decode.js';
import { type OutputShape, recognizeDetectFormat } from '../../src/models/detect-format.js';

const shape = (name: string, ...dims: number[]): OutputShape => ({ name, dims });
const out = (name: string, dims: number[], values: number[] | Float32Array): NamedOutput => ({
  name,
  dims,
  data: Float32Array.from(values),
});
const opts = { inputWidth: 100, inputHeight: 80, scoreThreshold: 0.25, iouThreshold: 0.5 };

function caught(f: () => unknown): SightlineError {
  try {
    f();
  } catch (e) {
    if (e instanceof SightlineError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('recognizeDetectFormat', () => {
  it('reads the raw YOLO layouts from their shapes', () => {
    expect(recognizeDetectFormat([shape('output0', 1, 84, 8400)])).toMatchObject({
      format: 'yolov8',
      channelsFirst: true,
      anchors: 8400,
      classes: 80,
      objectness: false,
    });
    expect(recognizeDetectFormat([shape('output', 1, 25200, 85)])).toMatchObject({
      format: 'yolov5',
      channelsFirst: false,
      anchors: 25200,
      classes: 80,
      objectness: true,
    });
    expect(
      recognizeDetectFormat([shape('output0', 1, 116, 8400), shape('output1', 1, 32, 160, 160)]),
    ).toMatchObject({
      format: 'yolov8-seg',
      classes: 80,
      maskCoefficients: 32,
      protos: 1,
    });
    expect(recognizeDetectFormat([shape('p', 1, 32, 160, 160), shape('o', 1, 25200, 117)])).toMatchObject({
      format: 'yolov5-seg',
      output: 1,
      classes: 80,
      maskCoefficients: 32,
      protos: 0,
    });
  });

  it('finds post-NMS outputs by name, TensorFlow’s included', () => {
    const tv = recognizeDetectFormat([shape('boxes', 7, 4), shape('scores', 7), shape('labels', 7)]);
    expect(tv).toMatchObject({ format: 'post-nms', boxes: 0, scores: 1, classes: 2, tensorflow: false });
    const tf = recognizeDetectFormat([
      shape('num_detections:0', 1),
      shape('detection_scores:0', 1, 100),
      shape('detection_boxes:0', 1, 100, 4),
      shape('detection_classes:0', 1, 100),
    ]);
    expect(tf).toMatchObject({ boxes: 2, scores: 1, classes: 3, count: 0, tensorflow: true });
  });

  it('refuses a square output, naming the shapes and the flag', () => {
    const e = caught(() => recognizeDetectFormat([shape('output0', 1, 84, 84)]));
    expect(e.code).toBe('MODEL_OUTPUT');
    expect(e.message).toContain('"output0" [1, 84, 84]');
    expect(e.message).toContain('square');
    expect(e.message).toMatch(/--detect-format with one of yolov8, yolov5, yolov8-seg, yolov5-seg, post-nms/);
  });

  it('refuses [N, K, 6] rows as ambiguous unless told, then reads them', () => {
    const e = caught(() => recognizeDetectFormat([shape('output0', 1, 300, 6)]));
    expect(e.message).toMatch(/one- or two-class YOLOv5 and post-NMS rows.*one of yolov5, post-nms-tensor/);
    expect(recognizeDetectFormat([shape('output0', 1, 300, 6)], 'post-nms-tensor')).toMatchObject({
      width: 6,
    });
    expect(recognizeDetectFormat([shape('output0', 1, 300, 6)], 'yolov5')).toMatchObject({ classes: 1 });
    expect(recognizeDetectFormat([shape('dets', 12, 7)])).toMatchObject({ kind: 'rows', width: 7 });
  });

  it('reads a transposed YOLOv8 export [N, A, 4 + C] when told yolov8, and a square one in the format’s axes', () => {
    expect(recognizeDetectFormat([shape('output0', 1, 8400, 84)], 'yolov8')).toMatchObject({
      format: 'yolov8',
      channelsFirst: false,
      anchors: 8400,
      classes: 80,
      objectness: false,
    });
    expect(recognizeDetectFormat([shape('output0', 1, 85, 25200)], 'yolov5')).toMatchObject({
      channelsFirst: true,
      classes: 80,
      objectness: true,
    });
    expect(recognizeDetectFormat([shape('output0', 1, 84, 84)], 'yolov8')).toMatchObject({
      channelsFirst: true,
      classes: 80,
    });
  });

  it('refuses the unknown and the inconsistent in words', () => {
    expect(caught(() => recognizeDetectFormat([shape('logits', 1, 1000)])).message).toMatch(
      /"logits" \[1, 1000\].*no \[N, ·, ·\] output/,
    );
    expect(
      caught(() => recognizeDetectFormat([shape('a', 1, 84, 8400), shape('b', 1, 84, 8400)])).message,
    ).toMatch(/more than one/);
    expect(caught(() => recognizeDetectFormat([shape('o', 1, 84, 8400)], 'yolov8-seg')).message).toMatch(
      /no prototype output/,
    );
    expect(caught(() => recognizeDetectFormat([shape('o', 1, 4, 8400)])).message).toMatch(/too few/);
    expect(
      caught(() => recognizeDetectFormat([shape('boxes', 1, 7, 4), shape('scores', 1, 8)])).message,
    ).toMatch(/not boxes \[N, K, 4\]/);
    expect(caught(() => recognizeDetectFormat([])).message).toMatch(/none at all/);
  });
});

describe('decoding post-NMS layouts', () => {
  it('reads TensorFlow’s normalised yxyx boxes up to num_detections, above the threshold', () => {
    const decoded = decodeDetections(
      [
        out('detection_boxes', [1, 3, 4], [0.1, 0.2, 0.5, 0.6, 0, 0, 1, 1, 0, 0, 1, 1]),
        out('detection_scores', [1, 3], [0.9, 0.1, 0.8]),
        out('detection_classes', [1, 3], [3, 1, 2]),
        out('num_detections', [1], [2]),
      ],
      opts,
    );
    // Row 1 is under the threshold, row 2 beyond num_detections.
    expect(decoded.images[0].map((d) => [d.classIndex, d.index])).toEqual([[3, 0]]);
    const box = decoded.images[0][0].box;
    for (const [i, v] of [20, 8, 60, 40].entries()) expect(box[i]).toBeCloseTo(v, 4);
  });

  it('reads [N, K, 6] and [K, 7] rows, each image its own', () => {
    const six = decodeDetections(
      [
        out(
          'output0',
          [2, 2, 6],
          [1, 2, 3, 4, 0.5, 7, 0, 0, 1, 1, 0.1, 0, 5, 6, 7, 8, 0.9, 2, 0, 0, 1, 1, 0.95, 1],
        ),
      ],
      { ...opts, format: 'post-nms-tensor' },
    );
    expect(six.images.map((im) => im.map((d) => [d.classIndex, d.score]))).toEqual([
      [[7, 0.5]],
      [
        [1, Math.fround(0.95)],
        [2, Math.fround(0.9)],
      ],
    ]);
    const seven = decodeDetections(
      [out('dets', [2, 7], [1, 1, 2, 3, 4, 5, 0.6, 0, 5, 6, 7, 8, 4, 0.7])],
      opts,
    );
    expect(seven.images.map((im) => im.map((d) => [...d.box, d.classIndex]))).toEqual([
      [[5, 6, 7, 8, 4]],
      [[1, 2, 3, 4, 5]],
    ]);
  });
});

describe('hostile detector outputs', () => {
  it('refuses NaN in scores, boxes, classes and counts', () => {
    const v8 = (f: (d: Float32Array) => void) => {
      const d = new Float32Array(6 * 8).fill(0.5);
      f(d);
      return () => decodeDetections([out('o', [1, 6, 8], d)], opts);
    };
    expect(caught(v8((d) => (d[4 * 8 + 1] = Number.NaN))).message).toMatch(/NaN for class 0 of anchor 1/);
    expect(caught(v8((d) => (d[2] = Number.POSITIVE_INFINITY))).message).toMatch(
      /Infinity for the box of anchor 2/,
    );
    const post = (classes: number[], count: number[]) => () =>
      decodeDetections(
        [
          out('boxes', [1, 4], [0, 0, 1, 1]),
          out('scores', [1], [0.9]),
          out('labels', [1], classes),
          out('count', [1], count),
        ],
        opts,
      );
    expect(caught(post([1.5], [1])).message).toMatch(/1.5 as the class of detection 0/);
    expect(caught(post([1], [Number.NaN])).message).toMatch(/count for image 0 is NaN/);
  });

  it('refuses an output whose data does not fit its shape, and wrong ranks', () => {
    expect(caught(() => decodeDetections([out('o', [1, 6, 3], [1, 2, 3])], opts)).message).toMatch(
      /holds 3 numbers, not the 18/,
    );
    expect(
      caught(() => decodeDetections([out('o', [1, 2, 3, 4, 5], new Float32Array(120))], opts)).code,
    ).toBe('MODEL_OUTPUT');
  });

  it('decodes a million anchors all above the threshold in bounded time, keeping at most maxDetections', () => {
    const A = 1_000_000;
    const d = new Float32Array(5 * A);
    for (let a = 0; a < A; a++) {
      // Disjoint 5 × 5 boxes on a 10-pixel grid: nothing suppresses anything, the worst case for NMS.
      d[a] = (a % 1000) * 10;
      d[A + a] = Math.floor(a / 1000) * 10;
      d[2 * A + a] = 5;
      d[3 * A + a] = 5;
      d[4 * A + a] = 0.5 + (a % 997) / 2000;
    }
    const start = Date.now();
    const decoded = decodeDetections([out('output0', [1, 5, A], d)], opts);
    expect(Date.now() - start).toBeLessThan(10_000);
    const dets = decoded.images[0];
    expect(dets).toHaveLength(300);
    // The best score is 0.5 + 996/2000, first reached at anchor 996.
    expect(dets[0].index).toBe(996);
    expect(dets[0].score).toBeCloseTo(0.998, 6);
  });
});
