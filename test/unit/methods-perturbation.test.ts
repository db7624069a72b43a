import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { occlusion } from '../../src/methods/perturbation/occlusion.js';
import { rise, riseMaskSet } from '../../src/methods/perturbation/rise.js';
import { checkCapabilities, getMethod, METHODS, resolveOptions } from '../../src/methods/registry.js';
import { countingModel, ones, type Patch, patchModel } from '../helpers/analytic.js';

const SIZE = 32;
const PATCH: Patch = { x0: 20, y0: 8, x1: 28, y1: 16 };
const PATCH_AREA = (PATCH.x1 - PATCH.x0) * (PATCH.y1 - PATCH.y0);

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

function argmax(data: Float32Array): number {
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i] > data[best]) best = i;
  return best;
}

function inPatch(index: number): boolean {
  const x = index % SIZE;
  const y = Math.floor(index / SIZE);
  return x >= PATCH.x0 && x < PATCH.x1 && y >= PATCH.y0 && y < PATCH.y1;
}

describe.each(['NCHW', 'NHWC'] as const)('perturbation methods on the patch model (%s)', (layout) => {
  let model: OnnxModel;
  beforeAll(async () => {
    model = await patchModel(SIZE, PATCH, layout, 7);
  });
  afterAll(() => model.dispose());

  it('occlusion equals the hand-derived mean score drop over covering windows', async () => {
    const options = { window: 8, stride: 4, baseline: 0 };
    const map = await occlusion.attribute(
      { model, input: ones(SIZE, layout), target: 0, classes: 2 },
      options,
    );
    // Independent derivation: with an all-ones input and baseline 0, occluding window w lowers the patch mean
    // by |w ∩ patch| / |patch|; a pixel's value is the mean of that over the windows covering it.
    const starts = [0, 4, 8, 12, 16, 20, 24];
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        let sum = 0;
        let n = 0;
        for (const wy of starts) {
          for (const wx of starts) {
            if (x < wx || x >= wx + 8 || y < wy || y >= wy + 8) continue;
            sum +=
              (overlap(wx, wx + 8, PATCH.x0, PATCH.x1) * overlap(wy, wy + 8, PATCH.y0, PATCH.y1)) /
              PATCH_AREA;
            n++;
          }
        }
        expect(map.data[y * SIZE + x]).toBeCloseTo(sum / n, 5);
      }
    }
    expect(inPatch(argmax(map.data))).toBe(true);
    expect(map.signed).toBe(true);
  });

  it('occlusion of the negated class is the negated map', async () => {
    const options = { window: 8, stride: 4, baseline: 0 };
    const a = await occlusion.attribute({ model, input: ones(SIZE, layout), target: 0, classes: 2 }, options);
    const b = await occlusion.attribute({ model, input: ones(SIZE, layout), target: 1, classes: 2 }, options);
    for (let i = 0; i < a.data.length; i++) expect(b.data[i]).toBeCloseTo(-a.data[i], 6);
  });

  it('RISE equals its definition over the same masks and peaks in the patch', async () => {
    const options = { masks: 300, gridSize: 4, keepProbability: 0.5, seed: 3, baseline: 0 };
    const counted = countingModel(model);
    const map = await rise.attribute(
      { model: counted, input: ones(SIZE, layout), target: 0, classes: 2 },
      options,
    );
    expect(counted.calls).toBe(Math.ceil(300 / 7));
    const masks = riseMaskSet(options, SIZE, SIZE).render(0, 300);
    const expected = new Float64Array(SIZE * SIZE);
    for (let i = 0; i < 300; i++) {
      const m = masks.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
      let score = 0;
      for (let y = PATCH.y0; y < PATCH.y1; y++)
        for (let x = PATCH.x0; x < PATCH.x1; x++) score += m[y * SIZE + x];
      score /= PATCH_AREA;
      for (let j = 0; j < m.length; j++) expected[j] += (score * m[j]) / (300 * 0.5);
    }
    for (let j = 0; j < expected.length; j++) expect(map.data[j]).toBeCloseTo(expected[j], 4);
    expect(inPatch(argmax(map.data))).toBe(true);
  });
});

describe('RISE masks', () => {
  it('keep each cell with the given probability and are reproducible by seed', () => {
    const a = riseMaskSet({ masks: 400, gridSize: 7, keepProbability: 0.3, seed: 11 }, 40, 30).render(0, 400);
    const b = riseMaskSet({ masks: 400, gridSize: 7, keepProbability: 0.3, seed: 11 }, 40, 30).render(0, 400);
    const c = riseMaskSet({ masks: 400, gridSize: 7, keepProbability: 0.3, seed: 12 }, 40, 30).render(0, 400);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    // 400 × 49 Bernoulli(0.3) cells: the standard error of the mean is about 0.003.
    expect(mean).toBeGreaterThan(0.28);
    expect(mean).toBeLessThan(0.32);
    expect(a.reduce((m, v) => Math.min(m, v), 1)).toBeGreaterThanOrEqual(0);
    expect(a.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(1);
  });

  it('render any slice identically to the whole', () => {
    const set = riseMaskSet({ masks: 10, gridSize: 5, keepProbability: 0.5, seed: 1 }, 17, 23);
    expect(set.render(4, 7)).toEqual(set.render(0, 10).subarray(4 * 17 * 23, 7 * 17 * 23));
  });
});

describe('registry', () => {
  it('has unique ids and each method documents every default', () => {
    const ids = METHODS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of METHODS) expect(Object.keys(m.options).sort()).toEqual(Object.keys(m.defaults).sort());
  });

  it('gives each option name one type across methods, since the CLI makes one flag of it', () => {
    const types = new Map<string, string>();
    for (const m of METHODS) {
      for (const [name, spec] of Object.entries(m.options)) {
        expect(types.get(name) ?? spec.type, `${m.id}.${name}`).toBe(spec.type);
        types.set(name, spec.type);
      }
    }
  });

  it('rejects unknown methods and options, and out-of-range values, naming them', () => {
    expect(() => getMethod('magic')).toThrow(
      /Argument 'method' must be one of gradient, .*, occlusion, rise(, [a-z-]+)*; got "magic"/,
    );
    expect(() => resolveOptions(rise, { maskz: 3 })).toThrow(/rise\.maskz/);
    expect(() => resolveOptions(rise, { masks: 0 })).toThrow(/rise\.masks' must be at least 1; got 0/);
    expect(() => resolveOptions(rise, { masks: 2.5 })).toThrow(/whole number/);
    expect(() => resolveOptions(rise, { keepProbability: Number.NaN })).toThrow(/finite number/);
    expect(resolveOptions(rise, { masks: 10 })).toMatchObject({
      masks: 10,
      gridSize: 7,
      keepProbability: 0.5,
    });
  });

  it('names the missing capability', () => {
    const fake = { id: 'needs-grad', requires: ['inputGradients'] } as unknown as Parameters<
      typeof checkCapabilities
    >[0];
    const model = { capabilities: new Set(['predict']) } as unknown as Parameters<
      typeof checkCapabilities
    >[1];
    expect(() => checkCapabilities(fake, model)).toThrow(SightlineError);
    expect(() => checkCapabilities(fake, model)).toThrow(/needs inputGradients/);
  });
});
