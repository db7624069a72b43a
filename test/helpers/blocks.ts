import type { Model, ModelSpec } from '../../src/core/model.js';
import type { Tensor } from '../../src/core/tensor.js';

/** A 3 × 3 grid of flat 16 × 16 blocks of clearly different colours: SLIC with 9 segments finds the blocks. */
export const GRID = 3;
export const BLOCK = 16;
export const SIDE = GRID * BLOCK;
export const COLOURS: readonly [number, number, number][] = [
  [220, 40, 40],
  [40, 180, 60],
  [50, 60, 210],
  [230, 220, 60],
  [200, 60, 200],
  [60, 200, 210],
  [120, 70, 30],
  [250, 250, 250],
  [90, 90, 90],
];

/** Pixels 0..255 in input space (mean 0, std 1/255), scores are probabilities already. */
export function blockSpec(layout: 'NCHW' | 'NHWC' = 'NCHW'): ModelSpec {
  return {
    inputName: 'x',
    layout,
    width: SIDE,
    height: SIDE,
    channelOrder: 'RGB',
    mean: [0, 0, 0],
    std: [1 / 255, 1 / 255, 1 / 255],
    resize: 'squash',
    cropFraction: 1,
    labels: ['game'],
    outputs: 'probabilities',
    task: 'classify',
  };
}

export function blockOf(x: number, y: number): number {
  return Math.floor(y / BLOCK) * GRID + Math.floor(x / BLOCK);
}

/** The block image as a one-image model input. */
export function blockImage(layout: 'NCHW' | 'NHWC' = 'NCHW'): Tensor {
  const plane = SIDE * SIDE;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const colour = COLOURS[blockOf(x, y)];
      for (let c = 0; c < 3; c++) {
        data[layout === 'NCHW' ? c * plane + y * SIDE + x : (y * SIDE + x) * 3 + c] = colour[c];
      }
    }
  }
  return { data, dims: layout === 'NCHW' ? [1, 3, SIDE, SIDE] : [1, SIDE, SIDE, 3] };
}

/**
 * A model over the blocks: `score` receives each block's mean pixel value (all channels) in the image it
 * is shown, so a block switched off to the baseline 0 reads 0 and a shown block its colour's mean.
 */
export function blockModel(
  score: (blockMeans: Float64Array) => number,
  layout: 'NCHW' | 'NHWC' = 'NCHW',
  maxBatch = 16,
): Model & { calls: number } {
  const plane = SIDE * SIDE;
  const model: Model & { calls: number } = {
    calls: 0,
    spec: blockSpec(layout),
    capabilities: new Set(['predict']),
    maxBatch,
    async predict(batch: Tensor) {
      model.calls++;
      const n = batch.dims[0];
      const out = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        const x = batch.data.subarray(k * 3 * plane, (k + 1) * 3 * plane);
        const means = new Float64Array(GRID * GRID);
        for (let i = 0; i < 3 * plane; i++) {
          const p = layout === 'NCHW' ? i % plane : Math.floor(i / 3);
          means[blockOf(p % SIDE, Math.floor(p / SIDE))] += x[i] / (3 * BLOCK * BLOCK);
        }
        out[k] = score(means);
      }
      return { data: out, dims: [n, 1] };
    },
    async dispose() {},
  };
  return model;
}

/** Which blocks a model sees switched on: a block is on when its mean is not the baseline 0. */
export function onStates(means: Float64Array): number[] {
  return Array.from(means, (m) => (Math.abs(m) > 1e-3 ? 1 : 0));
}
