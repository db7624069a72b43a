/**
 * A ViT whose class token comes AFTER the patch tokens (test/fixtures/transformers/vit_tiny_class_last, written
 * by scripts/golden/transformers.py: torch.cat([patches, class_token]), the head reading x[:, -1]). Sightline
 * had assumed extra tokens first, so Grad-CAM read the class token as patch 0 and every patch one place late,
 * and rollout followed patch 0's row. The graph's Concat (the learned token its last input) says where the
 * token is; the maps here equal torch's, computed with hooks in float64.
 *
 * Tolerance 1e-4 of the reference's largest value, as test/unit/transformer-fixtures.test.ts argues: float32
 * torch lands within ~1e-6 (the fixture's JSON records it); a token off by one moves values by their own size.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resamplePlanes } from '../../src/core/resample.js';
import type { Tensor } from '../../src/core/tensor.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { decodeNpy } from '../../src/io/npy.js';
import { gradCam } from '../../src/methods/cam/variants.js';
import { gradRolloutMap, rolloutMap } from '../../src/methods/transformer/rollout.js';
import { openOnnxModel } from '../../src/models/open.js';

const NAME = 'vit_tiny_class_last';
const FIXTURES = fileURLToPath(new URL('../fixtures/transformers/', import.meta.url));
const npy = (key: string) => decodeNpy(readFileSync(`${FIXTURES}${NAME}.${key}.npy`));
const { top } = JSON.parse(readFileSync(`${FIXTURES}${NAME}.json`, 'utf8')) as { top: number[] };
const TOLERANCE = 1e-4;
const CLASSES = 10;
const CELLS = 16;

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return err / scale;
}

const oneHots = (k: number): Tensor => {
  const data = new Float32Array(top.length * k);
  top.forEach((c, i) => {
    data[i * k + c] = 1;
  });
  return { data, dims: [top.length, k] };
};

describe('a ViT with its class token after the patch tokens', () => {
  let model: OnnxModel;
  const input = npy('input');
  const batch: Tensor = { data: input.data, dims: input.shape };
  beforeAll(async () => {
    model = await openOnnxModel(readFileSync(`${FIXTURES}${NAME}.onnx`), {});
  });
  afterAll(() => model?.dispose());

  it('lists the default token layer with 1 extra token, at the end', async () => {
    const { layers, defaultLayer } = await model.layers();
    expect(defaultLayer).toBe('/encoder/layers/encoder_layer_1/ln_1/LayerNormalization_output_0');
    const info = layers.find((l) => l.name === defaultLayer)!;
    expect(info).toMatchObject({ kind: 'tokens', grid: [4, 4], extraTokens: 1, extraTokensAt: 'end' });
  });

  it("reads the default layer's activations and gradients as torch does, dropping the last token", async () => {
    const { defaultLayer } = await model.layers();
    const result = await model.layer!(defaultLayer, batch, oneHots(CLASSES));
    expect(relativeError(result.scores.data, npy('logits').data)).toBeLessThan(TOLERANCE);
    expect(relativeError(result.activations.data, npy('activations').data)).toBeLessThan(TOLERANCE);
    expect(relativeError(result.gradients!.data, npy('gradients').data)).toBeLessThan(TOLERANCE);
  });

  it("Grad-CAM's grid equals torch's for each image", async () => {
    const cam = npy('cam');
    const [, h, w] = cam.shape;
    for (let b = 0; b < 2; b++) {
      const per = input.data.length / 2;
      const one: Tensor = {
        data: input.data.slice(b * per, (b + 1) * per),
        dims: [1, ...input.shape.slice(1)],
      };
      const map = await gradCam.attribute({ model, input: one, target: top[b], classes: CLASSES }, {});
      const expected = resamplePlanes(
        cam.data.slice(b * h * w, (b + 1) * h * w),
        1,
        w,
        h,
        map.width,
        map.height,
      );
      expect(relativeError(map.data, expected)).toBeLessThan(TOLERANCE);
    }
  });

  it("rollout (mean; max with discard 0.5) and grad-rollout follow the class token's row, as torch", async () => {
    expect(model.capabilities.has('attention')).toBe(true);
    const a = await model.attention!(batch, oneHots(CLASSES));
    expect(a.extraTokens).toBe(1);
    const cases = [
      ['rollout', (b: number) => rolloutMap(a, b, { headFusion: 'mean', discardRatio: 0 })],
      ['rollout_max_discard', (b: number) => rolloutMap(a, b, { headFusion: 'max', discardRatio: 0.5 })],
      ['grad_rollout', (b: number) => gradRolloutMap(a, b)],
    ] as const;
    for (const [key, compute] of cases) {
      const ref = npy(key);
      for (let b = 0; b < 2; b++)
        expect(
          relativeError(compute(b), ref.data.slice(b * CELLS, (b + 1) * CELLS)),
          `${key} ${b}`,
        ).toBeLessThan(TOLERANCE);
    }
  });
});
