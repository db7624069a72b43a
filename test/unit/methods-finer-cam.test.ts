import { afterAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { closestClasses, finerCam } from '../../src/methods/cam/finer-cam.js';
import { gradCam } from '../../src/methods/cam/variants.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { channelModel, planesInput } from '../helpers/channel-models.js';

// Layer channels A₀, A₁ on a 2 × 2 grid, pooled to p = (1, 2); logits y = p · V for four classes.
const A0 = [1, 0, 0, 3];
const A1 = [2, 2, 0, 4];
const p = [1, 2];
const V = [
  [1, 1, 0, 3],
  [1, 0.5, 1.25, -1],
];
const y = [0, 1, 2, 3].map((j) => p[0] * V[0][j] + p[1] * V[1][j]); // 3, 2, 2.5, 1
const input = planesInput(A0, A1, 2);

let model: Awaited<ReturnType<typeof channelModel>>;
afterAll(async () => model?.dispose());

async function run(target: number, given: Record<string, number> = {}) {
  model ??= await channelModel('linear', 2, V);
  return finerCam.attribute({ model, input, target, classes: 4 }, resolveOptions(finerCam, given));
}

/** Grad-CAM of Σ_j s_j y_j by hand: ∂y_j/∂A_k is V_kj / 4 at each of the 4 positions, so w_k = Σ_j s_j V_kj / 4. */
function byHand(seed: number[]): number[] {
  const w = [0, 1].map((k) => seed.reduce((sum, s, j) => sum + (s * V[k][j]) / 4, 0));
  return A0.map((a, i) => Math.max(0, w[0] * a + w[1] * A1[i]));
}

describe('Finer-CAM: Grad-CAM of y_c − α Σ ω_j y_j over the classes scored closest to the target', () => {
  it('picks the classes by |y_j − y_c| and weights them by their softmax probability', async () => {
    // Target 0 (y = 3): distances 1, 0.5, 2 → classes 2, 1, then 3.
    expect(y).toEqual([3, 2, 2.5, 1]);
    expect(closestClasses(y, 0, 3)).toEqual([2, 1, 3]);
    const e = y.map(Math.exp);
    const similar = [2, 1];
    const total = similar.reduce((s, j) => s + e[j], 0);
    const alpha = 0.5;
    const seed = [1, 0, 0, 0];
    for (const j of similar) seed[j] -= (alpha * e[j]) / total;
    const map = await run(0, { compare: 2, alpha });
    expect(Array.from(map.data)).toEqual(byHand(seed).map((x) => expect.closeTo(x, 5)));
    expect(map.details).toMatchObject({ compared: 2, similar1: 2, similar2: 1 });
  });

  it('keeps what tells the target from its neighbour where Grad-CAM keeps what they share', async () => {
    // Class 1 reads channel 0 only, class 2 mostly channel 1; contrasted with class 2 alone (α = 1), the
    // map of class 1 is (V₀₁ − V₀₂) A₀ + (V₁₁ − V₁₂) A₁ over 4 = (A₀ − 0.75 A₁) / 4.
    const finer = await run(1, { compare: 1, alpha: 1 });
    expect(finer.details?.similar1).toBe(2);
    expect(Array.from(finer.data)).toEqual(byHand([0, 1, -1, 0]).map((x) => expect.closeTo(x, 5)));
    const plain = await run(1, { alpha: 0 });
    const grad = await gradCam.attribute({ model, input, target: 1, classes: 4 }, {});
    expect(Array.from(plain.data)).toEqual(Array.from(grad.data).map((x) => expect.closeTo(x, 5)));
  });

  it('refuses in words on a model with one output', async () => {
    const single = await channelModel('product', 2);
    try {
      const error = await finerCam
        .attribute({ model: single, input, target: 0, classes: 1 }, resolveOptions(finerCam, {}))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SightlineError);
      expect((error as SightlineError).message).toMatch(/contrasts the target .* single output/);
    } finally {
      await single.dispose();
    }
  });
});
