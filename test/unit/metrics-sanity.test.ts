import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { createRng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import {
  byBlocks,
  byNamePrefix,
  labelRandomization,
  type ModelRandomizationRequest,
  modelRandomization,
  modelRandomizations,
  type WeightLayer,
  weightLayers,
} from '../../src/metrics/sanity.js';
import { spearman, ssim } from '../../src/metrics/similarity.js';
import { openOnnxModel } from '../../src/models/open.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

/** net_tiny_cnn: conv/BN/ReLU6/depthwise/SiLU/maxpool/dropout/linear/GELU on a 16 × 16 input, 5 classes. */
describe('sanity checks on net_tiny_cnn', () => {
  let model: OnnxModel;
  let input: Tensor;
  beforeAll(async () => {
    const bytes = new Uint8Array(await readFile(join(GOLDEN, 'net_tiny_cnn.onnx')));
    model = await openOnnxModel(bytes, { outputs: 'logits', maxBatch: 2 });
    const rng = createRng(5);
    input = {
      data: Float32Array.from({ length: 3 * 16 * 16 }, () => rng.next() * 2 - 1),
      dims: [1, 3, 16, 16],
    };
  });
  afterAll(() => model.dispose());

  it('lists the weight layers from the output back to the input, each weight once', () => {
    const layers = weightLayers(model);
    console.log(layers.map((l) => `${l.op} ${l.name}: ${l.weights.join(', ')}`).join('\n'));
    expect(layers.length).toBeGreaterThanOrEqual(3);
    expect(['Gemm', 'MatMul', 'Add']).toContain(layers[0].op);
    expect(layers[layers.length - 1].op).toBe('Conv');
    const all = layers.flatMap((l) => l.weights);
    expect(new Set(all).size).toBe(all.length);
    const group = byNamePrefix(2);
    expect(group({ name: '/layer4/layer4.1/conv2/Conv', op: 'Conv', weights: [] })).toBe('layer4/layer4.1');
  });

  it('withWeights: the identity replacement gives the same scores and gradients; a new weight changes them', async () => {
    const same = await model.withWeights((_, values) => values);
    const seed = { data: Float32Array.of(0, 1, 0, 0, 0), dims: [1, 5] };
    try {
      const a = await model.inputGradients(input, seed);
      const b = await same.inputGradients(input, seed);
      expect(Array.from(b.scores.data)).toEqual(Array.from(a.scores.data));
      expect(Array.from(b.gradients.data)).toEqual(Array.from(a.gradients.data));
    } finally {
      await same.dispose();
    }
    // Doubling the first layer's weights changes the gradients, in the backward pass too.
    const first = weightLayers(model).at(-1)!.weights[0];
    const doubled = await model.withWeights((name, values) =>
      name === first ? values.map((v) => 2 * v) : undefined,
    );
    try {
      const a = await model.inputGradients(input, seed);
      const b = await doubled.inputGradients(input, seed);
      expect(Array.from(b.gradients.data)).not.toEqual(Array.from(a.gradients.data));
    } finally {
      await doubled.dispose();
    }
    await expect(model.withWeights(() => new Float32Array(1))).rejects.toThrow(/must be \d+ numbers; got 1/);
  });

  it('steps through no layer when asked for 0; randomizing all of them decorrelates the gradient map', async () => {
    const none = await modelRandomization({ model, input, method: 'gradient', target: 1, layers: 0 });
    expect(none).toEqual({ target: 1, steps: [] });
    const all = await modelRandomization({ model, input, method: 'gradient', target: 1, seed: 3 });
    const layers = weightLayers(model);
    expect(all.steps.map((s) => s.layer)).toEqual(layers.map((l) => l.name));
    for (const step of all.steps) {
      expect(step.spearmanAbs).toBeGreaterThanOrEqual(-1);
      expect(step.spearmanAbs).toBeLessThan(1);
    }
    const last = all.steps.at(-1)!;
    console.log(
      all.steps.map((s) => `${s.layer}: ρ|·| ${s.spearmanAbs.toFixed(3)} SSIM ${s.ssim.toFixed(3)}`),
    );
    expect(Math.abs(last.spearmanAbs)).toBeLessThan(0.3);
    expect(last.weights).toBe(layers.flatMap((l) => l.weights).length);
  });

  it('a step that changes no weight gives Spearman 1 and SSIM 1 exactly', async () => {
    // Zero-variance weights (all equal) are redrawn as themselves: N(μ, 0) = μ.
    const constant = await model.withWeights((_, values) => new Float32Array(values.length).fill(0.1));
    try {
      const result = await modelRandomization({
        model: constant,
        input,
        method: 'gradient',
        target: 1,
        layers: 1,
      });
      expect(result.steps[0]).toMatchObject({ spearmanAbs: 1, spearman: 1, ssim: 1 });
    } finally {
      await constant.dispose();
    }
  });

  it('is reproducible with a seed, and independent steps draw the same noise as the cascade', async () => {
    const run = (mode: 'cascading' | 'independent', seed: number) =>
      modelRandomization({ model, input, method: 'gradient', target: 2, layers: 2, mode, seed });
    const a = await run('cascading', 9);
    const b = await run('cascading', 9);
    expect(b).toEqual(a);
    const c = await run('independent', 9);
    expect(c.steps[0]).toEqual(a.steps[0]);
    expect(c.steps[1].weights).toBe(weightLayers(model)[1].weights.length);
    const d = await run('cascading', 10);
    expect(d.steps[0].spearmanAbs).not.toBe(a.steps[0].spearmanAbs);
  });

  it('label randomization compares the map of a random other class with the target', async () => {
    const result = await labelRandomization({ model, input, method: 'gradient', target: 1, seed: 4 });
    expect(result.target).toBe(1);
    expect(result.randomTarget).not.toBe(1);
    expect(result.randomTarget).toBeGreaterThanOrEqual(0);
    expect(result.randomTarget).toBeLessThan(5);
    expect(result.spearmanAbs).toBeLessThan(1);
    expect(await labelRandomization({ model, input, method: 'gradient', target: 1, seed: 4 })).toEqual(
      result,
    );
  });

  it('compares maps exactly as similarity.ts does, for signed and non-negative maps', async () => {
    // The check ranks the original once and reuses |ranks| as signed ranks for non-negative maps.
    for (const method of ['gradient', 'gradient-x-input']) {
      const result = await labelRandomization({ model, input, method, target: 1, seed: 4 });
      const map = (t: number) =>
        getMethod(method).attribute(
          { model, input, target: t, classes: 5 },
          resolveOptions(getMethod(method), {}),
        );
      const [a, b] = [await map(1), await map(result.randomTarget)];
      const abs = (v: Float32Array) => Float32Array.from(v, Math.abs);
      expect(a.data.some((v) => v < 0)).toBe(method === 'gradient-x-input');
      expect(result).toEqual({
        target: 1,
        randomTarget: result.randomTarget,
        spearmanAbs: spearman(abs(a.data), abs(b.data)),
        spearman: spearman(a.data, b.data),
        ssim: ssim(a.data, b.data, a.width, a.height),
      });
    }
  });

  it('several methods on the same randomized models give what each gives alone', async () => {
    const request = { model, input, target: 2, layers: 2, seed: 6 } as const;
    const together = await modelRandomizations({
      ...request,
      methods: [{ method: 'gradient' }, { method: 'gradient-x-input' }],
    });
    expect(together).toEqual([
      await modelRandomization({ ...request, method: 'gradient' }),
      await modelRandomization({ ...request, method: 'gradient-x-input' }),
    ]);
    // The caller's original map stands in for the recomputed one; one of the wrong size is refused.
    const map = await getMethod('gradient').attribute({ model, input, target: 2, classes: 5 }, {});
    expect(await modelRandomization({ ...request, method: 'gradient', original: map })).toEqual(together[0]);
    await expect(
      modelRandomization({
        ...request,
        method: 'gradient',
        original: { width: 3, height: 3, data: new Float32Array(9), signed: false },
      }),
    ).rejects.toThrow(/Argument 'original' must be a map at the model's input size 16×16; got "3×3"/);
    // More layers than the model has: an error, unless clamped to what there is.
    const count = weightLayers(model).length;
    const clamped = await modelRandomization({
      ...request,
      method: 'gradient',
      layers: 99,
      clampLayers: true,
    });
    expect(clamped.steps).toHaveLength(count);
  });

  it('byBlocks picks the deepest name prefix with at most 24 groups', () => {
    const layer = (name: string): WeightLayer => ({ name, op: 'Conv', weights: [name] });
    // TF-Slim InceptionV3-like names: 17 blocks at depth 3, 5 branches per block at depth 4 (85 > 24).
    const slim = [
      layer('InceptionV3/Logits/Conv2d_1c_1x1/Conv2D'),
      ...Array.from({ length: 16 }, (_, b) =>
        Array.from({ length: 5 }, (_, r) =>
          layer(`InceptionV3/InceptionV3/Mixed_${b}/Branch_${r}/Conv2d_0a_1x1/Conv2D`),
        ),
      ).flat(),
    ];
    const slimKey = byBlocks(slim);
    expect(new Set(slim.map(slimKey)).size).toBe(17);
    expect(slimKey(slim[3])).toBe('InceptionV3/InceptionV3/Mixed_0');
    // A PyTorch ResNet-like export: conv1, 4 stages × 2 blocks × 2 convs, fc → 10 groups at depth 2.
    const torch = [
      layer('/fc/Gemm'),
      ...[4, 3, 2, 1].flatMap((s) =>
        [1, 0].flatMap((b) => [2, 1].map((c) => layer(`/layer${s}/layer${s}.${b}/conv${c}/Conv`))),
      ),
      layer('/conv1/Conv'),
    ];
    const torchKey = byBlocks(torch);
    expect(new Set(torch.map(torchKey)).size).toBe(10);
    expect(torchKey(torch[1])).toBe('layer4/layer4.1');
    // Flat names: one group per layer.
    const flat = [layer('dense'), layer('conv')];
    expect(flat.map(byBlocks(flat))).toEqual(['dense', 'conv']);
  });

  it('rejects a bad request, naming the argument', async () => {
    const noInput = { model, method: 'gradient', target: 1 } as unknown as ModelRandomizationRequest;
    await expect(modelRandomization(noInput)).rejects.toThrow(
      /Argument 'input' must be a preprocessed batch of one/,
    );
    await expect(modelRandomization({ model, input, method: 'gradient', target: 5 })).rejects.toThrow(
      /Argument 'target' must be a class index from 0 to 4; got 5/,
    );
    await expect(
      modelRandomization({ model, input, method: 'gradient', target: 1, layers: 99 }),
    ).rejects.toThrow(/Argument 'layers' must be a whole number from 0 to \d+/);
  });

  it("asks the model for its weights (capability 'weights'), not for an engine", async () => {
    expect(model.capabilities.has('weights')).toBe(true);
    const [last] = weightLayers(model).at(-1)!.weights;
    expect(model.weightValues(last)).toEqual(await readWeights(model, last));
    expect(() => model.weightValues('no such weight')).toThrow(
      /Argument 'name' must be the name of one of the model's float32 weight tensors; got "no such weight"/,
    );
    // A model that predicts but keeps its weights to itself, as an HTTP model does.
    const predictOnly: Model = {
      spec: model.spec,
      capabilities: new Set(['predict']),
      maxBatch: 2,
      predict: (batch) => model.predict(batch),
      dispose: async () => {},
    };
    const refused = modelRandomization({ model: predictOnly, input, method: 'occlusion', target: 1 });
    await expect(refused).rejects.toMatchObject({ code: 'MISSING_CAPABILITY' });
    await expect(refused).rejects.toThrow(
      /Model randomization replaces a model's weights.*capability 'weights'/,
    );
    // Label randomization asks for nothing but predictions and the method's own needs.
    const labels = await labelRandomization({
      model: predictOnly,
      input,
      method: 'occlusion',
      options: { window: 8, stride: 8 },
      target: 1,
    });
    expect(labels.target).toBe(1);
  });
});

/** The initializer's values as withWeights sees them, read independently of weightValues. */
async function readWeights(model: OnnxModel, name: string): Promise<Float32Array | undefined> {
  let seen: Float32Array | undefined;
  const copy = await model.withWeights((n, values) => {
    if (n === name) seen = values;
    return undefined;
  });
  await copy.dispose();
  return seen;
}
