import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { LayerResult, Model, ModelSpec } from '../../src/core/model.js';
import type { Progress } from '../../src/core/progress.js';
import type { Tensor } from '../../src/core/tensor.js';
import { scoreCam } from '../../src/methods/cam/score-cam.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { analyticSpec } from '../helpers/analytic.js';

/**
 * A model with one spatial layer of fixed activations (C planes of side × side) and a linear score on the
 * input: S(x) = Σ u ⊙ x. Class 0 is S (a logit) or σ(S) (a probability); class 1 the opposite.
 */
function layerModel(
  activations: number[][],
  layerSide: number,
  inputSide: number,
  u: Float32Array,
  options: { maxBatch?: number; outputs?: ModelSpec['outputs'] } = {},
) {
  const c = activations.length;
  const per = 3 * inputSide * inputSide;
  const model: Model & { batches: number[] } = {
    batches: [],
    spec: { ...analyticSpec(inputSide), outputs: options.outputs ?? 'logits' },
    capabilities: new Set(['predict', 'layers']),
    maxBatch: options.maxBatch ?? 16,
    async predict(batch: Tensor) {
      const n = batch.dims[0];
      model.batches.push(n);
      const out = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) {
        const s = linear(u, batch.data.subarray(i * per, (i + 1) * per));
        const p = 1 / (1 + Math.exp(-s));
        out.set(model.spec.outputs === 'logits' ? [s, -s] : [p, 1 - p], 2 * i);
      }
      return { data: out, dims: [n, 2] };
    },
    async layers() {
      return { layers: [{ name: 'features', dims: [1, c, layerSide, layerSide] }], defaultLayer: 'features' };
    },
    async layer(): Promise<LayerResult> {
      return {
        scores: { data: new Float32Array(2), dims: [1, 2] },
        activations: { data: Float32Array.from(activations.flat()), dims: [1, c, layerSide, layerSide] },
      };
    },
    async dispose() {},
  };
  return model;
}

const linear = (u: Float32Array, x: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * x[i];
  return s;
};

/** The one-image input [1, 3, side, side] with values from `f(index)`. */
function image(side: number, f: (i: number) => number): Tensor {
  return { data: Float32Array.from({ length: 3 * side * side }, (_, i) => f(i)), dims: [1, 3, side, side] };
}

/** Bilinear enlargement with pixel centres aligned (align_corners = false) and edges clamped. */
function enlarge(src: number[], s: number, d: number): number[] {
  const tap = (i: number) => {
    const c = Math.min(s - 1, Math.max(0, ((i + 0.5) * s) / d - 0.5));
    const i0 = Math.floor(c);
    return { i0, i1: Math.min(s - 1, i0 + 1), f: c - i0 };
  };
  const out: number[] = [];
  for (let y = 0; y < d; y++) {
    const ty = tap(y);
    for (let x = 0; x < d; x++) {
      const tx = tap(x);
      const row = (yy: number) => src[yy * s + tx.i0] * (1 - tx.f) + src[yy * s + tx.i1] * tx.f;
      out.push(row(ty.i0) * (1 - ty.f) + row(ty.i1) * ty.f);
    }
  }
  return out;
}

const minMax = (a: number[]) => {
  const lo = Math.min(...a);
  const hi = Math.max(...a);
  return a.map((v) => (v - lo) / (hi - lo));
};

/** S on the input shown through a mask (shared by the three channels), baseline 0. */
const maskedScore = (u: Float32Array, x: Tensor, mask: number[]) =>
  linear(
    u,
    Array.from(x.data, (v, i) => v * mask[i % mask.length]),
  );

const softmax = (s: number[]) => {
  const e = s.map((v) => Math.exp(v - Math.max(...s)));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
};

const run = (model: Model, input: Tensor, options = {}, extra = {}) =>
  scoreCam.attribute({ model, input, target: 0, classes: 2, ...extra }, resolveOptions(scoreCam, options));

// Three channels on a 2 × 2 grid; the third is constant, so it is no mask and is skipped.
const A = [
  [1, 0, 0, 3],
  [2, 2, 0, 4],
  [5, 5, 5, 5],
];

describe('Score-CAM (Wang et al. 2020)', () => {
  it('weights channels by the softmax of the target logit on the masked photos (hand-computed, same size)', async () => {
    const u = Float32Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) - 1.5);
    const x = image(2, (i) => 0.5 + 0.25 * i);
    const map = await run(layerModel(A, 2, 2, u), x);
    // Layer and input are both 2 × 2, so each mask is the channel itself, min–max scaled.
    const s = [maskedScore(u, x, minMax(A[0])), maskedScore(u, x, minMax(A[1]))];
    const w = softmax(s);
    const expected = [0, 1, 2, 3].map((i) => Math.max(0, w[0] * A[0][i] + w[1] * A[1][i]));
    expect(Array.from(map.data)).toEqual(expected.map((v) => expect.closeTo(v, 5)));
    expect(map.signed).toBe(false);
    expect(map.details).toEqual({ layerWidth: 2, layerHeight: 2, layerChannels: 3, channelsUsed: 2 });
    // The weights really differ: a test with equal weights would not tell the masks apart.
    expect(Math.abs(w[0] - w[1])).toBeGreaterThan(0.2);
  });

  it('upsamples each channel to the input before masking, and the map as the CAM family does', async () => {
    const u = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i) * 0.3);
    const x = image(4, (i) => (i % 7) - 2);
    const map = await run(layerModel(A, 2, 4, u), x);
    const s = [0, 1].map((k) => maskedScore(u, x, minMax(enlarge(A[k], 2, 4))));
    const w = softmax(s);
    const cam = [0, 1, 2, 3].map((i) => Math.max(0, w[0] * A[0][i] + w[1] * A[1][i]));
    expect(Array.from(map.data)).toEqual(enlarge(cam, 2, 4).map((v) => expect.closeTo(v, 5)));
    expect([map.width, map.height]).toEqual([4, 4]);
  });

  it('for a model that outputs probabilities, weights are the masked target probabilities, normalised', async () => {
    const u = Float32Array.from({ length: 12 }, (_, i) => (i % 3) - 0.7);
    const x = image(2, (i) => 1 - 0.2 * i);
    const map = await run(layerModel(A, 2, 2, u, { outputs: 'probabilities' }), x);
    const p = [0, 1].map((k) => 1 / (1 + Math.exp(-maskedScore(u, x, minMax(A[k])))));
    const w = p.map((v) => v / (p[0] + p[1]));
    const expected = [0, 1, 2, 3].map((i) => Math.max(0, w[0] * A[0][i] + w[1] * A[1][i]));
    expect(Array.from(map.data)).toEqual(expected.map((v) => expect.closeTo(v, 5)));
  });

  it('`channels` keeps the most active channels only; constant ones never count', async () => {
    const u = new Float32Array(12).fill(1);
    // Channel means: 1, 2 and 5 (constant): the cap of 1 keeps channel 1, whose weight is then 1.
    const map = await run(
      layerModel(A, 2, 2, u),
      image(2, () => 1),
      { channels: 1 },
    );
    expect(Array.from(map.data)).toEqual(A[1].map((v) => expect.closeTo(v, 6)));
    expect(map.details?.channelsUsed).toBe(1);
    expect(scoreCam.passes(resolveOptions(scoreCam, { channels: 10 }), { width: 2, height: 2 })).toBe(11);
    expect(scoreCam.passes(scoreCam.defaults, { width: 2, height: 2 })).toBe(2049);
  });

  it('batches the masked photos within maxBatch and reports progress with the layer read as the first pass', async () => {
    const acts = [0, 1, 2, 3, 4].map((k) => [k, 0, 1, 2 * k + 1]);
    const model = layerModel(acts, 2, 2, new Float32Array(12).fill(0.1), { maxBatch: 2 });
    const progress: Progress[] = [];
    await run(
      model,
      image(2, () => 1),
      {},
      { onProgress: (p: Progress) => progress.push(p) },
    );
    expect(model.batches).toEqual([2, 2, 1]);
    expect(progress.map((p) => [p.done, p.total])).toEqual([
      [1, 6],
      [3, 6],
      [5, 6],
      [6, 6],
    ]);
  });

  it('stops between batches when aborted', async () => {
    const acts = [0, 1, 2, 3, 4].map((k) => [k, 0, 1, 2 * k + 1]);
    const model = layerModel(acts, 2, 2, new Float32Array(12).fill(0.1), { maxBatch: 2 });
    const controller = new AbortController();
    const run1 = run(
      model,
      image(2, () => 1),
      {},
      {
        signal: controller.signal,
        onProgress: (p: Progress) => {
          if (p.done >= 3) controller.abort();
        },
      },
    );
    await expect(run1).rejects.toSatisfy((e) => e instanceof SightlineError && e.code === 'ABORTED');
    expect(model.batches).toEqual([2]);
  });

  it('names a model without layers', async () => {
    const model = { ...layerModel(A, 2, 2, new Float32Array(12)), layers: undefined, layer: undefined };
    await expect(
      run(
        model,
        image(2, () => 1),
      ),
    ).rejects.toThrow(/exposes no layers/);
  });
});
