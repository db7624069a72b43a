import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { ablationCam } from '../../src/methods/cam/ablation-cam.js';
import { gradCam } from '../../src/methods/cam/variants.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { openOnnxModel } from '../../src/models/open.js';
import { channelModel, planesInput } from '../helpers/channel-models.js';
import { pooledLinearModel } from '../helpers/function-model.js';

// The layer's two channels on a 2 × 2 grid (the input's first two planes).
const A0 = [1, 0, 0, 3];
const A1 = [2, 2, 0, 4];
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const p = [mean(A0), mean(A1)]; // 1, 2
const input = planesInput(A0, A1, 2);

const models: Awaited<ReturnType<typeof channelModel>>[] = [];
async function model(...args: Parameters<typeof channelModel>) {
  const m = await channelModel(...args);
  models.push(m);
  return m;
}
afterAll(async () => {
  for (const m of models) await m.dispose();
});

async function cam(m: Awaited<ReturnType<typeof channelModel>>, target: number, channels = 0) {
  const options = resolveOptions(ablationCam, { channels });
  return ablationCam.attribute({ model: m, input, target, classes: 2 }, options);
}

describe('Ablation-CAM on ONNX models with a hand-computed answer', () => {
  it('linear head: w_k = (y − y_k) / |y| = V_kc p_k / |y|', async () => {
    // Class 0: y = 2p₀ − p₁ = 0 would be degenerate, so V = [[3, 1], [−1, 2]]: y₀ = 3 − 2 = 1, y₁ = 1 + 4 = 5.
    const m = await model('linear', 2, [
      [3, 1],
      [-1, 2],
    ]);
    for (const [target, y] of [
      [0, 1],
      [1, 5],
    ]) {
      const v = target === 0 ? [3, -1] : [1, 2];
      const w = [(v[0] * p[0]) / y, (v[1] * p[1]) / y];
      const expected = A0.map((a, i) => Math.max(0, w[0] * a + w[1] * A1[i]));
      const map = await cam(m, target);
      expect(Array.from(map.data)).toEqual(expected.map((x) => expect.closeTo(x, 5)));
      expect(map.details).toMatchObject({ channelsUsed: 2, score: expect.closeTo(y, 5) });
    }
  });

  it('a negative score keeps the weights’ signs (divided by |y|)', async () => {
    // y = −p₀ − p₁ = −3: removing either channel raises the score, so both weigh −p_k / 3 and the map is 0.
    const m = await model('linear', 2, [[-1], [-1]]);
    const map = await cam(m, 0);
    expect(map.details?.score).toBeCloseTo(-3, 5);
    expect(Array.from(map.data)).toEqual([0, 0, 0, 0]);
  });

  it('product head: removing either channel leaves nothing, so both weigh 1 where Grad-CAM weighs p₁/4, p₀/4', async () => {
    const m = await model('product', 2);
    const map = await cam(m, 0);
    expect(Array.from(map.data)).toEqual(A0.map((a, i) => expect.closeTo(a + A1[i], 5)));
    const grad = await gradCam.attribute({ model: m, input, target: 0, classes: 1 }, {});
    const g = [p[1] / 4, p[0] / 4];
    expect(Array.from(grad.data)).toEqual(A0.map((a, i) => expect.closeTo(g[0] * a + g[1] * A1[i], 5)));
  });

  it('channels = 1 ablates only the most active channel; the other weighs 0', async () => {
    const m = await model('product', 2);
    const map = await cam(m, 0, 1);
    expect(map.details?.channelsUsed).toBe(1);
    // Channel 1 (mean 2) is the more active: the map is A₁ alone.
    expect(Array.from(map.data)).toEqual(A1.map((a) => expect.closeTo(a, 5)));
  });

  it('refuses in words on a model that reads layers but cannot ablate them', async () => {
    const m = pooledLinearModel(Float32Array.from([...A0, ...A1]), [2, 2, 2], [1, 1], 2);
    const error = await ablationCam
      .attribute({ model: m, input, target: 0, classes: 1 }, { channels: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('MISSING_CAPABILITY');
    expect((error as SightlineError).message).toMatch(/removed, which this model does not offer/);
  });

  it('refuses a channel scale of the wrong width in words', async () => {
    const m = await model('product', 2);
    const error = await m
      .ablate('features', input, { data: new Float32Array(3), dims: [1, 3] })
      .catch((e: unknown) => e);
    expect((error as SightlineError).code).toBe('INVALID_ARGUMENT');
    expect((error as SightlineError).message).toMatch(/must be \[N, 2\]; got \[1, 3\]/);
  });
});

// Channels-last maps (Swin) scale the last axis as tokens do; the Swin fixture's probe alone takes ~8 s, so it is left out.
describe('channel ablation on map and token layers', () => {
  const FIXTURES = new URL('../fixtures/', import.meta.url);
  it.each([
    ['golden/net_tiny_cnn.onnx', 'map'],
    ['golden/net_tiny_vit.onnx', 'tokens'],
  ])('%s: a scale of ones gives the model’s own scores, a removed channel other ones', async (file, kind) => {
    const m = await openOnnxModel(readFileSync(new URL(file, FIXTURES)), {});
    models.push(m as never);
    const { layers, defaultLayer } = await m.layers();
    const layer = layers.find((l) => l.name === defaultLayer)!;
    expect(layer.kind ?? 'map').toBe(kind);
    const c = layer.kind === 'map' || !layer.kind ? layer.dims[1] : layer.dims[layer.dims.length - 1];
    const { width, height, layout } = m.spec;
    const one = 3 * width * height;
    const image = Float32Array.from({ length: one }, (_, i) => Math.sin(i * 0.37));
    const batch = {
      data: Float32Array.from({ length: 2 * one }, (_, i) => image[i % one]),
      dims: layout === 'NCHW' ? [2, 3, height, width] : [2, height, width, 3],
    };
    const scale = new Float32Array(2 * c).fill(1);
    scale[c] = 0; // row 1 loses channel 0
    const ablated = await m.ablate(defaultLayer, batch, { data: scale, dims: [2, c] });
    const plain = await m.predict({ data: image, dims: [1, ...batch.dims.slice(1)] });
    const k = plain.dims[1];
    expect(Array.from(ablated.data.subarray(0, k))).toEqual(
      Array.from(plain.data).map((v) => expect.closeTo(v, 5)),
    );
    const moved = Array.from(ablated.data.subarray(k, 2 * k)).some(
      (v, i) => Math.abs(v - plain.data[i]) > 1e-6,
    );
    expect(moved).toBe(true);
  });
});
