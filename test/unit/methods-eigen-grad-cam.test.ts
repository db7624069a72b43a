import { describe, expect, it } from 'vitest';
import { eigenGradCam } from '../../src/methods/cam/eigen-grad-cam.js';
import { pooledLinearModel } from '../helpers/function-model.js';

// Pooled linear head S = Σ_k v_k mean(A_k) on a 2 × 2 grid, so ∂S/∂A_k = v_k / 4 everywhere and
// A_k ⊙ G_k = (v_k / 4) A_k. With A₀ = 2P + 1 and A₁ = 0.5P + 7 every centred row is a multiple of
// P − mean(P): rank one, first component ∝ P − mean(P), σ = ‖(2v₀/4, 0.5v₁/4)‖ · ‖P − mean(P)‖.
const P = [0, 1, 3, 8];
const m = P.reduce((a, b) => a + b, 0) / 4;
const centred = P.map((p) => p - m);
const acts = Float32Array.from([...P.map((p) => 2 * p + 1), ...P.map((p) => 0.5 * p + 7)]);

async function map(v: number[]) {
  const model = pooledLinearModel(acts, [2, 2, 2], v, 2);
  const input = { data: new Float32Array(12), dims: [1, 3, 2, 2] };
  return Array.from((await eigenGradCam.attribute({ model, input, target: 0, classes: 1 }, {})).data);
}

describe('Eigen-Grad-CAM: first principal component of activations × gradients', () => {
  it('is σ · (P − mean P) / ‖P − mean P‖ where the gradient-weighted sum rises with P', async () => {
    // v = (1, −2): rows 0.5(P − m̄) and −0.25(P − m̄); Σ_k A⊙G = 0.25P − 3.25 rises with P, so the sign is +.
    const scale = Math.hypot(0.5, 0.25);
    expect(await map([1, -2])).toEqual(centred.map((c) => expect.closeTo(Math.max(0, scale * c), 4)));
  });

  it('flips with the gradients’ sign (class-specific, unlike Eigen-CAM)', async () => {
    // v = (−1, −1): Σ_k A⊙G = −(2.5P + 8)/4 falls with P, so the map is the other half: −σ u, then ReLU.
    const scale = Math.hypot(0.5, 0.125);
    expect(await map([-1, -1])).toEqual(centred.map((c) => expect.closeTo(Math.max(0, -scale * c), 4)));
  });

  it('is zero when the gradients are (nothing to project)', async () => {
    expect(await map([0, 0])).toEqual([0, 0, 0, 0]);
  });
});
