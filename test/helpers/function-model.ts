import type { GradientResult, LayerResult, Model, ModelSpec } from '../../src/core/model.js';
import type { Tensor } from '../../src/core/tensor.js';

/** A scalar-output function of one flattened image, with its gradient written out by hand. */
export interface AnalyticFunction {
  f(x: Float32Array): number;
  grad(x: Float32Array): Float32Array;
}

const spec = (width: number, height: number): ModelSpec => ({
  inputName: 'x',
  layout: 'NCHW',
  width,
  height,
  channelOrder: 'RGB',
  mean: [0, 0, 0],
  std: [1 / 255, 1 / 255, 1 / 255],
  resize: 'squash',
  cropFraction: 1,
  labels: ['f'],
  outputs: 'logits',
  task: 'classify',
});

/**
 * A model whose one score is an analytic function, with exact gradients: the methods' maths can then be
 * checked against hand-computed attributions. The spec's std of 1/255 makes pixel p map to the value p/255
 * · 255 = p, so 'black' is 0 and 'white' is 255 in input space; counts calls and batch sizes.
 */
export function functionModel(fn: AnalyticFunction, dims: [number, number, number, number], maxBatch = 8) {
  const per = dims[1] * dims[2] * dims[3];
  const model: Model & { calls: number; batches: number[] } = {
    calls: 0,
    batches: [],
    spec: spec(dims[3], dims[2]),
    capabilities: new Set(['predict', 'inputGradients']),
    maxBatch,
    async predict(batch: Tensor) {
      model.calls++;
      model.batches.push(batch.dims[0]);
      const n = batch.dims[0];
      return {
        data: Float32Array.from({ length: n }, (_, i) => fn.f(batch.data.subarray(i * per, (i + 1) * per))),
        dims: [n, 1],
      };
    },
    async inputGradients(batch: Tensor, seed: Tensor): Promise<GradientResult> {
      const scores = await model.predict(batch);
      const gradients = new Float32Array(batch.data.length);
      for (let i = 0; i < batch.dims[0]; i++) {
        const g = fn.grad(batch.data.subarray(i * per, (i + 1) * per));
        for (let j = 0; j < per; j++) gradients[i * per + j] = seed.data[i] * g[j];
      }
      return { scores, gradients: { data: gradients, dims: batch.dims } };
    },
    async dispose() {},
  };
  return model;
}

/**
 * A model that ends in global average pooling and a linear layer over fixed activations A (C × h × w):
 * S = Σ_k v_k · mean(A_k), so ∂S/∂A_kij = v_k / (h·w) — the setting in which the CAM variants have
 * closed forms.
 */
export function pooledLinearModel(
  activations: Float32Array,
  dims: [number, number, number],
  v: number[],
  inputSize = 8,
) {
  const [c, h, w] = dims;
  const model: Model = {
    spec: spec(inputSize, inputSize),
    capabilities: new Set(['predict', 'layers']),
    maxBatch: 1,
    async predict() {
      let s = 0;
      for (let k = 0; k < c; k++) {
        let m = 0;
        for (let i = 0; i < h * w; i++) m += activations[k * h * w + i];
        s += (v[k] * m) / (h * w);
      }
      return { data: Float32Array.of(s), dims: [1, 1] };
    },
    async layers() {
      return { layers: [{ name: 'features', dims: [1, c, h, w] }], defaultLayer: 'features' };
    },
    async layer(_name: string, batch: Tensor, seed: Tensor | null): Promise<LayerResult> {
      const scores = await model.predict(batch);
      const act = { data: activations, dims: [1, c, h, w] };
      if (!seed) return { scores, activations: act };
      const g = new Float32Array(c * h * w);
      for (let k = 0; k < c; k++) g.fill((seed.data[0] * v[k]) / (h * w), k * h * w, (k + 1) * h * w);
      return { scores, activations: act, gradients: { data: g, dims: [1, c, h, w] } };
    },
    async dispose() {},
  };
  return model;
}
