/**
 * The hand-set square detectors of scripts/golden/detectors.py (test/fixtures/detectors), one per output
 * layout: ONNX Runtime must reproduce torch's raw outputs, and our recognition + decode + NMS of them must give
 * the detections of torch's reference decode (Ultralytics' rules with torchvision.ops.batched_nms): same
 * anchors, classes and order, boxes to 1e-4 pixels, scores to 1e-6 (both read the same float32 numbers), masks
 * to 1e-5 (float32 dot products of 32 terms against float64 here).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy-file.js';
import { decodeDetections, type NamedOutput } from '../../src/models/detect-decode.js';
import type { DetectFormat } from '../../src/models/detect-format.js';

const DIR = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));

interface RefDetection {
  anchor?: number;
  box: number[];
  score: number;
  class: number;
  mask?: number[];
  mask_size?: [number, number];
}
interface Ref {
  model: string;
  outputs: { name: string; shape: number[] }[];
  score_threshold: number;
  iou_threshold: number;
  squares: { box: number[]; class: number }[];
  detections: RefDetection[];
}

const ref = (name: string): Ref => JSON.parse(readFileSync(`${DIR}${name}.ref.json`, 'utf8'));

async function runOnnx(
  name: string,
  batch?: { data: Float32Array; shape: number[] },
): Promise<NamedOutput[]> {
  const input = batch ?? (await readNpy(`${DIR}input.npy`));
  const session = await ort.InferenceSession.create(`${DIR}${ref(name).model}`);
  try {
    const result = await session.run({ images: new ort.Tensor('float32', input.data, input.shape) });
    return session.outputNames.map((n) => {
      const t = result[n];
      const data =
        t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as BigInt64Array, Number);
      return { name: n, dims: t.dims.map(Number), data };
    });
  } finally {
    await session.release();
  }
}

async function torchOutputs(name: string): Promise<NamedOutput[]> {
  return Promise.all(
    ref(name).outputs.map(async (o) => {
      const a = await readNpy(`${DIR}${name}.out.${o.name}.npy`);
      return { name: o.name, dims: a.shape, data: a.data };
    }),
  );
}

const CASES: { name: string; format: DetectFormat }[] = [
  { name: 'yolov8', format: 'yolov8' },
  { name: 'yolov5', format: 'yolov5' },
  { name: 'yolov8_seg', format: 'yolov8-seg' },
  { name: 'postnms', format: 'post-nms' },
];

describe.each(CASES)('detector fixture $name', ({ name, format }) => {
  const r = ref(name);

  it('ONNX Runtime reproduces torch’s raw outputs', async () => {
    const ours = await runOnnx(name);
    const theirs = await torchOutputs(name);
    expect(ours.map((o) => o.dims)).toEqual(theirs.map((o) => o.dims));
    for (let i = 0; i < ours.length; i++) {
      let err = 0;
      for (let j = 0; j < ours[i].data.length; j++)
        err = Math.max(err, Math.abs(ours[i].data[j] - theirs[i].data[j]));
      expect(err, ours[i].name).toBeLessThan(1e-5);
    }
  });

  for (const source of ['torch', 'onnx'] as const) {
    it(`decodes ${source}’s outputs as ${format}, equal to torch’s reference decode`, async () => {
      const outputs = source === 'torch' ? await torchOutputs(name) : await runOnnx(name);
      const decoded = decodeDetections(outputs, {
        inputWidth: 64,
        inputHeight: 64,
        scoreThreshold: r.score_threshold,
        iouThreshold: r.iou_threshold,
      });
      expect(decoded.layout.format).toBe(format);
      expect(decoded.images).toHaveLength(1);
      const dets = decoded.images[0];
      expect(dets.map((d) => d.classIndex)).toEqual(r.detections.map((d) => d.class));
      if (r.detections[0].anchor !== undefined)
        expect(dets.map((d) => d.index)).toEqual(r.detections.map((d) => d.anchor));
      dets.forEach((d, i) => {
        const e = r.detections[i];
        for (let k = 0; k < 4; k++) expect(Math.abs(d.box[k] - e.box[k])).toBeLessThan(1e-4);
        expect(Math.abs(d.score - e.score)).toBeLessThan(1e-6);
        if (e.mask) {
          expect(d.mask && [d.mask.width, d.mask.height]).toEqual(e.mask_size);
          let err = 0;
          for (let j = 0; j < e.mask.length; j++)
            err = Math.max(err, Math.abs((d.mask?.data[j] ?? 0) - e.mask[j]));
          expect(err).toBeLessThan(1e-5);
        }
      });
      // And, independently of torch, the squares the weights were set to find, in score order.
      expect(dets.map((d) => [...d.box])).toEqual(r.squares.map((s) => s.box));
    });
  }
});

describe.each(CASES.filter((c) => c.name !== 'postnms'))('detector fixture $name in a batch', ({ name }) => {
  it('decodes each image of a batch of two on its own (the second without the red square)', async () => {
    const one = await readNpy(`${DIR}input.npy`);
    const data = new Float32Array(2 * one.data.length);
    data.set(one.data);
    data.set(one.data, one.data.length);
    // Paint the red square (class 0, x 10–25, y 14–29) back to the background of the second image.
    for (let y = 14; y < 30; y++) for (let x = 10; x < 26; x++) data[one.data.length + y * 64 + x] = 0.05;
    const outputs = await runOnnx(name, { data, shape: [2, 3, 64, 64] });
    const decoded = decodeDetections(outputs, { inputWidth: 64, inputHeight: 64, iouThreshold: 0.45 });
    const [first, second] = decoded.images;
    expect(first.map((d) => d.classIndex)).toEqual([0, 1, 2]);
    expect(second.map((d) => d.classIndex)).toEqual([1, 2]);
    for (let i = 0; i < 2; i++) {
      expect(second[i].box).toEqual(first[i + 1].box);
      expect(second[i].score).toBeCloseTo(first[i + 1].score, 6);
      if (first[i + 1].mask) expect(second[i].mask).toEqual(first[i + 1].mask);
    }
  });
});

describe('a transposed YOLOv8 output [N, A, 4 + C]', () => {
  it('decodes as the fixture’s own when told yolov8', async () => {
    const [o] = await torchOutputs('yolov8');
    const [, ch, A] = o.dims;
    const t = new Float32Array(o.data.length);
    for (let c = 0; c < ch; c++) for (let a = 0; a < A; a++) t[a * ch + c] = o.data[c * A + a];
    const opts = { inputWidth: 64, inputHeight: 64, iouThreshold: 0.45 };
    const ours = decodeDetections([{ name: 'output0', dims: [1, A, ch], data: t }], {
      ...opts,
      format: 'yolov8',
    });
    const theirs = decodeDetections([o], opts);
    expect(ours.images).toEqual(theirs.images);
  });
});

describe('the seg fixture’s masks', () => {
  it('cover each detection’s own square at the prototype resolution and nothing outside its box', async () => {
    const decoded = decodeDetections(await torchOutputs('yolov8_seg'), {
      inputWidth: 64,
      inputHeight: 64,
      iouThreshold: 0.45,
    });
    for (const d of decoded.images[0]) {
      const m = d.mask;
      if (!m) throw new Error('no mask');
      // A prototype pixel is 4 × 4 input pixels. The squares start 2 pixels into a cell, so a cell is fully,
      // half, a quarter or not covered; Ultralytics' crop keeps the cells whose index lies in the box / 4.
      // Full cells are clearly in the mask, corner cells (a quarter of the square) clearly out; half cells
      // depend on the square's brightness.
      const [bx0, by0, bx1, by1] = d.box;
      const cover = (c: number, a: number, b: number) =>
        Math.max(0, Math.min(4 * c + 4, b) - Math.max(4 * c, a)) / 4;
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++) {
          const inBox = x >= bx0 / 4 && x < bx1 / 4 && y >= by0 / 4 && y < by1 / 4;
          const covered = cover(x, bx0, bx1) * cover(y, by0, by1);
          const v = m.data[y * 16 + x];
          if (!inBox) expect(v).toBe(0);
          else if (covered === 1) expect(v).toBeGreaterThan(0.99);
          else if (covered <= 0.25) expect(v).toBeLessThan(0.5);
        }
    }
  });
});
