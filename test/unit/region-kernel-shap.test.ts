import { describe, expect, it } from 'vitest';
import type { MethodInput } from '../../src/core/method.js';
import type { Progress } from '../../src/core/progress.js';
import { createRng } from '../../src/core/random.js';
import {
  coalitionBudget,
  type KernelShapOptions,
  kernelShap,
  shapleyCoalitions,
} from '../../src/methods/region/kernel-shap.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { BLOCK, blockImage, blockModel, onStates } from '../helpers/blocks.js';
import { expectInvalid } from '../helpers/errors.js';

const M = 9;
const BASE: KernelShapOptions = { ...kernelShap.defaults, segments: M };

/** A game with interactions: pairs, a max, a triple. */
function game(z: readonly number[]): number {
  return (
    0.1 +
    0.3 * z[0] * z[1] +
    0.2 * Math.max(z[2], z[3], z[4]) +
    0.15 * z[5] -
    0.1 * z[6] * z[7] * z[8] +
    0.05 * z[0] * z[8]
  );
}

/** Shapley values by the subset formula: φ_i = Σ_{S ⊆ N∖i} |S|! (M − |S| − 1)! / M! · (v(S ∪ i) − v(S)). */
function exactShapley(v: (z: number[]) => number, m: number): number[] {
  const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
  const phi = new Array<number>(m).fill(0);
  for (let i = 0; i < m; i++) {
    for (let mask = 0; mask < 1 << m; mask++) {
      if (mask & (1 << i)) continue;
      const z = Array.from({ length: m }, (_, j) => (mask >> j) & 1);
      const size = z.reduce((a, b) => a + b, 0);
      const with_ = [...z];
      with_[i] = 1;
      phi[i] += ((factorial(size) * factorial(m - size - 1)) / factorial(m)) * (v(with_) - v(z));
    }
  }
  return phi;
}

function blockValues(data: Float32Array): number[] {
  return Array.from(
    { length: M },
    (_, i) => data[(Math.floor(i / 3) * BLOCK + 8) * 3 * BLOCK + (i % 3) * BLOCK + 8],
  );
}

function input(model: ReturnType<typeof blockModel>, layout: 'NCHW' | 'NHWC' = 'NCHW'): MethodInput {
  return { model, input: blockImage(layout), target: 0, classes: 1 };
}

const gameModel = (layout: 'NCHW' | 'NHWC' = 'NCHW') => blockModel((means) => game(onStates(means)), layout);

describe('KernelSHAP', () => {
  it('equals the exact Shapley values when every coalition is evaluated', async () => {
    const model = gameModel();
    const map = await kernelShap.attribute(input(model), BASE);
    const expected = exactShapley(game, M);
    const values = blockValues(map.data);
    for (let i = 0; i < M; i++) expect(Math.abs(values[i] - expected[i]), `φ_${i}`).toBeLessThan(1e-6);
    expect(map.details).toMatchObject({ segments: M, coalitions: 2 ** M - 2, exact: 1 });
    expect(map.details?.scoreAtInput).toBeCloseTo(game(new Array(M).fill(1)), 6);
    expect(map.details?.scoreAtBaseline).toBeCloseTo(game(new Array(M).fill(0)), 6);
    expect(map.signed).toBe(true);
  });

  it('keeps efficiency exactly when it samples coalitions of a non-linear model', async () => {
    const map = await kernelShap.attribute(input(gameModel()), { ...BASE, samples: 60, seed: 4 });
    expect(map.details).toMatchObject({ coalitions: 60, exact: 0 });
    // Σ φ over superpixels, read from the map, against the game's own f(x) − f(∅).
    const sum = blockValues(map.data).reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - (game(new Array(M).fill(1)) - game(new Array(M).fill(0))))).toBeLessThan(1e-3);
    expect(Math.abs(map.details?.efficiencyGap ?? 1)).toBeLessThan(1e-9);
  });

  it.each(['NCHW', 'NHWC'] as const)(
    'gives an additive model its own contributions from samples (%s)',
    async (layout) => {
      const w = [0.3, -0.2, 0.05, 0, 0.5, -0.1, 0.25, 0.15, -0.4];
      const model = blockModel(
        (means) => 0.2 + onStates(means).reduce((s, z, i) => s + w[i] * z, 0),
        layout,
        7,
      );
      const map = await kernelShap.attribute(input(model, layout), { ...BASE, samples: 80, seed: 1 });
      const values = blockValues(map.data);
      for (let i = 0; i < M; i++) expect(Math.abs(values[i] - w[i]), `φ_${i}`).toBeLessThan(1e-5);
      expect(model.calls).toBe(Math.ceil(82 / 7));
    },
  );

  it('weights complete coalitions by the Shapley kernel, and samples distinct paired ones', () => {
    // Even M: sizes 1–3 pair with 5–7, size 4 is its own complement.
    const m = 8;
    const binomial = (n: number, k: number): number => (k === 0 ? 1 : (binomial(n, k - 1) * (n - k + 1)) / k);
    const kernel = (s: number) => (m - 1) / (binomial(m, s) * s * (m - s));
    const all = shapleyCoalitions(m, 2 ** m - 2, createRng(0));
    expect(all.weights.length).toBe(2 ** m - 2);
    const ratio = new Set<string>();
    for (let k = 0; k < all.weights.length; k++) {
      const s = all.states.subarray(k * m, (k + 1) * m).reduce((a, b) => a + b, 0);
      ratio.add((all.weights[k] / kernel(s)).toPrecision(10));
    }
    expect(ratio.size).toBe(1);

    const some = shapleyCoalitions(m, 40, createRng(3));
    const n = some.weights.length;
    expect(n).toBe(40);
    const keys = new Set<string>();
    for (let k = 0; k < n; k++) {
      const state = some.states.subarray(k * m, (k + 1) * m);
      const s = state.reduce((a, b) => a + b, 0);
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(m);
      keys.add(state.join(''));
    }
    expect(keys.size).toBe(n);
    // Sizes 1 and 7 (16 coalitions) fit the budget completely; the rest is drawn with complements beside.
    for (let i = 0; i < m; i++) {
      const single = Array.from({ length: m }, (_, j) => (j === i ? 1 : 0)).join('');
      expect(keys.has(single)).toBe(true);
      expect(keys.has(single.replace(/[01]/g, (c) => (c === '1' ? '0' : '1')))).toBe(true);
    }
    expect(some.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(coalitionBudget(0, 50)).toBe(2148);
    expect(coalitionBudget(0, 9)).toBe(510);
    expect(coalitionBudget(5000, 12)).toBe(4094);
  });

  it('gives the same map for the same seed and another for another seed', async () => {
    const options = { ...BASE, samples: 50 };
    const a = await kernelShap.attribute(input(gameModel()), { ...options, seed: 1 });
    const b = await kernelShap.attribute(input(gameModel()), { ...options, seed: 1 });
    const c = await kernelShap.attribute(input(gameModel()), { ...options, seed: 2 });
    expect(b.data).toEqual(a.data);
    expect(c.data).not.toEqual(a.data);
  });

  it('reports progress up to its passes and stops when aborted', async () => {
    const seen: Progress[] = [];
    const options = { ...BASE, samples: 100 };
    await kernelShap.attribute({ ...input(gameModel()), onProgress: (p) => seen.push(p) }, options);
    const passes = kernelShap.passes(options, { width: 48, height: 48 });
    expect(passes).toBe(102);
    expect(seen.at(-1)).toEqual({ done: passes, total: passes, unit: 'model passes' });
    const controller = new AbortController();
    const run = kernelShap.attribute(
      {
        ...input(gameModel()),
        signal: controller.signal,
        onProgress: (p) => p.done > 0 && controller.abort(),
      },
      options,
    );
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('is registered, and bad options get the registry’s messages', () => {
    expect(getMethod('kernel-shap')).toBe(kernelShap);
    expectInvalid(
      () => resolveOptions(kernelShap, { samples: -1 }),
      "Argument 'kernel-shap.samples' must be at least 0; got -1.",
    );
    expectInvalid(
      () => resolveOptions(kernelShap, { kernelWidth: 1 }),
      'Argument \'kernel-shap.kernelWidth\' must be one of the options segments, compactness, fill, baseline, samples, seed; got "kernelWidth".',
    );
    expectInvalid(
      () => resolveOptions(kernelShap, { compactness: 0 }),
      "Argument 'kernel-shap.compactness' must be at least 0.01; got 0.",
    );
  });
});
