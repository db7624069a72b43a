/**
 * DeepLIFT's softmax rule (Captum's: elementwise Rescale multipliers, the gradient where x ≈ x₀, minus their
 * mean over each softmax group): multipliers against a float64 hand computation of that formula, per pair
 * in a batch of two pairs and per group of a softmax over the last axis; and what summation-to-delta does
 * with a softmax at the output, against the gap the exact softmax gradient would leave; and a PyTorch
 * reference with backward hooks as Captum's DeepLift sets them (scripts/golden/deeplift_softmax.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUTODIFF_VERSION } from '../../src/engines/onnx/autodiff/index.js';
import { attr, encodeModel, floatTensor, int64Tensor } from '../../src/engines/onnx/proto.js';
import { type GradientGraphCache, OnnxModel } from '../../src/engines/onnx/session.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { analyticSpec } from '../helpers/analytic.js';
import { randomTensor } from '../helpers/autodiff-check.js';
import { graph, node } from '../helpers/autodiff-graphs.js';

const EPS = 1e-6;

/** v (length r) times the r × c row-major matrix w. */
const times = (v: readonly number[], w: ArrayLike<number>, c: number) =>
  Array.from({ length: c }, (_, j) => v.reduce((s, vi, i) => s + vi * w[i * c + j], 0));

/** The r × c matrix w times v (length c). */
const timesT = (w: ArrayLike<number>, v: readonly number[], r: number) =>
  Array.from({ length: r }, (_, i) => v.reduce((s, vj, j) => s + w[i * v.length + j] * vj, 0));

/** Softmax over consecutive groups of `size`. */
function softmax(z: readonly number[], size: number): number[] {
  const y: number[] = [];
  for (let g = 0; g < z.length; g += size) {
    const group = z.slice(g, g + size);
    const top = Math.max(...group);
    const e = group.map((v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    y.push(...e.map((v) => v / total));
  }
  return y;
}

/**
 * Captum's rule at a softmax over groups of `size`, in float64: m̃ = dy·Δy/Δz (the exact gradient at the
 * input where |Δz| < eps), then m̃ minus its mean (over the group, or over all of it when `whole`).
 */
function softmaxMultipliers(z: number[], z0: number[], dy: number[], size: number, whole = false): number[] {
  const y = softmax(z, size);
  const y0 = softmax(z0, size);
  const raw = z.map((_, i) => {
    const dIn = z[i] - z0[i];
    if (Math.abs(dIn) >= EPS) return (dy[i] * (y[i] - y0[i])) / dIn;
    const g = i - (i % size);
    const dot = y.slice(g, g + size).reduce((s, yj, j) => s + yj * dy[g + j], 0);
    return y[i] * (dy[i] - dot);
  });
  const span = whole ? raw.length : size;
  return raw.map((v, i) => {
    const g = i - (i % span);
    return v - raw.slice(g, g + span).reduce((a, b) => a + b, 0) / span;
  });
}

describe('deeplift softmax rule', () => {
  // x [6] → z = xW → [2, 3] → softmax over the last axis → [6] → out = sV [2].
  const w = randomTensor(36, 31, -1, 1);
  const v = randomTensor(12, 32, -1, 1);
  const proto = graph({
    input: [6],
    opset: 13,
    nodes: [
      node('MatMul', ['x', 'w'], [], ['z']),
      node('Reshape', ['z', 'grouped'], [], ['zg']),
      node('Softmax', ['zg'], [attr('axis', -1)], ['sg']),
      node('Reshape', ['sg', 'flat'], [], ['s']),
      node('MatMul', ['s', 'v'], [], ['out']),
    ],
    initializers: [
      floatTensor('w', [6, 6], w),
      floatTensor('v', [6, 2], v),
      int64Tensor('grouped', [3], [0, 2, 3]),
      int64Tensor('flat', [2], [0, 6]),
    ],
  });

  it('reproduces hand-computed multipliers per pair and per group, with the gradient where Δz ≈ 0', async () => {
    const keys: string[] = [];
    const gradientCache: GradientGraphCache = {
      async load(key, make) {
        keys.push(key);
        return make();
      },
    };
    const model = await OnnxModel.create(encodeModel(proto), analyticSpec(1), { maxBatch: 4, gradientCache });
    try {
      const x1 = Array.from(randomTensor(6, 33, -2, 2));
      const r1 = Array.from(randomTensor(6, 34, -2, 2));
      const x2 = Array.from(randomTensor(6, 35, -2, 2));
      // r2 − x2 is orthogonal to W's first column, so Δz₀ ≈ 0 and that element falls back to the gradient.
      const u = [1, 0, 0, 0, 0, 0].map((e, a) => (a === 1 ? -w[0] / w[6] : e));
      const r2 = Array.from(Float32Array.from(x2.map((xi, a) => xi + 0.8 * u[a])));
      const c = [1, -0.5];
      const batch = { data: Float32Array.from([...x1, ...x2, ...r1, ...r2]), dims: [4, 6] };
      const seed = { data: Float32Array.from([...c, ...c, ...c, ...c]), dims: [4, 2] };
      const { gradients } = await model.inputGradients!(batch, seed, { rules: 'deeplift' });

      const dy = timesT(v, c, 6);
      const hand = (x: number[], r: number[], whole = false) =>
        timesT(w, softmaxMultipliers(times(x, w, 6), times(r, w, 6), dy, 3, whole), 6);
      expect(Math.abs(times(r2, w, 6)[0] - times(x2, w, 6)[0])).toBeLessThan(EPS);
      for (const [row, x, r] of [
        [0, x1, r1],
        [1, x2, r2],
      ] as const) {
        const ours = Array.from(gradients.data.subarray(row * 6, (row + 1) * 6));
        const expected = hand(x, r);
        for (let a = 0; a < 6; a++) expect(ours[a], `row ${row} x${a}`).toBeCloseTo(expected[a], 5);
        // The multipliers into each softmax group sum to 0, as the exact gradient's do.
        const mz = softmaxMultipliers(times(x, w, 6), times(r, w, 6), dy, 3);
        expect(Math.abs(mz[0] + mz[1] + mz[2])).toBeLessThan(1e-12);
      }
      // The choices the test tells apart: the exact gradient, and Captum's one mean over the whole tensor.
      const row0 = Array.from(gradients.data.subarray(0, 6));
      const z1 = times(x1, w, 6);
      const y1 = softmax(z1, 3);
      const exact = timesT(
        w,
        y1.map((yi, i) => {
          const g = i - (i % 3);
          return yi * (dy[i] - y1.slice(g, g + 3).reduce((s, yj, j) => s + yj * dy[g + j], 0));
        }),
        6,
      );
      const whole = hand(x1, r1, true);
      expect(Math.max(...row0.map((m, a) => Math.abs(m - exact[a])))).toBeGreaterThan(0.01);
      expect(Math.max(...row0.map((m, a) => Math.abs(m - whole[a])))).toBeGreaterThan(0.01);
      // Graphs stored before Softmax had this rule (same name, no revision) are not read back.
      expect(keys.map((k) => JSON.parse(k)).filter((k) => k.rules)).toEqual([
        { v: AUTODIFF_VERSION, input: 'x', size: [1, 1], layers: '', rules: 'deeplift', revision: 1 },
      ]);
    } finally {
      await model.dispose();
    }
  });

  it('takes the mean over every axis a softmax before opset 13 normalises (axis 1 on, coerced to 2-D)', async () => {
    // The same network at opset 11, Softmax without an axis: one softmax over all six of [2, 3].
    const old = graph({
      input: [6],
      opset: 11,
      nodes: proto.graph!.node!.map((n) => (n.opType === 'Softmax' ? { ...n, attribute: [] } : n)),
      initializers: proto.graph!.initializer!,
    });
    const model = await OnnxModel.create(encodeModel(old), analyticSpec(1));
    try {
      const x = Array.from(randomTensor(6, 36, -2, 2));
      const r = Array.from(randomTensor(6, 37, -2, 2));
      const c = [0.3, 1];
      const batch = { data: Float32Array.from([...x, ...r]), dims: [2, 6] };
      const seed = { data: Float32Array.from([...c, ...c]), dims: [2, 2] };
      const { gradients } = await model.inputGradients!(batch, seed, { rules: 'deeplift' });
      const dy = timesT(v, c, 6);
      const expected = timesT(w, softmaxMultipliers(times(x, w, 6), times(r, w, 6), dy, 6), 6);
      for (let a = 0; a < 6; a++) expect(gradients.data[a], `x${a}`).toBeCloseTo(expected[a], 5);
    } finally {
      await model.dispose();
    }
  });

  /**
   * scores = softmax(flatten(x) W + b) over 4 classes, reference black (0). Both rules' gaps are computed
   * by hand: Captum's rule leaves −mean(m̃)·Σ Δz (m̃ = Δy_k / Δz_k at class k, 0 elsewhere), the exact
   * gradient ∇y_k(x)·Δz − Δy_k.
   */
  async function gaps(wData: Float32Array, b: Float32Array, x: Float32Array, target: number) {
    const model = await OnnxModel.create(
      encodeModel(
        graph({
          input: [3, 1, 1],
          opset: 13,
          nodes: [
            node('Flatten', ['x'], [], ['f']),
            node('MatMul', ['f', 'w'], [], ['m']),
            node('Add', ['m', 'b'], [], ['z']),
            node('Softmax', ['z'], [attr('axis', -1)], ['scores']),
          ],
          initializers: [floatTensor('w', [3, 4], wData), floatTensor('b', [4], b)],
        }),
      ),
      analyticSpec(1),
    );
    try {
      const method = getMethod('deeplift');
      const map = await method.attribute(
        { model, input: { data: x, dims: [1, 3, 1, 1] }, target, classes: 4 },
        resolveOptions(method, { baselineType: 'black' }),
      );
      const xs = Array.from(x);
      const z = times(xs, wData, 4).map((zi, j) => zi + b[j]);
      const z0 = Array.from(b);
      const y = softmax(z, 4);
      const dy = y[target] - softmax(z0, 4)[target];
      const dz = z.map((zi, j) => zi - z0[j]);
      const sumDz = dz.reduce((s, d) => s + d, 0);
      const captum = (-(dy / dz[target]) / 4) * sumDz;
      const exact = y.reduce((s, yj, j) => s + y[target] * ((j === target ? 1 : 0) - yj) * dz[j], 0) - dy;
      return { details: map.details!, captum, exact, dy };
    } finally {
      await model.dispose();
    }
  }

  it('leaves the summation-to-delta gap −mean(m̃)·ΣΔz at an output softmax, unlike the gradient’s', async () => {
    const x = Float32Array.of(0.9, -0.4, 1.3);
    const wData = randomTensor(12, 41, -1.5, 1.5);
    const b = randomTensor(4, 42, -0.5, 0.5);
    for (const target of [0, 1, 2, 3]) {
      const { details, captum, exact, dy } = await gaps(wData, b, x, target);
      expect(details.scoreAtInput - details.scoreAtBaseline).toBeCloseTo(dy, 6);
      expect(details.completenessDelta, `target ${target}`).toBeCloseTo(captum, 5);
      // Neither rule sums to the score change here; the gaps differ.
      expect(Math.abs(captum - exact), `target ${target}`).toBeGreaterThan(1e-3);
    }
  });

  it('sums to the score change where the logits’ differences sum to 0, where the gradient does not', async () => {
    // Each row of W sums to 0, so Σ Δz = 0 for every input and reference.
    const raw = randomTensor(12, 43, -1.5, 1.5);
    const wData = raw.map((value, i) => {
      const row = raw.subarray(i - (i % 4), i - (i % 4) + 4);
      return value - row.reduce((a, bb) => a + bb, 0) / 4;
    });
    const x = Float32Array.of(1.1, -0.7, 0.5);
    for (const target of [0, 2]) {
      const { details, exact, dy } = await gaps(wData, new Float32Array(4), x, target);
      expect(Math.abs(dy), `target ${target}`).toBeGreaterThan(0.05);
      expect(details.relativeDelta, `target ${target}`).toBeLessThan(1e-5);
      expect(Math.abs(exact) / Math.abs(dy), `target ${target}`).toBeGreaterThan(1e-2);
    }
  });

  it('equals PyTorch backward hooks set as Captum’s DeepLift on a ReLU/Tanh CNN ending in Softmax', async () => {
    const dir = new URL('../fixtures/deeplift/', import.meta.url);
    const fixture = JSON.parse(readFileSync(new URL('softmax.json', dir), 'utf8')) as {
      dims: number[];
      input: number[];
      references: Record<string, number[]>;
      cases: { reference: string; target: number; multipliers: number[]; attributionSum: number }[];
    };
    const bytes = new Uint8Array(readFileSync(new URL('softmax.onnx', dir)));
    const model = await OnnxModel.create(bytes, { ...analyticSpec(8), inputName: 'input' });
    try {
      const size = fixture.input.length;
      for (const c of fixture.cases) {
        const reference = fixture.references[c.reference];
        const batch = {
          data: Float32Array.from([...fixture.input, ...reference]),
          dims: [2, ...fixture.dims.slice(1)],
        };
        const seed = new Float32Array(10);
        seed[c.target] = 1;
        seed[5 + c.target] = 1;
        const { gradients } = await model.inputGradients!(
          batch,
          { data: seed, dims: [2, 5] },
          { rules: 'deeplift' },
        );
        const ours = gradients.data.subarray(0, size);
        // float32 through four layers and the Rescale divisions against float64 (measured: at most 1.1e-5 of
        // the largest multiplier; 0.16 with Softmax's exact gradient instead of the rule).
        const scale = Math.max(...c.multipliers.map(Math.abs));
        let worst = 0;
        let sum = 0;
        for (let i = 0; i < size; i++) {
          worst = Math.max(worst, Math.abs(ours[i] - c.multipliers[i]));
          sum += (fixture.input[i] - reference[i]) * ours[i];
        }
        expect(worst / scale, `${c.reference} ${c.target}`).toBeLessThan(1e-4);
        expect(sum).toBeCloseTo(c.attributionSum, 5);
      }
    } finally {
      await model.dispose();
    }
  });
});
