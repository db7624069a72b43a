import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { explain } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { loadDefaultModel } from '../../src/models/default-model.js';
import { SHARED_IMAGES } from '../helpers/cli.js';
import { boxMassRatio, DOG_BOX, peakInBox } from '../helpers/regions.js';

describe('gradient methods on the embedded InceptionV3 through ONNX autodiff', () => {
  let model: Model;
  let dog: RgbImage;
  beforeAll(async () => {
    model = await loadDefaultModel();
    dog = await decodeImage(join(SHARED_IMAGES, 'dog.jpg'));
  });
  afterAll(() => model.dispose());

  it('offers input gradients and finds the last spatial feature map as the default layer', async () => {
    expect([...model.capabilities].sort()).toEqual([
      'backwardRules',
      'biasGradients',
      'inputGradients',
      'layers',
      'outputs',
      'predict',
      'weights',
    ]);
    const { layers, defaultLayer } = await model.layers!();
    const last = layers[layers.length - 1];
    expect(defaultLayer).toBe(last.name);
    // InceptionV3's last block is 2048 channels at 8 × 8 before global pooling.
    expect(last.dims).toEqual([1, 2048, 8, 8]);
  });

  it.each(['gradient', 'grad-cam'])(
    "%s peaks on the dog and puts at least twice the box's area share inside it",
    async (method) => {
      const result = await explain({ model, image: dog, method });
      const ratio = boxMassRatio(result.map.data, dog.width, dog.height, DOG_BOX);
      console.log(`${method}: ${ratio.toFixed(2)}× the box's area share`);
      expect(peakInBox(result.map.data, dog.width, DOG_BOX, 15)).toBe(true);
      expect(ratio).toBeGreaterThanOrEqual(2);
    },
  );

  it('integrated gradients converge to the score change: complete to within 1% at 200 Gauss–Legendre steps on chelsea.png', async () => {
    // This quantized model's path integrand has narrow spikes near the black baseline (its activations are
    // clipped to their quantized ranges), so 50 steps leave deltas of 6–51% on the sample photos; the
    // attributions still converge to F(x) − F(x′), which is what this checks. The CLI warns when the delta
    // is large.
    const image = await decodeImage(join(SHARED_IMAGES, 'chelsea.png'));
    const result = await explain({ model, image, method: 'integrated-gradients', options: { steps: 200 } });
    const d = result.map.details!;
    expect(Math.abs(d.scoreAtInput - d.scoreAtBaseline)).toBeGreaterThan(5);
    expect(d.relativeDelta).toBeLessThan(0.01);
  }, 600_000);
});
