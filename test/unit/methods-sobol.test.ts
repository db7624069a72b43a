import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { sobol } from '../../src/methods/perturbation/sobol.js';
import { sobolPoints } from '../../src/methods/perturbation/sobol-sequence.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { functionModel } from '../helpers/function-model.js';

// scipy.stats.qmc.Sobol(288, scramble=False).random(256), each value k / 256 stored as the byte k
// (scripts/golden/sobol_directions.py).
const SCIPY = readFileSync(new URL('../fixtures/sobol/scipy-256x288.u8', import.meta.url));
const scipyPoint = (j: number, dim: number) => SCIPY[j * 288 + dim] / 256;

// A 3 × 3 input of ones with a 3 × 3 grid: each pixel is one cell, so channel 0 of pixel i is the mask value M_i
// and the map (3 × 3, no enlargement) is the grid of indices itself.
const ones = { data: new Float32Array(27).fill(1), dims: [1, 3, 3, 3] };

async function run(score: (m: Float32Array) => number, given: Record<string, number>) {
  const model = functionModel({ f: score, grad: () => new Float32Array(27) }, [1, 3, 3, 3], 64);
  // A 'score' model's raw output is explained (one softmaxed logit would be 1 whatever the mask).
  const scorer = { ...model, spec: { ...model.spec, task: 'score' as const } };
  const map = await sobol.attribute(
    { model: scorer, input: ones, target: 0, classes: 1 },
    resolveOptions(sobol, given),
  );
  return { map, model };
}

describe('Sobol attribution (Fel et al. 2021, xplique’s estimator)', () => {
  it('draws the same quasi-random points as scipy’s unscrambled Sobol sequence (288 dimensions, 256 points)', () => {
    const ours = sobolPoints(256, 288);
    let mismatches = 0;
    for (let i = 0; i < SCIPY.length; i++) if (ours[i] * 256 !== SCIPY[i]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('on an additive model each cell’s total index is Jansen’s sum by hand: w_i² Σ_j (A_ji − B_ji)² / (2N Var)', async () => {
    const w = [3, 0, -2, 0, 0, 0, 1, 0, 0];
    const n = 32;
    const { map, model } = await run((m) => w.reduce((s, wi, i) => s + wi * m[i], 0), {
      gridSize: 3,
      designs: n,
    });
    // A_j: the first 9 coordinates of point j, B_j the next 9.
    const fA = Array.from({ length: n }, (_, j) => w.reduce((s, wi, i) => s + wi * scipyPoint(j, i), 0));
    const mean = fA.reduce((a, b) => a + b, 0) / n;
    const variance = fA.reduce((s, f) => s + (f - mean) ** 2, 0) / (n - 1);
    const st = w.map(
      (wi, i) =>
        (wi *
          wi *
          Array.from({ length: n }, (_, j) => (scipyPoint(j, i) - scipyPoint(j, 9 + i)) ** 2).reduce(
            (a, b) => a + b,
            0,
          )) /
        (2 * n * variance),
    );
    expect(Array.from(map.data)).toEqual(st.map((v) => expect.closeTo(v, 5)));
    expect(st[1]).toBe(0);
    expect(map.details).toMatchObject({ variance: expect.closeTo(variance, 5), gridSize: 3, designs: n });
    // N · (grid² + 2) = 352 passes in batches of 64.
    expect(model.batches.reduce((a, b) => a + b, 0)).toBe(352);
  });

  it('on M₀ · M₈ finds each factor’s total index 4/7 (E[M²] Var M / Var(M₀M₈) = (1/36) / (7/144))', async () => {
    const { map } = await run((m) => m[0] * m[8], { gridSize: 3, designs: 1024 });
    const st = Array.from(map.data);
    expect(Math.abs(st[0] - 4 / 7)).toBeLessThan(0.03);
    expect(Math.abs(st[8] - 4 / 7)).toBeLessThan(0.03);
    expect(st.filter((_, i) => i !== 0 && i !== 8)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('gives zeros for a constant score, and says its variance is 0', async () => {
    const { map } = await run(() => 0.5, { gridSize: 3, designs: 8 });
    expect(map.details?.variance).toBe(0);
    expect(Array.from(map.data).every((v) => v === 0)).toBe(true);
  });

  it('refuses in words a grid finer than the input', async () => {
    const model = functionModel({ f: () => 0, grad: () => new Float32Array(12) }, [1, 3, 2, 2]);
    const error = await sobol
      .attribute(
        { model, input: { data: new Float32Array(12), dims: [1, 3, 2, 2] }, target: 0, classes: 1 },
        resolveOptions(sobol, { gridSize: 4 }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).message).toMatch(/4 × 4 grid is finer than the 2 × 2 input/);
  });
});
