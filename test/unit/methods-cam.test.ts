import { describe, expect, it } from 'vitest';
import {
  eigenCam,
  gradCam,
  gradCamPlusPlus,
  hiResCam,
  layerCam,
  xGradCam,
} from '../../src/methods/cam/variants.js';
import { pooledLinearModel } from '../helpers/function-model.js';

// Two channels on a 2 × 2 grid, a linear head v = (2, −1) after global average pooling.
const A = Float32Array.from(
  [
    [1, 0, 0, 3],
    [2, 2, 0, 4],
  ].flat(),
);
const v = [2, -1];
const n = 4;
const input = { data: new Float32Array(3 * 8 * 8), dims: [1, 3, 8, 8] };

async function camAtLayer(method: typeof gradCam, model = pooledLinearModel(A, [2, 2, 2], v, 2)) {
  const map = await method.attribute(
    { model, input: { data: new Float32Array(12), dims: [1, 3, 2, 2] }, target: 0, classes: 1 },
    {},
  );
  return Array.from(map.data);
}

describe('CAM family on a pooled linear head (closed forms)', () => {
  // g_k = v_k / n everywhere, so Σ_k g_k A_k = (2·[1,0,0,3] − [2,2,0,4]) / 4 = [0, −0.5, 0, 0.5].
  const weighted = [0, -0.5, 0, 0.5].map((x) => Math.max(0, x));

  it('Grad-CAM = ReLU(Σ_k mean(g_k) A_k)', async () => {
    expect(await camAtLayer(gradCam)).toEqual(weighted.map((x) => expect.closeTo(x, 6)));
  });

  it('HiResCAM equals Grad-CAM when gradients are constant per channel (its paper’s point)', async () => {
    expect(await camAtLayer(hiResCam)).toEqual(weighted.map((x) => expect.closeTo(x, 6)));
  });

  it('XGrad-CAM: w_k = Σ A g / Σ A = v_k / n here, so it matches too', async () => {
    expect(await camAtLayer(xGradCam)).toEqual(weighted.map((x) => expect.closeTo(x, 6)));
  });

  it('LayerCAM keeps only positive gradients: Σ_k ReLU(g_k) A_k = 2·[1,0,0,3] / 4', async () => {
    expect(await camAtLayer(layerCam)).toEqual([0.5, 0, 0, 1.5].map((x) => expect.closeTo(x, 6)));
  });

  it('Grad-CAM++ weights by α = g² / (2g² + ΣA·g³), computed by hand', async () => {
    const weights = v.map((vk, k) => {
      const g = vk / n;
      const sumA = A.slice(k * n, (k + 1) * n).reduce((a, b) => a + b, 0);
      const alpha = (g * g) / (2 * g * g + sumA * g ** 3 + 1e-7);
      return n * alpha * Math.max(0, g);
    });
    const expected = [0, 1, 2, 3].map((i) => Math.max(0, weights[0] * A[i] + weights[1] * A[n + i]));
    expect(await camAtLayer(gradCamPlusPlus)).toEqual(expected.map((x) => expect.closeTo(x, 6)));
  });

  it('Eigen-CAM finds the shared spatial pattern without gradients', async () => {
    // Both channels are multiples of P plus offsets: centred, they are c_k (P − mean P), so the first
    // principal direction is ∝ P − mean P (sign chosen to agree with the summed activations).
    const P = [0, 1, 3, 8];
    const mean = P.reduce((a, b) => a + b, 0) / 4;
    const acts = Float32Array.from([...P.map((p) => 2 * p + 1), ...P.map((p) => 0.5 * p + 7)]);
    const model = pooledLinearModel(acts, [2, 2, 2], [0, 0], 2);
    const map = await camAtLayer(eigenCam, model);
    const centred = P.map((p) => p - mean);
    const norm = Math.hypot(...centred);
    const sigma = Math.hypot(2, 0.5) * norm;
    expect(map).toEqual(centred.map((c) => expect.closeTo(Math.max(0, (sigma * c) / norm), 4)));
  });

  it('upsamples to the input size and names a missing capability', async () => {
    const model = pooledLinearModel(A, [2, 2, 2], v, 8);
    const map = await gradCam.attribute({ model, input, target: 0, classes: 1 }, {});
    expect([map.width, map.height, map.data.length]).toEqual([8, 8, 64]);
    expect(map.details).toEqual({ layerWidth: 2, layerHeight: 2, layerChannels: 2 });
    const blind = { ...model, layers: undefined, layer: undefined };
    await expect(gradCam.attribute({ model: blind, input, target: 0, classes: 1 }, {})).rejects.toThrow(
      /exposes no layers/,
    );
  });
});
