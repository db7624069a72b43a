import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { MethodInput } from '../../src/core/method.js';
import type { Progress } from '../../src/core/progress.js';
import { type LimeOptions, lime, weightedRidge } from '../../src/methods/region/lime.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { BLOCK, blockImage, blockModel, COLOURS, onStates } from '../helpers/blocks.js';
import { expectInvalid } from '../helpers/errors.js';

const BASE: LimeOptions = { ...lime.defaults, segments: 9, samples: 400 };

/** Each block's value in the map (blocks are the superpixels, numbered as the map's segments). */
function blockValues(data: Float32Array): number[] {
  return Array.from(
    { length: 9 },
    (_, i) => data[(Math.floor(i / 3) * BLOCK + 8) * 3 * BLOCK + (i % 3) * BLOCK + 8],
  );
}

function input(model: ReturnType<typeof blockModel>, layout: 'NCHW' | 'NHWC' = 'NCHW'): MethodInput {
  return { model, input: blockImage(layout), target: 0, classes: 1 };
}

describe('LIME', () => {
  it('finds the one superpixel the score depends on', async () => {
    // The score is the centre block's mean pixel / 255: its colour when shown, 0 when hidden.
    const model = blockModel((means) => means[4] / 255);
    const map = await lime.attribute(input(model), BASE);
    const values = blockValues(map.data);
    const shown = (COLOURS[4][0] + COLOURS[4][1] + COLOURS[4][2]) / 3 / 255;
    // Ridge shrinks the coefficient a little (α = 1 against a weighted design of ~100).
    expect(values[4]).toBeGreaterThan(0.9 * shown);
    expect(values[4]).toBeLessThan(shown);
    for (const [i, v] of values.entries()) if (i !== 4) expect(Math.abs(v)).toBeLessThan(0.03 * shown);
    expect(map.signed).toBe(true);
    expect(map.details?.segments).toBe(9);
    expect(map.details?.scoreAtInput).toBeCloseTo(shown, 6);
    expect(map.details?.r2).toBeGreaterThan(0.99);
  });

  it.each(['NCHW', 'NHWC'] as const)(
    'recovers the weights of a model linear in the superpixels (%s)',
    async (layout) => {
      const w = [0.3, -0.2, 0.05, 0, 0.5, -0.1, 0.25, 0.15, -0.4];
      const model = blockModel(
        (means) => 0.1 + onStates(means).reduce((s, z, i) => s + w[i] * z, 0),
        layout,
        7,
      );
      const map = await lime.attribute(input(model, layout), { ...BASE, ridge: 0 });
      // Without a penalty the weighted fit of an exactly linear function is exact.
      const values = blockValues(map.data);
      for (let i = 0; i < 9; i++) expect(values[i]).toBeCloseTo(w[i], 5);
      expect(map.details?.intercept).toBeCloseTo(0.1, 5);
      expect(map.details?.r2).toBeCloseTo(1, 6);
      expect(model.calls).toBe(Math.ceil(400 / 7));
    },
  );

  it('solves the weighted ridge regression as derived by hand', () => {
    // One feature, points (z = 0, y = 2, π = 1) and (z = 1, y = 3, π = 1), α = 1: setting the gradient to zero
    // gives w = π0·π1·(y1 − y0) / (π0·π1 + α(π0 + π1)) = 1/3 and b = y0 + α·w / π0 = 7/3.
    const fit = weightedRidge(Uint8Array.of(0, 1), [2, 3], [1, 1], 2, 1, 1);
    expect(fit.coefficients[0]).toBeCloseTo(1 / 3, 12);
    expect(fit.intercept).toBeCloseTo(7 / 3, 12);
    // Residuals 1/3 and 1/3 against a spread of ±1/2 about the weighted mean: R² = 1 − (2/9) / (1/2).
    expect(fit.r2).toBeCloseTo(5 / 9, 12);
    // Weights count: tripling π1 moves the intercept less and the slope more (w = 3/7, b = 2 + 3/7).
    const weighted = weightedRidge(Uint8Array.of(0, 1), [2, 3], [1, 3], 2, 1, 1);
    expect(weighted.coefficients[0]).toBeCloseTo(3 / 7, 12);
    expect(weighted.intercept).toBeCloseTo(2 + 3 / 7, 12);
  });

  it('gives every superpixel 0 when hiding changes nothing (mean fill on flat blocks)', async () => {
    const model = blockModel((means) => means[0] / 255 + means[4] / 255);
    const map = await lime.attribute(input(model), { ...BASE, fill: 'mean', samples: 50 });
    for (const v of map.data) expect(Math.abs(v)).toBeLessThan(1e-6);
  });

  it('gives the same map for the same seed and another for another seed', async () => {
    const score = (means: Float64Array) => (means[0] * means[1]) / 255 ** 2 + means[8] / 255;
    const a = await lime.attribute(input(blockModel(score)), { ...BASE, samples: 60, seed: 1 });
    const b = await lime.attribute(input(blockModel(score)), { ...BASE, samples: 60, seed: 1 });
    const c = await lime.attribute(input(blockModel(score)), { ...BASE, samples: 60, seed: 2 });
    expect(b.data).toEqual(a.data);
    expect(c.data).not.toEqual(a.data);
  });

  it('reports progress up to its passes and stops when aborted', async () => {
    const seen: Progress[] = [];
    const model = blockModel((means) => means[4] / 255, 'NCHW', 16);
    await lime.attribute({ ...input(model), onProgress: (p) => seen.push(p) }, { ...BASE, samples: 40 });
    expect(seen.at(-1)).toEqual({
      done: 40,
      total: lime.passes({ ...BASE, samples: 40 }, { width: 48, height: 48 }),
      unit: 'model passes',
    });
    const controller = new AbortController();
    const run = lime.attribute(
      {
        ...input(blockModel((means) => means[4] / 255)),
        signal: controller.signal,
        onProgress: (p) => p.done >= 16 && controller.abort(),
      },
      { ...BASE, samples: 200 },
    );
    await expect(run).rejects.toBeInstanceOf(SightlineError);
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('is registered, and bad options get the registry’s messages', () => {
    expect(getMethod('lime')).toBe(lime);
    expectInvalid(
      () => resolveOptions(lime, { samples: 0 }),
      "Argument 'lime.samples' must be at least 1; got 0.",
    );
    expectInvalid(
      () => resolveOptions(lime, { kernelWidth: 0 }),
      "Argument 'lime.kernelWidth' must be at least 0.001; got 0.",
    );
    expectInvalid(
      () => resolveOptions(lime, { fill: 'paint' }),
      'Argument \'lime.fill\' must be one of baseline, blur, mean; got "paint".',
    );
    expectInvalid(
      () => resolveOptions(lime, { segments: 2.5 }),
      "Argument 'lime.segments' must be a whole number; got 2.5.",
    );
  });
});
