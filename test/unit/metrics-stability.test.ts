import { describe, expect, it } from 'vitest';
import { getMethod } from '../../src/methods/registry.js';
import { maxSensitivity, seedStability } from '../../src/metrics/stability.js';
import { patchModel } from '../helpers/analytic.js';

const PATCH = { x0: 2, y0: 3, x1: 6, y1: 7 };

async function setup() {
  const model = await patchModel(12, PATCH);
  const data = new Float32Array(3 * 12 * 12);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 101) / 101;
  return { model, input: { model, input: { data, dims: [1, 3, 12, 12] }, target: 0, classes: 2 } };
}

describe('seedStability', () => {
  it('is exactly 1 for a repeated seed and below 1 (but positive: both find the patch) for different seeds', async () => {
    const { model, input } = await setup();
    try {
      const rise = getMethod('rise');
      const same = await seedStability(rise, input, { masks: 200 }, [5, 5]);
      expect(same.pairs).toEqual([1]);
      const different = await seedStability(rise, input, { masks: 200 }, [0, 1, 2]);
      expect(different.pairs).toHaveLength(3);
      for (const rho of different.pairs) {
        expect(rho).toBeLessThan(1);
        expect(rho).toBeGreaterThan(0.3);
      }
      expect(different.mean).toBeCloseTo(different.pairs.reduce((a, b) => a + b, 0) / 3, 12);
    } finally {
      await model.dispose();
    }
  });

  it('refuses a deterministic method and a single seed', async () => {
    const { model, input } = await setup();
    try {
      await expect(seedStability(getMethod('gradient'), input)).rejects.toThrow(
        /^Argument 'method' must be a method that draws random numbers \(it takes a seed\); got .*gradient/,
      );
      await expect(seedStability(getMethod('rise'), input, {}, [1])).rejects.toThrow(/at least two seeds/);
    } finally {
      await model.dispose();
    }
  });
});

describe('maxSensitivity', () => {
  it('is 0 for the vanilla gradient of a linear model (its gradient ignores the input)', async () => {
    const { model, input } = await setup();
    try {
      const s = await maxSensitivity(getMethod('gradient'), input, {}, { radius: 0.05, samples: 3 });
      expect(s.maxSensitivity).toBe(0);
      expect(s.minSpearman).toBe(1);
    } finally {
      await model.dispose();
    }
  });

  it('for gradient × input, stays within the bound r·‖g‖/‖g ⊙ x‖ that uniform noise of radius r allows', async () => {
    const { model, input } = await setup();
    try {
      const radius = 0.01;
      const s = await maxSensitivity(
        getMethod('gradient-x-input'),
        input,
        {},
        { radius, samples: 4, seed: 3 },
      );
      expect(s.maxSensitivity).toBeGreaterThan(0);
      // Per pixel the map is Σ_c g·x_c with g = 1/48 on the 4 × 4 patch (3 channels), so the change is Σ_c g·δ_c,
      // at most 3·g·r per patch pixel; the norm of the map is g·‖Σ_c x_c‖ over the patch.
      let mapNorm = 0;
      for (let y = PATCH.y0; y < PATCH.y1; y++)
        for (let x = PATCH.x0; x < PATCH.x1; x++) {
          let sum = 0;
          for (let c = 0; c < 3; c++) sum += input.input.data[c * 144 + y * 12 + x];
          mapNorm += sum * sum;
        }
      const bound = (3 * radius * Math.sqrt(16)) / Math.sqrt(mapNorm);
      expect(s.maxSensitivity).toBeLessThanOrEqual(bound + 1e-6);
    } finally {
      await model.dispose();
    }
  });
});
