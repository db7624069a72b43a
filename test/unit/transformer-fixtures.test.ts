/**
 * Vision transformers against PyTorch (test/fixtures/transformers, written by scripts/golden/transformers.py
 * from torchvision's VisionTransformer and SwinTransformer classes at small configs, random weights): the
 * default token layer, its activations and gradients as [N, C, h, w], Grad-CAM on it, attention rollout and
 * gradient-weighted rollout, each equal to the float64 torch reference computed with hooks.
 *
 * Tolerance 1e-4 of the reference's largest value: float32 torch itself lands within ~1e-6 of the float64
 * reference (each fixture's JSON records it), so 1e-4 leaves room for ONNX Runtime's different summation
 * order but not for a wrong token, axis or head (those move values by the values' own size).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resamplePlanes } from '../../src/core/resample.js';
import type { Tensor } from '../../src/core/tensor.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { decodeNpy } from '../../src/io/npy.js';
import { gradCam } from '../../src/methods/cam/variants.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { gradRolloutMap, rolloutMap } from '../../src/methods/transformer/rollout.js';
import { openOnnxModel } from '../../src/models/open.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/transformers/', import.meta.url));
/**
 * A directory with `transformers.py --full-vit DIR`'s output (full-size vit_b_16 at 32 px, 340 MB, never
 * committed) adds it to the ViT checks here: SIGHTLINE_FULL_VIT=DIR npx vitest run <this file>.
 */
const FULL = process.env.SIGHTLINE_FULL_VIT;
const dirOf = (name: string) => (name === 'vit_b_16_32px' ? `${FULL}/` : FIXTURES);
const npy = (name: string) => decodeNpy(readFileSync(`${dirOf(name.split('.')[0])}${name}.npy`));
const meta = (name: string) => JSON.parse(readFileSync(`${dirOf(name)}${name}.json`, 'utf8'));
const open = (name: string) => openOnnxModel(readFileSync(`${dirOf(name)}${name}.onnx`), {});
const VITS = [
  { name: 'vit_tiny', blocks: 2, heads: 2, tokens: 17, grid: [4, 4], classes: 10 },
  // The same ViT with attention written batch-first (timm, Hugging Face): [N, heads, T, T] probabilities.
  { name: 'vit_tiny_batch_first', blocks: 2, heads: 2, tokens: 17, grid: [4, 4], classes: 10 },
  ...(FULL ? [{ name: 'vit_b_16_32px', blocks: 12, heads: 12, tokens: 5, grid: [2, 2], classes: 1000 }] : []),
];
const TOLERANCE = 1e-4;

/** max |actual − expected| / max |expected|. */
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

const image = (x: Tensor, b: number): Tensor => {
  const per = x.data.length / x.dims[0];
  return { data: x.data.slice(b * per, (b + 1) * per), dims: [1, ...x.dims.slice(1)] };
};

const oneHots = (top: number[], k: number): Tensor => {
  const data = new Float32Array(top.length * k);
  top.forEach((c, i) => {
    data[i * k + c] = 1;
  });
  return { data, dims: [top.length, k] };
};

const errors: string[] = [];
afterAll(() => console.log(`transformer fixtures, max relative errors:\n${errors.join('\n')}`));

describe.each([
  ...VITS.map(({ name, blocks, grid }) => ({
    name,
    defaultLayer: `/encoder/layers/encoder_layer_${blocks - 1}/ln_1/LayerNormalization_output_0`,
    kind: 'tokens',
    grid,
  })),
  {
    name: 'swin_tiny',
    defaultLayer: '/norm/LayerNormalization_output_0',
    kind: 'channels-last',
    grid: [4, 4],
  },
])('$name', ({ name, defaultLayer, kind, grid }) => {
  let model: OnnxModel;
  const input = npy(`${name}.input`);
  const batch: Tensor = { data: input.data, dims: input.shape };
  const { top } = meta(name);

  beforeAll(async () => {
    model = await open(name);
  });
  afterAll(() => model?.dispose());

  it('lists token / channels-last layers with their grid and picks the expected default', async () => {
    const { layers, defaultLayer: chosen } = await model.layers();
    expect(chosen).toBe(defaultLayer);
    const info = layers.find((l) => l.name === chosen)!;
    expect(info.kind).toBe(kind);
    expect(info.grid).toEqual(grid);
    if (kind === 'tokens') expect(info.extraTokens).toBe(1);
    // The patch embedding is listed but, coming before every block, is never the default.
    expect(layers[0].kind).toBe('map');
    expect(layers[0].name).toMatch(/Conv/);
  });

  it('reads the default layer as [N, C, h, w] for a batch of 2, activations and gradients as torch', async () => {
    const logits = npy(`${name}.logits`);
    const result = await model.layer!(defaultLayer, batch, oneHots(top, logits.shape[1]));
    const a = npy(`${name}.activations`);
    expect(result.activations.dims).toEqual(a.shape);
    const errA = relativeError(result.activations.data, a.data);
    const errG = relativeError(result.gradients!.data, npy(`${name}.gradients`).data);
    const errS = relativeError(result.scores.data, logits.data);
    errors.push(
      `${name}: logits ${errS.toExponential(1)}, activations ${errA.toExponential(1)}, gradients ${errG.toExponential(1)}`,
    );
    expect(errS).toBeLessThan(TOLERANCE);
    expect(errA).toBeLessThan(TOLERANCE);
    expect(errG).toBeLessThan(TOLERANCE);
  });

  it('Grad-CAM (the registry method, default layer) equals the torch reference for each image', async () => {
    const cam = npy(`${name}.cam`);
    const [, h, w] = cam.shape;
    for (let b = 0; b < 2; b++) {
      const classes = npy(`${name}.logits`).shape[1];
      const map = await gradCam.attribute({ model, input: image(batch, b), target: top[b], classes }, {});
      expect(map.details?.layerWidth).toBe(w);
      const grid = cam.data.slice(b * h * w, (b + 1) * h * w);
      // Both sides upsampled the same way: upsampling is linear, so it keeps the error relative to the grid's.
      const expected = resamplePlanes(grid, 1, w, h, map.width, map.height);
      const err = relativeError(map.data, expected);
      errors.push(`${name}: Grad-CAM image ${b} ${err.toExponential(1)}`);
      expect(err).toBeLessThan(TOLERANCE);
    }
  });
});

describe.each(VITS)('$name: attention', ({ name, blocks, heads, tokens, grid, classes }) => {
  let model: OnnxModel;
  const input = npy(`${name}.input`);
  const batch: Tensor = { data: input.data, dims: input.shape };
  const { top } = meta(name);
  const cells = grid[0] * grid[1];
  beforeAll(async () => {
    model = await open(name);
  });
  afterAll(() => model?.dispose());

  it("reads every block's probabilities as [N, heads, T, T], batch of 2, heads in torch's order", async () => {
    expect(model.capabilities.has('attention')).toBe(true);
    const a = await model.attention!(batch, null);
    expect(a.probabilities.length).toBe(blocks);
    expect(a.probabilities[0].dims).toEqual([2, heads, tokens, tokens]);
    expect(a.grid).toEqual(grid);
    expect(a.extraTokens).toBe(1);
    const err = relativeError(a.probabilities[0].data, npy(`${name}.attention0`).data);
    errors.push(`${name}: attention block 0 ${err.toExponential(1)}`);
    expect(err).toBeLessThan(TOLERANCE);
  });

  it('rollout (mean; max with discard 0.5) and grad-rollout equal torch for both images', async () => {
    const a = await model.attention!(batch, oneHots(top, classes));
    const cases = [
      ['rollout', (b: number) => rolloutMap(a, b, { headFusion: 'mean', discardRatio: 0 })],
      ['rollout_max_discard', (b: number) => rolloutMap(a, b, { headFusion: 'max', discardRatio: 0.5 })],
      ['grad_rollout', (b: number) => gradRolloutMap(a, b)],
    ] as const;
    for (const [key, compute] of cases) {
      const ref = npy(`${name}.${key}`);
      for (let b = 0; b < 2; b++) {
        const err = relativeError(compute(b), ref.data.slice(b * cells, (b + 1) * cells));
        errors.push(`${name}: ${key} image ${b} ${err.toExponential(1)}`);
        expect(err).toBeLessThan(TOLERANCE);
      }
    }
  });

  it('the registry methods give the upsampled maps of the same numbers', async () => {
    for (const id of ['attention-rollout', 'grad-rollout']) {
      const method = getMethod(id);
      const map = await method.attribute(
        { model, input: image(batch, 1), target: top[1], classes },
        resolveOptions(method, {}),
      );
      const key = id === 'attention-rollout' ? 'rollout' : 'grad_rollout';
      const ref = npy(`${name}.${key}`).data.slice(cells, 2 * cells);
      const expected = resamplePlanes(ref, 1, grid[1], grid[0], map.width, map.height);
      expect(relativeError(map.data, expected)).toBeLessThan(TOLERANCE);
    }
  });
});

describe('swin_tiny: rollout is refused', () => {
  it('offers no attention (windowed, no class token), so rollout is refused', async () => {
    const model = await open('swin_tiny');
    try {
      expect(model.capabilities.has('attention')).toBe(false);
      const input = npy('swin_tiny.input');
      const method = getMethod('attention-rollout');
      await expect(
        method.attribute(
          { model, input: image({ data: input.data, dims: input.shape }, 0), target: 0, classes: 10 },
          resolveOptions(method, {}),
        ),
      ).rejects.toThrow(/exposes no attention/);
    } finally {
      await model.dispose();
    }
  });
});
