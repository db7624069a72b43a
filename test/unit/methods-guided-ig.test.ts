import { describe, expect, it } from 'vitest';
import { guidedIg, lowerQuantile } from '../../src/methods/gradient/guided-ig.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { functionModel } from '../helpers/function-model.js';

// functionModel's spec maps pixel p to the value p, so the black baseline is 0.
const run = (model: ReturnType<typeof functionModel>, input: Float32Array, given: Record<string, number>) =>
  guidedIg.attribute(
    {
      model,
      input: { data: input, dims: [1, 3, model.spec.height, model.spec.width] },
      target: 0,
      classes: 1,
    },
    resolveOptions(guidedIg, given),
  );

describe('Guided IG (PAIR’s guided_ig_impl)', () => {
  it('on S = x₀·x₁ moves the feature with the smaller gradient first, so the last one moved takes the product', async () => {
    // Two pixels of channel 0, x = (3, 1), the other four values 0 (= baseline, never moved). 5 steps, each
    // closing 0.8 of L1 distance, fraction 0.1 (the smallest |g| of six, four of them infinite at x_max):
    // step 1: both gradients 0, both move a fifth: (0.6, 0.2), attribution 0;
    // steps 2–4: ∂S/∂x₀ = x₁ = 0.2 is the smaller, x₀ goes 0.6 → 3 in three moves of 0.8: A₀ = 2.4 · 0.2;
    // step 5: x₁ goes 0.2 → 1 with ∂S/∂x₁ = x₀ = 3: A₁ = 0.8 · 3. (IG would split 3 as 1.5 + 1.5.)
    const model = functionModel(
      { f: (x) => x[0] * x[1], grad: (x) => Float32Array.of(x[1], x[0], 0, 0, 0, 0) },
      [1, 3, 1, 2],
    );
    const map = await run(model, Float32Array.of(3, 1, 0, 0, 0, 0), { steps: 5, fraction: 0.1, maxDist: 1 });
    expect(Array.from(map.data)).toEqual([expect.closeTo(0.48, 6), expect.closeTo(2.4, 6)]);
    expect(map.details).toMatchObject({
      scoreAtInput: 3,
      scoreAtBaseline: 0,
      completenessDelta: expect.closeTo(2.88 - 3, 6),
    });
  });

  it('is exact on a linear model whatever the path: A = w ⊙ (x − x′), completeness delta 0', async () => {
    const n = 3 * 4 * 4;
    const w = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const x = Float32Array.from({ length: n }, (_, i) => ((i * 37) % 11) - 3);
    const model = functionModel(
      { f: (v) => v.reduce((s, vi, i) => s + w[i] * vi, 0), grad: () => Float32Array.from(w) },
      [1, 3, 4, 4],
    );
    const map = await run(model, x, { steps: 20 });
    const expected = Array.from({ length: 16 }, (_, p) =>
      [0, 1, 2].reduce((s, c) => s + w[c * 16 + p] * x[c * 16 + p], 0),
    );
    expect(Array.from(map.data)).toEqual(expected.map((v) => expect.closeTo(v, 4)));
    expect(Math.abs(map.details!.completenessDelta)).toBeLessThan(1e-4);
    // One gradient pass per step, then one prediction at the input.
    expect(model.calls).toBe(21);
  });

  it('gives zeros when the input is its baseline (no path to walk)', async () => {
    const model = functionModel(
      { f: (x) => x[0] * x[1], grad: (x) => Float32Array.of(x[1], x[0], 0, 0, 0, 0) },
      [1, 3, 1, 2],
    );
    const map = await run(model, new Float32Array(6), { steps: 4 });
    expect(Array.from(map.data)).toEqual([0, 0]);
  });

  it('takes numpy’s lower quantile', () => {
    const values = Float64Array.of(5, 1, Number.POSITIVE_INFINITY, 3, 2, 4);
    expect([0, 0.1, 0.25, 0.5, 0.99, 1].map((q) => lowerQuantile(values, q))).toEqual([
      1,
      1,
      2,
      3,
      5,
      Infinity,
    ]);
  });
});
