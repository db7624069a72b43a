/**
 * DeepLIFT-Rescale: multipliers against a hand computation on f(x) = σ(ReLU(x₁ − x₂) − 1) (including the
 * fallback to the gradient where x ≈ x₀), and summation-to-delta for deeplift and deeplift-shap on a small
 * ReLU CNN with batch norm and a sigmoid head (no max pooling: its exact gradient is no Rescale multiplier).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attr, encodeModel, floatTensor } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { analyticSpec } from '../helpers/analytic.js';
import { randomTensor } from '../helpers/autodiff-check.js';
import { graph, node, weights } from '../helpers/autodiff-graphs.js';
import { convBnStem } from '../helpers/bias-nets.js';

const sigma = (v: number) => 1 / (1 + Math.exp(-v));

describe('deeplift', () => {
  it('reproduces hand-computed Rescale multipliers, and the gradient where x ≈ x₀', async () => {
    const proto = graph({
      input: [2],
      opset: 13,
      nodes: [
        node('MatMul', ['x', 'w'], [], ['z']),
        node('Relu', ['z'], [], ['r']),
        node('Sub', ['r', 'one'], [], ['u']),
        node('Sigmoid', ['u'], [], ['y']),
      ],
      initializers: [
        floatTensor('w', [2, 1], Float32Array.of(1, -1)),
        floatTensor('one', [], Float32Array.of(1)),
      ],
    });
    const model = await OnnxModel.create(encodeModel(proto), analyticSpec(1));
    try {
      const x = [2, 0.5];
      const run = async (x0: number[]) => {
        const batch = { data: Float32Array.from([...x, ...x0]), dims: [2, 2] };
        const seed = { data: Float32Array.of(1, 1), dims: [2, 1] };
        const { gradients } = await model.inputGradients!(batch, seed, { rules: 'deeplift' });
        return Array.from(gradients.data.subarray(0, 2));
      };
      // z = 1.5 vs −1: ReLU's multiplier 1.5 / 2.5; u = 0.5 vs −1: σ's (σ(0.5) − σ(−1)) / 1.5.
      const m = (1.5 / 2.5) * ((sigma(0.5) - sigma(-1)) / 1.5);
      const far = await run([-1, 0]);
      expect(far[0]).toBeCloseTo(m, 6);
      expect(far[1]).toBeCloseTo(-m, 6);
      // The plain gradient differs: ReLU′ = 1 and σ′(0.5), so the test tells the rules apart.
      const slope = sigma(0.5) * (1 - sigma(0.5));
      expect(Math.abs(m - slope)).toBeGreaterThan(0.05);
      // x₀ = x: every difference is 0, so each op falls back to its gradient.
      const near = await run([2, 0.5]);
      expect(near[0]).toBeCloseTo(slope, 6);
      expect(near[1]).toBeCloseTo(-slope, 6);
      // Only the second input moves: z = 1.5 vs 1 (ReLU: 1), u = 0.5 vs 0 (σ: (σ(0.5) − ½) / 0.5).
      const half = await run([2, 1]);
      expect(half[0]).toBeCloseTo((sigma(0.5) - 0.5) / 0.5, 6);
    } finally {
      await model.dispose();
    }
  });

  it('follows Captum’s max-pool rule: each image’s winner carries its share of y − y₀', async () => {
    const proto = graph({
      input: [1, 1, 2],
      opset: 13,
      nodes: [
        node('MaxPool', ['x'], [attr('kernel_shape', [1, 2])], ['p']),
        node('Flatten', ['p'], [], ['y']),
      ],
    });
    const model = await OnnxModel.create(encodeModel(proto), analyticSpec(1));
    try {
      const run = async (x: number[], x0: number[]) => {
        const batch = { data: Float32Array.from([...x, ...x0]), dims: [2, 1, 1, 2] };
        const seed = { data: Float32Array.of(1, 1), dims: [2, 1] };
        const { gradients } = await model.inputGradients!(batch, seed, { rules: 'deeplift' });
        return Array.from(gradients.data.subarray(0, 2));
      };
      // y = 3, y₀ = 2, m = 3: x's winner (0) carries 3 − 2 over Δx = 3; x₀'s winner (1) carries 3 − 3 = 0.
      const a = await run([3, 1], [0, 2]);
      expect(a[0]).toBeCloseTo(1 / 3, 6);
      expect(a[1]).toBeCloseTo(0, 6);
      // y = 1, y₀ = 4, m = 4: x's winner carries 0; x₀'s winner (1) carries 1 − 4 over Δx = −4.
      const b = await run([1, 0], [0, 4]);
      expect(b[0]).toBeCloseTo(0, 6);
      expect(b[1]).toBeCloseTo(0.75, 6);
    } finally {
      await model.dispose();
    }
  });

  it('sums to the score change on the folded-BN ReLU CNN with max pooling (fixture)', async () => {
    const bytes = new Uint8Array(
      readFileSync(new URL('../fixtures/backward-rules/fullgrad.onnx', import.meta.url)),
    );
    const model = await OnnxModel.create(bytes, { ...analyticSpec(12), inputName: 'input', labels: [] });
    try {
      const input = { data: randomTensor(3 * 144, 12, -2, 2), dims: [1, 3, 12, 12] };
      for (const [id, options] of [
        ['deeplift', { baselineType: 'black' }],
        ['deeplift', { baselineType: 'noise' }],
        ['deeplift-shap', { samples: 4 }],
      ] as const) {
        const method = getMethod(id);
        const map = await method.attribute(
          { model, input, target: 1, classes: 4 },
          resolveOptions(method, options),
        );
        expect(Math.abs(map.details!.scoreAtInput - map.details!.scoreAtBaseline), id).toBeGreaterThan(1e-3);
        expect(map.details!.relativeDelta, `${id} ${JSON.stringify(options)}`).toBeLessThan(1e-3);
      }
    } finally {
      await model.dispose();
    }
  });

  it('sums to the score change (deeplift, deeplift-shap) on a ReLU CNN with batch norm and a sigmoid', async () => {
    const stem = convBnStem();
    const proto = graph({
      input: [3, 8, 8],
      opset: 13,
      nodes: [
        ...stem.nodes,
        node('Relu', ['bn'], [], ['r1']),
        node('Conv', ['r1', 'w2', 'b2'], [attr('strides', [2, 2])], ['c2']),
        node('LeakyRelu', ['c2'], [attr('alpha', 0.1, 'float')], ['r2']),
        node('GlobalAveragePool', ['r2'], [], ['g']),
        node('Flatten', ['g'], [], ['f']),
        node('Gemm', ['f', 'w3', 'b3'], [attr('transB', 1)], ['h']),
        node('Sigmoid', ['h'], [], ['scores']),
      ],
      initializers: [
        ...stem.initializers,
        weights('w2', [5, 4, 2, 2], 7),
        weights('b2', [5], 8),
        weights('w3', [3, 5], 9, -3, 3),
        weights('b3', [3], 10),
      ],
    });
    const model = await OnnxModel.create(encodeModel(proto), analyticSpec(8), { maxBatch: 6 });
    try {
      const input = { data: randomTensor(3 * 64, 11, -2, 2), dims: [1, 3, 8, 8] };
      for (const [id, options] of [
        ['deeplift', { baselineType: 'black' }],
        ['deeplift', { baselineType: 'blur' }],
        ['deeplift-shap', { samples: 5 }],
      ] as const) {
        const method = getMethod(id);
        for (const target of [0, 2]) {
          const map = await method.attribute(
            { model, input, target, classes: 3 },
            resolveOptions(method, options),
          );
          const d = map.details!;
          expect(Math.abs(d.scoreAtInput - d.scoreAtBaseline), id).toBeGreaterThan(1e-3);
          expect(d.relativeDelta, `${id} ${JSON.stringify(options)} ${target}`).toBeLessThan(1e-3);
          const sum = map.data.reduce((a, b) => a + b, 0);
          expect(sum).toBeCloseTo(d.scoreAtInput - d.scoreAtBaseline, 4);
          expect(map.signed).toBe(true);
        }
      }
    } finally {
      await model.dispose();
    }
  });
});
