/**
 * Detectors through the Model path (issue 14): the hand-set square detectors of scripts/golden/detectors.py
 * opened with no hints are read as task 'detect' (Ultralytics-style pixels / 255, letterbox), their detections
 * through OnnxModel.outputs equal torch's reference decode, and each detection's map puts its mass (above the
 * map's minimum) inside that detection's 16 × 16 square: D-RISE with 1000 masks on every format, the vanilla
 * gradient and Grad-CAM of the box-target head on the raw ones. The squares are a sixteenth of the 64 × 64
 * input each, so a map that ignored them would keep about 6% there.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { detectPhoto } from '../../src/explain/detect.js';
import { explain } from '../../src/explain.js';
import { readNpy } from '../../src/io/npy-file.js';
import { detect } from '../../src/models/detect-target.js';
import { openOnnxModel } from '../../src/models/open.js';
import { squaresPhoto } from '../helpers/square-detectors.js';
import { massInside } from '../helpers/task-models.js';

const DIR = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));

interface Ref {
  model: string;
  squares: { box: number[]; class: number }[];
  detections: { box: number[]; score: number; class: number }[];
}
const ref = (name: string): Ref => JSON.parse(readFileSync(`${DIR}${name}.ref.json`, 'utf8'));

const CASES = [
  { name: 'yolov8', format: 'yolov8', raw: true },
  { name: 'yolov5', format: 'yolov5', raw: true },
  { name: 'yolov8_seg', format: 'yolov8-seg', raw: true },
  { name: 'postnms', format: 'post-nms', raw: false },
];

/** Fractions measured, printed at the end so the report quotes them. */
const measured: string[] = [];
afterAll(() => console.log(measured.join('\n')));

describe.each(CASES)('detector $name through the Model path', ({ name, format, raw }) => {
  const r = ref(name);
  let model: Model;
  let image: RgbImage;
  beforeAll(async () => {
    // The fixture's NMS threshold (Ultralytics' predict default is 0.7).
    model = await openOnnxModel(readFileSync(`${DIR}${r.model}`), { iouThreshold: 0.45 });
    image = await squaresPhoto();
  });
  afterAll(() => model.dispose());

  it('is recognised as a detector with Ultralytics preprocessing', () => {
    expect(model.spec.task).toBe('detect');
    expect(model.spec.mean).toEqual([0, 0, 0]);
    expect(model.spec.std).toEqual([1, 1, 1]);
    expect(model.spec.resize).toBe('letterbox');
    expect(model.capabilities.has('outputs')).toBe(true);
  });

  it("decodes torch's reference detections from the model's own outputs", async () => {
    const x = await readNpy(`${DIR}input.npy`);
    const decoded = await detect(model, { data: x.data, dims: x.shape });
    expect(decoded.layout.format).toBe(format);
    const dets = decoded.images[0];
    expect(dets.map((d) => d.classIndex)).toEqual(r.detections.map((d) => d.class));
    for (let i = 0; i < dets.length; i++) {
      for (let k = 0; k < 4; k++) expect(dets[i].box[k]).toBeCloseTo(r.detections[i].box[k], 4);
      expect(Math.abs(dets[i].score - r.detections[i].score)).toBeLessThan(1e-6);
    }
  });

  it('lists the detections of the 8-bit photo in photo pixels, one per square', async () => {
    const d = await detectPhoto(model, image);
    expect(d.detections.map((p) => p.classIndex)).toEqual(r.detections.map((p) => p.class));
    for (const p of d.detections) {
      const square = r.squares.find((s) => s.class === p.classIndex)!;
      p.box.forEach((v, k) => {
        expect(v).toBeCloseTo(square.box[k], 3);
      });
    }
  });

  const share = async (method: string, i: number) => {
    const e = await explain({
      model,
      image,
      method,
      target: i,
      ...(method === 'd-rise' ? { options: { masks: 1000 } } : {}),
      // The default CAM layer (YOLOv5's graph default is its objectness branch, which the class-c head does
      // not read: models/detect-target.ts steps back to a layer the target reaches).
    });
    const [x0, y0, x1, y1] = r.detections[i].box;
    const s = massInside(e.map.data, e.map.width, { x0, y0, x1, y1 });
    measured.push(`${name} ${method} detection ${i} (class ${r.detections[i].class}): ${s.toFixed(3)}`);
    return s;
  };

  it.each(raw ? ['gradient', 'grad-cam'] : [])(
    '%s of the box-target head puts at least 70% of each detection’s map in its square',
    async (method) => {
      for (let i = 0; i < r.detections.length; i++)
        expect(await share(method, i)).toBeGreaterThanOrEqual(0.7);
    },
    120_000,
  );

  /*
   * Fails, measured: 0.11–0.17 of the map's mass above its minimum lies in the square with the paper's 16 × 16
   * grid and 1000 masks (yolov8: 0.169 0.140 0.136; 5000 masks 0.239 0.270 0.192; an 8 × 8 grid 0.22–0.31 at
   * 1000, 0.31–0.36 at 5000; p 0.75 or 0.9 and 4 × 4 grids no better). The threshold (T = 0.7) is not what
   * bounds it: an ideal detector whose similarity is exactly the share of the square kept gets 0.21 with the same
   * 1000 masks, 0.55 with 100 000 and 0.65 with 400 000 (0.77 in expectation), and the same masks scored by
   * sigmoid(30 · (share − 0.7)) give this test's 0.169. It is RISE's sampling noise over the 15 times larger outside, which "above the minimum" counts
   * (src/methods/perturbation/d-rise.ts). See the report of issue 14.
   * Second session, same maps (the faster blend is bit-identical): the exact expectation of that ideal detector's
   * map keeps 0.769 (test/unit/drise-expectation.test.ts), so 0.7 is reached only as masks → ∞. Control variates
   * (the similarity regressed on the masks' 4 × 4 block means, whose covariances are exact) lift the ideal
   * detector to 0.58–0.64 at 1000 masks but these detectors only to 0.13–0.20 (p 0.5) and 0.21–0.44 (p 0.75–0.9):
   * their similarity is a threshold, not linear in the mask. Bound at 1000 masks: ≈ 0.2 (paper's estimator),
   * ≈ 0.45 (best measured, control variates at p 0.9); left failing.
   */
  it.fails('d-rise (1000 masks) puts at least 70% of each detection’s map in its square', async () => {
    const shares: number[] = [];
    for (let i = 0; i < r.detections.length; i++) shares.push(await share('d-rise', i));
    for (const s of shares) expect(s).toBeGreaterThanOrEqual(0.7);
  }, 120_000);

  // Post-NMS: the graph drops boxes under 0.25 itself, so most masked images give no proposal at all.
  it.skipIf(!raw)(
    'd-rise (1000 masks) puts more of each detection’s map in its square than in any other square',
    async () => {
      for (let i = 0; i < r.detections.length; i++) {
        const e = await explain({ model, image, method: 'd-rise', target: i, options: { masks: 1000 } });
        const inside = r.squares.map((q) => {
          const [x0, y0, x1, y1] = q.box;
          return massInside(e.map.data, e.map.width, { x0, y0, x1, y1 });
        });
        const own = r.squares.findIndex((q) => q.class === r.detections[i].class);
        for (let k = 0; k < inside.length; k++)
          if (k !== own) expect(inside[own]).toBeGreaterThan(2 * inside[k]);
      }
    },
    120_000,
  );
});
