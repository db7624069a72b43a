/**
 * The default CAM layer of a detection (models/detect-target.ts): the YOLOv5-style square detector's graph
 * default is its last spatial map, the objectness sigmoid, where the box target (a sum of class-c scores) has
 * no gradient, so Grad-CAM there is all zero; with the photo as probe the detection's default steps back to
 * the class branch and Grad-CAM lands on the square. A YOLOv8-style head keeps its graph default.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { preprocess } from '../../src/core/preprocess.js';
import { prepareDetection } from '../../src/explain/detect.js';
import { explain } from '../../src/explain.js';
import { readNpy } from '../../src/io/npy-file.js';
import { decodeDetections } from '../../src/models/detect-decode.js';
import { decodeOptions, detectionModel, detectorOutputs } from '../../src/models/detect-target.js';
import { openOnnxModel } from '../../src/models/open.js';
import { DETECTOR_FIXTURES as DIR } from '../helpers/detector-photo.js';
import { massInside } from '../helpers/task-models.js';

async function photo(): Promise<RgbImage> {
  const x = await readNpy(`${DIR}input.npy`);
  const data = new Uint8Array(64 * 64 * 3);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 4096; p++) data[p * 3 + c] = Math.round(x.data[c * 4096 + p] * 255);
  return { width: 64, height: 64, data };
}

describe.each([
  { name: 'yolov5', graphDefault: '/Sigmoid_1_output_0', chosen: '/Sigmoid_output_0' },
  { name: 'yolov8', graphDefault: '/Sigmoid_output_0', chosen: '/Sigmoid_output_0' },
])('the $name square detector’s default CAM layer for a detection', ({ name, graphDefault, chosen }) => {
  let model: Model;
  let image: RgbImage;
  beforeAll(async () => {
    model = await openOnnxModel(readFileSync(`${DIR}${name}.onnx`), { iouThreshold: 0.45 });
    image = await photo();
  });
  afterAll(() => model.dispose());

  it('is the last map the box target reaches, and Grad-CAM there lies on the square', async () => {
    const prepared = await prepareDetection(model, image, 'top');
    try {
      expect((await prepared.model.layers!()).defaultLayer).toBe(chosen);
    } finally {
      await prepared.model.dispose();
    }
    // Without the photo to probe, the graph's own default (the objectness branch for YOLOv5).
    const { tensor } = preprocess(image, model.spec);
    const outputs = await detectorOutputs(model, tensor);
    const decoded = decodeDetections(outputs, decodeOptions(model.spec));
    const bare = detectionModel(model, outputs, decoded.layout, decoded.images[0][0], 'top');
    try {
      expect((await bare.layers!()).defaultLayer).toBe(graphDefault);
    } finally {
      await bare.dispose();
    }
    const e = await explain({ model, image, method: 'grad-cam', target: 0 });
    const [x0, y0, x1, y1] = prepared.chosen.box;
    expect(massInside(e.map.data, e.map.width, { x0, y0, x1, y1 })).toBeGreaterThan(0.9);
  });
});
