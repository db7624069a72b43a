/**
 * LRP: each rule against a hand computation (plain loops in float64) on a two-layer network, x → Conv (a
 * 2×2 kernel over a 2×2 image, so a dense layer written as a conv) → ReLU → Gemm; conservation of LRP-ε on a
 * bias-free ReLU CNN with max and average pooling; batch norm folded into its conv equals the network with
 * the fold done by hand; ops without a rule refused in words.
 */
import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { ModelSpec } from '../../src/core/model.js';
import { attr, encodeModel, floatTensor, type ModelProto } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { type LrpRule, relevance } from '../../src/methods/gradient/lrp.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { analyticSpec } from '../helpers/analytic.js';
import { randomTensor } from '../helpers/autodiff-check.js';
import { graph, node, weights } from '../helpers/autodiff-graphs.js';

// Pixels 0 and 255 become −2 and 2: the composite's zβ bounds.
const spec: ModelSpec = { ...analyticSpec(2), mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
const W1 = randomTensor(3 * 12, 11, -1, 1);
const B1 = Float32Array.of(0.3, -0.2, 0.1);
const W2 = randomTensor(2 * 3, 12, -1, 1);
const B2 = Float32Array.of(0.05, -0.1);
const X = randomTensor(12, 13, -2, 2);

function twoLayer(): ModelProto {
  return graph({
    input: [3, 2, 2],
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], [], ['c']),
      node('Relu', ['c'], [], ['a']),
      node('Flatten', ['a'], [], ['f']),
      node('Gemm', ['f', 'w2', 'b2'], [attr('transB', 1)], ['y']),
    ],
    initializers: [
      floatTensor('w1', [3, 3, 2, 2], W1),
      floatTensor('b1', [3], B1),
      floatTensor('w2', [2, 3], W2),
      floatTensor('b2', [2], B2),
    ],
  });
}

const stab = (z: number, e = 1e-6) => z + (z >= 0 ? e : -e);
const pos = (v: number) => Math.max(v, 0);
const neg = (v: number) => Math.min(v, 0);

/** Relevance at the 12 inputs for `target`, each rule written out as in Montavon et al. 2019. */
function byHand(rule: LrpRule, target: number): number[] {
  const w = (j: number, i: number) => W1[j * 12 + i];
  const z1 = [0, 1, 2].map((j) => B1[j] + X.reduce((s, x, i) => s + x * w(j, i), 0));
  const a = z1.map(pos);
  const y = B2[target] + a.reduce((s, v, j) => s + v * W2[target * 3 + j], 0);
  // The dense layer's ε rule, then ReLU passes relevance on.
  const r1 = a.map((v, j) => (v * W2[target * 3 + j] * y) / stab(y));
  const contribution = (i: number, j: number): number => {
    const x = X[i];
    const wji = w(j, i);
    const sum = (f: (k: number) => number) => X.reduce((s, _, k) => s + f(k), 0);
    switch (rule) {
      case 'epsilon':
        return (x * wji) / stab(z1[j]);
      case 'gamma': {
        const g = (v: number) => v + 0.25 * pos(v);
        return (x * g(wji)) / stab(sum((k) => X[k] * g(w(j, k))) + g(B1[j]));
      }
      case 'zplus':
        return (x * pos(wji)) / stab(sum((k) => X[k] * pos(w(j, k))));
      case 'alpha2-beta1':
      case 'alpha1-beta0': {
        const [alpha, beta] = rule === 'alpha2-beta1' ? [2, 1] : [1, 0];
        const up = sum((k) => pos(X[k] * w(j, k)));
        const down = sum((k) => neg(X[k] * w(j, k)));
        return (alpha * pos(x * wji)) / stab(up) - (beta * neg(x * wji)) / stab(down);
      }
      case 'composite': {
        const part = (k: number) => X[k] * w(j, k) + 2 * pos(w(j, k)) - 2 * neg(w(j, k));
        return part(i) / stab(sum(part));
      }
    }
  };
  return X.map((_, i) => r1.reduce((s, r, j) => s + contribution(i, j) * r, 0)) as unknown as number[];
}

/** The largest difference as a fraction of the largest expected |value|. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const e = Array.from(expected);
  return Math.max(...e.map((v, i) => Math.abs(v - actual[i]))) / Math.max(...e.map(Math.abs));
}

async function open(proto: ModelProto, s: ModelSpec = spec): Promise<OnnxModel> {
  return OnnxModel.create(encodeModel(proto), s);
}

const RULES: LrpRule[] = ['epsilon', 'gamma', 'zplus', 'alpha2-beta1', 'alpha1-beta0', 'composite'];

describe('lrp', () => {
  it('equals a hand computation of every rule on a two-layer network', async () => {
    const model = await open(twoLayer());
    try {
      const input = { data: X, dims: [1, 3, 2, 2] };
      const results = new Map<LrpRule, number[]>();
      for (const rule of RULES) {
        for (const target of [0, 1]) {
          const expected = byHand(rule, target);
          const { relevance: r } = await relevance({ model, input, target, classes: 2 }, rule);
          expect(relativeError(r, expected), `${rule} target ${target}`).toBeLessThan(1e-4);
          if (target === 0) results.set(rule, expected);
        }
      }
      // The rules give different answers here, or the test could not tell them apart.
      for (const [i, a] of RULES.entries())
        for (const b of RULES.slice(i + 1)) {
          const diff = Math.max(...results.get(a)!.map((v, k) => Math.abs(v - results.get(b)![k])));
          expect(diff, `${a} vs ${b}`).toBeGreaterThan(1e-3);
        }
    } finally {
      await model.dispose();
    }
  });

  it('treats dense layers alike: Gemm first (zβ in the composite), then MatMul with its bias added', async () => {
    const proto = graph({
      input: [3, 2, 2],
      nodes: [
        node('Flatten', ['x'], [], ['f']),
        node('Gemm', ['f', 'w1', 'b1'], [attr('transB', 1)], ['c']),
        node('Relu', ['c'], [], ['a']),
        node('MatMul', ['a', 'w2t'], [], ['m']),
        node('Add', ['m', 'b2'], [], ['y']),
      ],
      initializers: [
        floatTensor('w1', [3, 12], W1),
        floatTensor('b1', [3], B1),
        floatTensor('w2t', [3, 2], Float32Array.from([0, 1, 2].flatMap((j) => [W2[j], W2[3 + j]]))),
        floatTensor('b2', [2], B2),
      ],
    });
    const model = await open(proto);
    try {
      const input = { data: X, dims: [1, 3, 2, 2] };
      for (const rule of ['epsilon', 'composite'] as const) {
        const expected = byHand(rule, 1);
        const { relevance: r } = await relevance({ model, input, target: 1, classes: 2 }, rule);
        expect(relativeError(r, expected), rule).toBeLessThan(1e-4);
      }
    } finally {
      await model.dispose();
    }
  });

  it('every rule, LRP-ε included, conserves relevance on a bias-free ReLU CNN (max and average pooling) to 1e-4', async () => {
    const proto = graph({
      input: [3, 8, 8],
      nodes: [
        node('Conv', ['x', 'w1'], [attr('pads', [1, 1, 1, 1])], ['c1']),
        node('Relu', ['c1'], [], ['r1']),
        node('MaxPool', ['r1'], [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])], ['p1']),
        node('Conv', ['p1', 'w2'], [attr('pads', [1, 1, 1, 1]), attr('strides', [2, 2])], ['c2']),
        node('Relu', ['c2'], [], ['r2']),
        node('GlobalAveragePool', ['r2'], [], ['g']),
        node('Flatten', ['g'], [], ['f']),
        node('Gemm', ['f', 'w3'], [attr('transB', 1)], ['y']),
      ],
      initializers: [
        weights('w1', [6, 3, 3, 3], 1),
        weights('w2', [5, 6, 3, 3], 2),
        weights('w3', [4, 5], 3),
      ],
    });
    // Pixels 0 and 255 become −1 and 1, so zβ's box holds the input.
    const s: ModelSpec = {
      ...analyticSpec(8),
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      labels: ['a', 'b', 'c', 'd'],
    };
    const model = await open(proto, s);
    try {
      const input = { data: randomTensor(3 * 64, 4, -1, 1), dims: [1, 3, 8, 8] };
      const method = getMethod('lrp');
      for (const [target, lrpRule] of [0, 1, 2, 3].flatMap((t) => RULES.map((r) => [t, r] as const))) {
        const map = await method.attribute(
          { model, input, target, classes: 4 },
          resolveOptions(method, { lrpRule }),
        );
        const { relevanceSum, scoreAtInput, completenessDelta } = map.details!;
        expect(Math.abs(scoreAtInput)).toBeGreaterThan(1e-3);
        expect(
          Math.abs(relevanceSum - scoreAtInput) / Math.abs(scoreAtInput),
          `${lrpRule} ${target}`,
        ).toBeLessThan(1e-4);
        expect(completenessDelta).toBeCloseTo(relevanceSum - scoreAtInput, 9);
        expect(map.data.reduce((a, b) => a + b, 0)).toBeCloseTo(relevanceSum, 3);
      }
    } finally {
      await model.dispose();
    }
  });

  it('folds batch norm into the preceding convolution: equal to the network with the fold done by hand', async () => {
    const gamma = Float32Array.of(1.5, 0.7, -0.4);
    const beta = Float32Array.of(0.2, -0.3, 0.5);
    const mean = Float32Array.of(0.1, -0.2, 0.3);
    const variance = Float32Array.of(0.5, 2, 1.2);
    const a = [0, 1, 2].map((j) => gamma[j] / Math.sqrt(variance[j] + 1e-5));
    const withBn = graph({
      input: [3, 2, 2],
      nodes: [
        node('Conv', ['x', 'w1', 'b1'], [], ['c']),
        node('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'var'], [], ['n']),
        node('Relu', ['n'], [], ['r']),
        node('Flatten', ['r'], [], ['f']),
        node('Gemm', ['f', 'w2', 'b2'], [attr('transB', 1)], ['y']),
      ],
      initializers: [
        floatTensor('w1', [3, 3, 2, 2], W1),
        floatTensor('b1', [3], B1),
        floatTensor('gamma', [3], gamma),
        floatTensor('beta', [3], beta),
        floatTensor('mean', [3], mean),
        floatTensor('var', [3], variance),
        floatTensor('w2', [2, 3], W2),
        floatTensor('b2', [2], B2),
      ],
    });
    const folded = twoLayer();
    const init = folded.graph!.initializer!;
    init[0] = floatTensor(
      'w1',
      [3, 3, 2, 2],
      W1.map((v, k) => v * a[Math.floor(k / 12)]),
    );
    init[1] = floatTensor(
      'b1',
      [3],
      B1.map((b, j) => (b - mean[j]) * a[j] + beta[j]),
    );
    const models = [await open(withBn), await open(folded)];
    try {
      const input = { data: X, dims: [1, 3, 2, 2] };
      for (const rule of ['gamma', 'alpha2-beta1', 'composite'] as const) {
        const [r, expected] = await Promise.all(
          models.map(
            async (model) => (await relevance({ model, input, target: 0, classes: 2 }, rule)).relevance,
          ),
        );
        expect(relativeError(r, expected), rule).toBeLessThan(1e-4);
      }
    } finally {
      for (const model of models) await model.dispose();
    }
  });

  it('refuses the composite on a model that takes fewer than 3 images per call, naming the other rules', async () => {
    const model = await OnnxModel.create(encodeModel(twoLayer()), spec, { maxBatch: 2 });
    try {
      const input = { data: X, dims: [1, 3, 2, 2] };
      const error = await relevance({ model, input, target: 0, classes: 2 }, 'composite').catch((e) => e);
      expect((error as SightlineError).code).toBe('MISSING_CAPABILITY');
      expect((error as Error).message).toContain('--lrp-rule epsilon');
      // The single-image rules still run there.
      const { relevance: r } = await relevance({ model, input, target: 0, classes: 2 }, 'epsilon');
      expect(Math.max(...byHand('epsilon', 0).map((e, i) => Math.abs(e - r[i])))).toBeLessThan(1e-4);
    } finally {
      await model.dispose();
    }
  });

  it('refuses ops without an LRP rule in words: a product of two activations, a softmax inside', async () => {
    const silu = graph({
      input: [3, 2, 2],
      nodes: [
        node('Conv', ['x', 'w1'], [], ['c']),
        node('Sigmoid', ['c'], [], ['s']),
        node('Mul', ['c', 's'], [], ['m']),
        node('Flatten', ['m'], [], ['f']),
        node('Gemm', ['f', 'w2'], [attr('transB', 1)], ['y']),
      ],
      initializers: [floatTensor('w1', [3, 3, 2, 2], W1), floatTensor('w2', [2, 3], W2)],
    });
    const softmax = graph({
      input: [3, 2, 2],
      nodes: [...twoLayer().graph!.node!, node('Softmax', ['y'], [attr('axis', 1)], ['p'])],
      initializers: twoLayer().graph!.initializer!,
    });
    for (const [proto, op] of [
      [silu, 'Mul'],
      [softmax, 'Softmax'],
    ] as const) {
      const model = await open(proto);
      try {
        const input = { data: X, dims: [1, 3, 2, 2] };
        const error = await relevance({ model, input, target: 0, classes: 2 }, 'epsilon').catch((e) => e);
        expect(error).toBeInstanceOf(SightlineError);
        expect((error as SightlineError).code).toBe('UNSUPPORTED_OP');
        expect((error as Error).message).toContain(`op '${op}'`);
        expect((error as Error).message).toContain('LRP has no rule');
      } finally {
        await model.dispose();
      }
    }
  });
});
