import { describe, expect, it } from 'vitest';
import { gaussianBlur } from '../../src/core/blur.js';
import { blurIg } from '../../src/methods/gradient/blur-ig.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { functionModel } from '../helpers/function-model.js';

const side = 8;
const n = 3 * side * side;
const x = Float32Array.from({ length: n }, (_, i) => ((i * 37) % 17) - 8);
const w = Float32Array.from({ length: n }, (_, i) => Math.cos(i / 3));
const linear = () =>
  functionModel(
    { f: (v) => v.reduce((s, vi, i) => s + w[i] * vi, 0), grad: () => Float32Array.from(w) },
    [1, 3, side, side],
    16,
  );

const run = (model: ReturnType<typeof functionModel>, given: Record<string, number | string>) =>
  blurIg.attribute(
    { model, input: { data: x, dims: [1, 3, side, side] }, target: 0, classes: 1 },
    resolveOptions(blurIg, given),
  );

describe('Blur IG (PAIR’s BlurIG)', () => {
  it('on a linear model is w ⊙ (x − blur(x, maxSigma)): steps of σ equal to the difference step telescope', async () => {
    // σ_i = i · 2 / 200 = i · 0.01 and gradStep 0.01, so Σ_i (x(σ_i + 0.01) − x(σ_i)) = x(2) − x(0) exactly,
    // and the minus sign makes it x − x(2); the gradient w is the same everywhere.
    const model = linear();
    const map = await run(model, { maxSigma: 2, steps: 200 });
    const far = gaussianBlur(x, 3, side, side, 2);
    const expected = Array.from({ length: side * side }, (_, p) =>
      [0, 1, 2].reduce((s, c) => s + w[c * 64 + p] * (x[c * 64 + p] - far[c * 64 + p]), 0),
    );
    expect(Array.from(map.data)).toEqual(expected.map((v) => expect.closeTo(v, 3)));
    const change = x.reduce((s, xi, i) => s + w[i] * (xi - far[i]), 0);
    expect(map.details!.scoreAtInput - map.details!.scoreAtBaseline).toBeCloseTo(change, 3);
    expect(Math.abs(map.details!.completenessDelta)).toBeLessThan(1e-3);
    // 201 points (the last for the blurred score only) in batches of 16.
    expect(model.batches.reduce((a, b) => a + b, 0)).toBe(201);
  });

  it('with coarse sqrt-spaced steps reports its own completeness gap against S(blur(x, maxSigma))', async () => {
    const map = await run(linear(), { maxSigma: 3, steps: 30, spacing: 'sqrt' });
    const far = gaussianBlur(x, 3, side, side, 3);
    const f = (v: ArrayLike<number>) => Array.from(v).reduce((s, vi, i) => s + w[i] * vi, 0);
    const d = map.details!;
    expect(d.scoreAtInput).toBeCloseTo(f(x), 3);
    expect(d.scoreAtBaseline).toBeCloseTo(f(far), 3);
    const sum = Array.from(map.data).reduce((a, b) => a + b, 0);
    expect(d.completenessDelta).toBeCloseTo(sum - (f(x) - f(far)), 3);
    // Coarse steps leave a gap that 200 fine ones close (previous test).
    expect(d.relativeDelta).toBeGreaterThan(1e-3);
  });

  it('gives zeros for a flat image: blurring changes nothing', async () => {
    const model = linear();
    const flat = { data: new Float32Array(n).fill(4), dims: [1, 3, side, side] };
    const map = await blurIg.attribute(
      { model, input: flat, target: 0, classes: 1 },
      resolveOptions(blurIg, { steps: 10, maxSigma: 2 }),
    );
    expect(Array.from(map.data).every((v) => Math.abs(v) < 1e-4)).toBe(true);
  });
});
