import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { explain } from '../../src/explain.js';
import { openTfjsSource } from '../../src/models/tfjs.js';
import { runCli } from '../helpers/cli.js';
import { graphModel } from '../helpers/tfjs-graph-model.js';
import {
  maxAbsDiff,
  randomizeWeights,
  saveArtifacts,
  tfl,
  tfPredict,
  tfReady,
  writeTfjsFolder,
} from '../helpers/tfjs-models.js';

/** A small photo: a bright square on a dark ground. */
function photo(size: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= size / 4 && x < size / 2 && y >= size / 4 && y < size / 2;
      data.fill(inside ? 220 : 30, (y * size + x) * 3, (y * size + x + 1) * 3);
    }
  }
  return { width: size, height: size, data };
}

async function expectMissingCapability(model: Model, method: string): Promise<void> {
  await expect(explain({ model, image: photo(8), method })).rejects.toMatchObject({
    code: 'MISSING_CAPABILITY',
    message: expect.stringMatching(
      new RegExp(`^Method '${method}' needs (layers|inputGradients).*black-box methods`),
    ),
  });
}

describe('TF.js models that run predict-only', () => {
  beforeAll(tfReady);

  it('runs a Layers model with an unconvertible layer on TF.js, with scores only and a note saying why', async () => {
    const reference = tfl.sequential({ name: 'with_upsampling' });
    reference.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, name: 'conv' }));
    reference.add(tfl.layers.upSampling2d({ size: [2, 2], name: 'bigger' }));
    reference.add(tfl.layers.flatten({ name: 'flat' }));
    reference.add(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'scores' }));
    randomizeWeights(reference, 4);
    const handlers = () => ['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));
    const before = handlers();
    const model = await openTfjsSource(
      { artifacts: await saveArtifacts(reference), location: 'up/model.json' },
      { mean: [0.5], std: [0.25], labels: ['a', 'b', 'c'] },
    );
    try {
      expect([...model.capabilities]).toEqual(['predict']);
      expect(model.inputGradients).toBeUndefined();
      // TF.js' WebAssembly backend leaves the process' error handlers as they were.
      expect(handlers()).toEqual(before);
      expect(model.spec).toMatchObject({
        layout: 'NHWC',
        width: 8,
        height: 8,
        outputs: 'probabilities',
        labels: ['a', 'b', 'c'],
      });
      expect(model.notes).toEqual([
        "up/model.json runs on TF.js for prediction only: its layer 'bigger' (UpSampling2D) does not convert to ONNX. Input gradients and layers need a TF.js Layers model made of supported layers (docs/tfjs-models.md).",
      ]);
      const x = Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => Math.cos(i));
      const scores = await model.predict({ data: x, dims: [2, 8, 8, 3] });
      expect(scores.dims).toEqual([2, 3]);
      expect(maxAbsDiff(scores.data, tfPredict(reference, x, [2, 8, 8, 3]))).toBeLessThan(1e-6);

      await expectMissingCapability(model, 'grad-cam');
      await expectMissingCapability(model, 'gradient');
      // Black-box methods work: occlusion of 2×2 windows over the 8×8 input, mapped back to the photo.
      const result = await explain({
        model,
        image: photo(8),
        method: 'occlusion',
        options: { window: 2, stride: 2 },
      });
      expect(result.map.width).toBe(8);
      expect(result.map.data.some((v) => v !== 0)).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it('runs a Graph model on TF.js: scores as the graph computes them, gradient methods refused', async () => {
    const model = await openTfjsSource({ artifacts: graphModel(), location: 'graph/model.json' }, {});
    try {
      expect([...model.capabilities]).toEqual(['predict']);
      expect(model.spec).toMatchObject({
        inputName: 'x',
        layout: 'NHWC',
        width: 2,
        height: 2,
        outputs: 'probabilities',
      });
      expect(model.notes?.[0]).toMatch(
        /^graph\/model\.json runs on TF\.js for prediction only: it is a TF\.js Graph model, which does not convert to ONNX\. Input gradients and layers need/,
      );
      // By hand: softmax over k of Σᵢ x[i] · sin(3i + k).
      const x = Float32Array.from({ length: 24 }, (_, i) => i / 24);
      const scores = await model.predict({ data: x, dims: [2, 2, 2, 3] });
      const expected: number[] = [];
      for (let n = 0; n < 2; n++) {
        const logits = [0, 1, 2].map((k) =>
          Array.from({ length: 12 }, (_, i) => x[n * 12 + i] * Math.sin(3 * i + k)).reduce(
            (a, b) => a + b,
            0,
          ),
        );
        const z = logits.map((l) => Math.exp(l - Math.max(...logits)));
        expected.push(...z.map((v) => v / z.reduce((a, b) => a + b, 0)));
      }
      expect(maxAbsDiff(scores.data, expected)).toBeLessThan(1e-6);
      await expectMissingCapability(model, 'gradient');
    } finally {
      await model.dispose();
    }
  });

  it('the CLI says why a Graph model runs predict-only, and black-box methods still explain it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sightline-tfjs-graph-'));
    try {
      await writeTfjsFolder(join(dir, 'graph'), graphModel());
      const image = photo(8);
      await sharp(image.data, { raw: { width: 8, height: 8, channels: 3 } })
        .png()
        .toFile(join(dir, 'photo.png'));
      const args = ['explain', join(dir, 'photo.png'), '--model', join(dir, 'graph'), '--json'];
      const ok = await runCli([...args, '--method', 'occlusion', '--out', join(dir, 'map.png')]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/^sightline: note: .*graph\/model\.json runs on TF\.js for prediction only/m);
      const refused = await runCli([...args, '--method', 'gradient', '--out', join(dir, 'map2.png')]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/Method 'gradient' needs inputGradients/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
