/**
 * A detection as a target, by hand: D-RISE's similarity on outputs small enough to work out (IoU × cosine ×
 * objectness, the best proposal), the box-target head's anchor set on the square fixture (the anchor on the
 * square and its four neighbours one stride away, IoU 0.6; the diagonal ones have IoU 0.39) and the head
 * appended to the ONNX graph agreeing with the same sum in TypeScript; box drawing; refused hints.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ModelOutput } from '../../src/core/model.js';
import { createRng } from '../../src/core/random.js';
import { evaluateTarget } from '../../src/core/targets.js';
import { decodeModel, encodeModel } from '../../src/engines/onnx/proto.js';
import { readNpy } from '../../src/io/npy-file.js';
import { recognizeDetectFormat } from '../../src/models/detect-format.js';
import {
  boxHeadTarget,
  decodeOptions,
  detectorOutputs,
  driseSimilarities,
  driseSimilarity,
} from '../../src/models/detect-target.js';
import { openOnnxModel } from '../../src/models/open.js';
import { parseNames } from '../../src/models/ultralytics.js';
import { drawBox } from '../../src/render/boxes.js';
import { expectInvalid } from '../helpers/errors.js';

const DIR = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));
const OPTIONS = { inputWidth: 64, inputHeight: 64 };

describe('D-RISE similarity', () => {
  it('is the best IoU × cos(one-hot c, class scores) × objectness over a YOLOv5 output’s anchors', () => {
    // Anchors [N=1, A=10, 5 + 2]: cx, cy, w, h, objectness, class 0, class 1; anchors 2–9 far away (IoU 0),
    // there so the anchor axis is the longer one.
    const data = new Float32Array(10 * 7);
    data.set([10, 10, 20, 20, 0.8, 0.6, 0.8, 15, 10, 20, 20, 0.5, 0.9, 0.1]);
    for (let a = 2; a < 10; a++) data.set([500, 500, 4, 4, 1, 1, 1], a * 7);
    const out: ModelOutput[] = [{ name: 'output0', dims: [1, 10, 7], data }];
    const layout = recognizeDetectFormat(out, 'yolov5');
    const target = { box: [0, 0, 20, 20] as const, classIndex: 0 };
    // Anchor 0: box 0..20 (IoU 1), cos = 0.6 / 1 = 0.6, objectness 0.8 → 0.48.
    // Anchor 1: box 5..25 × 0..20, IoU = 300 / 500 = 0.6, cos = 0.9 / √0.82, objectness 0.5 → 0.29814.
    const s = driseSimilarity(out, layout, { ...OPTIONS, format: 'yolov5' }, target);
    expect(s[0]).toBeCloseTo(0.48, 6);
    const second = driseSimilarity(
      out,
      layout,
      { ...OPTIONS, format: 'yolov5' },
      { ...target, classIndex: 1 },
    );
    // Class 1: anchor 0: 1 × 0.8 × 0.8 = 0.64; anchor 1: 0.6 × (0.1 / √0.82) × 0.5 = 0.0331.
    expect(second[0]).toBeCloseTo(0.64, 6);
  });

  it('reads a YOLOv8 anchor’s best class score as its objectness', () => {
    // [N=1, 4 + 2, A=8], channels first: anchor 0 on the box sees nothing (both classes 0.01), which must
    // not look like a match; the other anchors are far away.
    const data = new Float32Array(6 * 8).fill(500);
    [10, 10, 20, 20, 0.01, 0.01].forEach((v, c) => {
      data[c * 8] = v;
    });
    const out: ModelOutput[] = [{ name: 'o', dims: [1, 6, 8], data }];
    const layout = recognizeDetectFormat(out, 'yolov8');
    const s = driseSimilarity(
      out,
      layout,
      { ...OPTIONS, format: 'yolov8' },
      { box: [0, 0, 20, 20], classIndex: 0 },
    );
    expect(s[0]).toBeCloseTo(Math.SQRT1_2 * 0.01, 6);
  });

  it('equals the brute-force best over every anchor on random outputs of both raw layouts', () => {
    // The similarity skips an anchor's box when its class evidence cannot beat the best so far (per target);
    // the brute force here decodes every box. Boxes overlap the target often (IoU 0 to 1), scores in [0, 1].
    const rng = createRng(5);
    const A = 60;
    const C = 4;
    for (const format of ['yolov5', 'yolov8'] as const) {
      const objectness = format === 'yolov5';
      const channels = 4 + (objectness ? 1 : 0) + C;
      const n = 5;
      const data = new Float32Array(n * A * channels);
      // yolov5 [N, A, ch] anchor-major; yolov8 [N, ch, A] channel-major.
      const at = (b: number, a: number, ch: number) =>
        objectness ? (b * A + a) * channels + ch : b * A * channels + ch * A + a;
      for (let b = 0; b < n; b++)
        for (let a = 0; a < A; a++) {
          const box = [10 + rng.next() * 30, 10 + rng.next() * 30, 4 + rng.next() * 30, 4 + rng.next() * 30];
          box.forEach((v, k) => {
            data[at(b, a, k)] = v;
          });
          for (let ch = 4; ch < channels; ch++) data[at(b, a, ch)] = rng.next() ** 2;
        }
      const out: ModelOutput[] = [
        { name: 'o', dims: objectness ? [n, A, channels] : [n, channels, A], data },
      ];
      const layout = recognizeDetectFormat(out, format);
      const targets = Array.from({ length: C }, (_, c) => ({
        box: [12, 18, 40, 44] as const,
        classIndex: c,
      }));
      // All classes at once (one read of the outputs, as D-RISE does for a photo's detections) equal each alone.
      const together = driseSimilarities(out, layout, { ...OPTIONS, format }, targets);
      for (let c = 0; c < C; c++) {
        const s = driseSimilarity(out, layout, { ...OPTIONS, format }, targets[c]);
        expect(together[c]).toEqual(s);
        for (let b = 0; b < n; b++) {
          let best = 0;
          for (let a = 0; a < A; a++) {
            const [cx, cy, w, h] = [0, 1, 2, 3].map((k) => data[at(b, a, k)]);
            const box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
            const iw = Math.max(0, Math.min(box[2], 40) - Math.max(box[0], 12));
            const ih = Math.max(0, Math.min(box[3], 44) - Math.max(box[1], 18));
            const inter = iw * ih;
            const overlap = inter / (w * h + 28 * 26 - inter);
            const first = objectness ? 5 : 4;
            const scores = Array.from({ length: C }, (_, k) => data[at(b, a, first + k)]);
            const cosine = scores[c] / Math.hypot(...scores);
            const o = objectness ? data[at(b, a, 4)] : Math.max(...scores);
            best = Math.max(best, overlap * cosine * o);
          }
          expect(s[b]).toBeCloseTo(best, 6);
        }
      }
    }
  });

  it('is IoU × score of the best same-class row after NMS', () => {
    const out: ModelOutput[] = [
      { name: 'boxes', dims: [2, 4], data: Float32Array.of(0, 0, 20, 20, 0, 0, 10, 20) },
      { name: 'scores', dims: [2], data: Float32Array.of(0.3, 0.9) },
      { name: 'labels', dims: [2], data: Float32Array.of(1, 0) },
    ];
    const layout = recognizeDetectFormat(out);
    const s = driseSimilarity(out, layout, OPTIONS, { box: [0, 0, 20, 20], classIndex: 0 });
    expect(s[0]).toBeCloseTo(0.5 * 0.9, 6);
  });
});

describe('the box-target head on the YOLOv8 square detector', () => {
  it('sums class c over the anchor on the square and its four neighbours, in ONNX as in TypeScript', async () => {
    const model = await openOnnxModel(readFileSync(`${DIR}yolov8.onnx`), { iouThreshold: 0.45 });
    try {
      const x = await readNpy(`${DIR}input.npy`);
      const input = { data: x.data, dims: x.shape };
      const outputs = await detectorOutputs(model, input);
      const layout = recognizeDetectFormat(outputs);
      const target = boxHeadTarget(outputs, layout, decodeOptions(model.spec), {
        box: [10, 14, 26, 30],
        classIndex: 0,
      });
      expect(target.anchors).toBe(5);
      const head = await model.withTargetHead!(target, {
        ...model.spec,
        task: 'score',
        labels: ['t'],
        outputShape: [1],
      });
      try {
        const ours = (await head.predict(input)).data[0];
        const ts = evaluateTarget(target, { data: outputs[0].data, dims: [1, outputs[0].data.length] })
          .data[0];
        expect(Math.abs(ours - ts)).toBeLessThan(1e-5);
        // Five anchors: the centre one (≈ 1) and four that see 3/4 of the square (sigmoid(30 · (0.75 · 1 + ... − 0.7)).
        expect(ours).toBeGreaterThan(1);
        expect(ours).toBeLessThan(5);
      } finally {
        await head.dispose();
      }
    } finally {
      await model.dispose();
    }
  });
});

describe('drawBox', () => {
  it('draws a white outline with a dark inner edge, clipped to the image, leaving the inside alone', () => {
    const image = { width: 10, height: 8, data: new Uint8Array(10 * 8 * 3).fill(100) };
    drawBox(image, 3, [2, 2, 12, 6], { thickness: 1 });
    const px = (x: number, y: number) =>
      Array.from(image.data.subarray((y * 10 + x) * 3, (y * 10 + x) * 3 + 3));
    expect(px(2, 2)).toEqual([255, 255, 255]);
    expect(px(9, 5)).toEqual([255, 255, 255]); // the right edge clipped to the last column
    expect(px(3, 3)).toEqual([0, 0, 0]);
    expect(px(5, 4)).toEqual([0, 0, 0]);
    expect(px(1, 1)).toEqual([100, 100, 100]);
    expect(px(5, 7)).toEqual([100, 100, 100]);
    expectInvalid(() => drawBox(image, 3, [0, 0, Number.NaN, 1]), /four finite numbers/);
  });
});

describe('detector hints', () => {
  it('refuses thresholds outside 0–1 and unknown formats in words', async () => {
    const bytes = readFileSync(`${DIR}yolov8.onnx`);
    await expect(openOnnxModel(bytes, { scoreThreshold: 2 })).rejects.toThrow(/scoreThreshold.*0 to 1/);
    const model = await openOnnxModel(bytes, { detectFormat: 'yolo9' });
    try {
      expect(model.spec.task).toBe('detect');
      expect(() => decodeOptions(model.spec)).toThrow(/yolo9.*not one of yolov8/);
    } finally {
      await model.dispose();
    }
  });
});

describe('Ultralytics metadata', () => {
  it('gives the labels, the task and the size; what the user says wins; odd names are ignored', async () => {
    expect(parseNames(`{0: 'person', 1: "it's", 2: 'a\\'b'}`)).toEqual(['person', "it's", "a'b"]);
    expect(parseNames(`{1: 'b', 0: 'a'}`)).toBeUndefined();
    expect(parseNames('__import__("os")')).toBeUndefined();
    const proto = decodeModel(readFileSync(`${DIR}yolov8.onnx`));
    const tagged = (names: string) =>
      encodeModel({
        ...proto,
        metadataProps: [
          { key: 'author', value: 'Ultralytics' },
          { key: 'task', value: 'detect' },
          { key: 'names', value: names },
          { key: 'imgsz', value: '[64, 64]' },
        ],
      });
    const model = await openOnnxModel(tagged(`{0: 'red', 1: 'green', 2: 'blue'}`), {});
    expect(model.spec.labels).toEqual(['red', 'green', 'blue']);
    expect(model.spec.task).toBe('detect');
    await model.dispose();
    const mine = await openOnnxModel(tagged(`{0: 'red', 1: 'green', 2: 'blue'}`), {
      labels: ['a', 'b', 'c'],
    });
    expect(mine.spec.labels).toEqual(['a', 'b', 'c']);
    await mine.dispose();
    const odd = await openOnnxModel(tagged(`{5: 'x'}`), {});
    expect(odd.spec.labels).toEqual([]);
    await odd.dispose();
  });
});
