/**
 * D-RISE for every detection of a photo from one set of masked passes (explain/drise-detections.ts), on the
 * hand-set square detectors of scripts/golden/detectors.py: each map equals, bit for bit, the map D-RISE
 * gives that detection explained alone (prepareDetection's model, as `explain` runs it), and the detector
 * sees N masked images in all, not N per detection.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { preprocess } from '../../src/core/preprocess.js';
import { prepareDetection } from '../../src/explain/detect.js';
import { dRiseDetections } from '../../src/explain/drise-detections.js';
import { dRise } from '../../src/methods/perturbation/d-rise.js';
import { decodeDetections } from '../../src/models/detect-decode.js';
import { decodeOptions, detectorOutputs } from '../../src/models/detect-target.js';
import { openOnnxModel } from '../../src/models/open.js';
import { DETECTORS_DIR, squaresPhoto } from '../helpers/square-detectors.js';

const DIR = DETECTORS_DIR;
const MASKS = 120;

/** The detector, counting the images its outputs are asked for. */
function counted(model: Model): Model & { images: number } {
  const wrapped = Object.create(model) as Model & { images: number };
  wrapped.images = 0;
  wrapped.outputs = (batch, run) => {
    wrapped.images += batch.dims[0];
    return model.outputs!(batch, run);
  };
  return wrapped;
}

describe.each(['yolov8', 'yolov5', 'postnms'])('the %s square detector', (name) => {
  it('gives every detection its own D-RISE map from one set of passes', async () => {
    const ref = JSON.parse(readFileSync(`${DIR}${name}.ref.json`, 'utf8'));
    const model = await openOnnxModel(readFileSync(`${DIR}${ref.model}`), { iouThreshold: 0.45 });
    try {
      const image = await squaresPhoto();
      const options = { ...dRise.defaults, masks: MASKS };
      const { tensor: input } = preprocess(image, model.spec);
      const outputs = await detectorOutputs(model, input);
      const decoded = decodeDetections(outputs, decodeOptions(model.spec));
      const detections = decoded.images[0];
      expect(detections.length).toBe(ref.detections.length);
      expect(detections.length).toBeGreaterThan(1);

      const detector = counted(model);
      const maps = await dRiseDetections(detector, input, outputs, decoded.layout, detections, options);
      expect(detector.images).toBe(MASKS);

      for (let i = 0; i < detections.length; i++) {
        const alone = await prepareDetection(model, image, i);
        try {
          const map = await dRise.attribute(
            { model: alone.model, input: alone.input, target: 0, classes: 1 },
            options,
          );
          expect(maps[i].signed).toBe(map.signed);
          expect(maps[i].data).toEqual(map.data);
        } finally {
          await alone.model.dispose();
        }
      }
    } finally {
      await model.dispose();
    }
  }, 60_000);
});
