// Analytic ONNX models for segment and similarity targets (issue 13): a segmenter whose class scores read
// known patches of the photo and an embedding of colour detectors per cell, so a test knows where every map
// must be. Both take a fixed [N, 3, 32, 32] input read with mean 0 and std 1 (input = pixel / 255).
import {
  attr,
  buildModel,
  floatTensor,
  int64Tensor,
  type ModelProto,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import type { Patch } from './analytic.js';

export const SIZE = 32;
/** The output grid: each cell is a 4 × 4 block of input pixels. */
export const GRID = 8;
const CELL = SIZE / GRID;

/** A patch in grid cells → the same patch in input pixels. */
export const toPixels = (p: Patch): Patch => ({
  x0: p.x0 * CELL,
  y0: p.y0 * CELL,
  x1: p.x1 * CELL,
  y1: p.y1 * CELL,
});

function indicator(p: Patch): Float32Array {
  const out = new Float32Array(GRID * GRID);
  for (let y = p.y0; y < p.y1; y++) for (let x = p.x0; x < p.x1; x++) out[y * GRID + x] = 1;
  return out;
}

const area = (p: Patch) => (p.x1 - p.x0) * (p.y1 - p.y0);

/**
 * A segmenter with classes 0 (background), 1 and 2, output [N, 3, 8, 8]. Class k ∈ {1, 2} scores
 * mean(grey input inside reads[k−1]) + 5 on the cells of owns[k−1] and that mean − 5 elsewhere; background
 * scores 0. With a photo whose grey means are under 5 in magnitude, the model gives class k exactly the
 * cells of owns[k−1], whatever the photo, while the scores of class k depend on reads[k−1] only.
 * The feature map 'feat' [N, 2, 8, 8] (the grey cells inside each read patch) is the CAM layer.
 */
export function segmenterProto(reads: readonly [Patch, Patch], owns: readonly [Patch, Patch]): ModelProto {
  const masks = new Float32Array(2 * GRID * GRID);
  masks.set(indicator(reads[0]), 0);
  masks.set(indicator(reads[1]), GRID * GRID);
  const weights = Float32Array.of(0, 0, 1 / area(reads[0]), 0, 0, 1 / area(reads[1]));
  const bias = new Float32Array(3 * GRID * GRID);
  for (const k of [1, 2]) {
    const own = indicator(owns[k - 1]);
    for (let i = 0; i < own.length; i++) bias[k * GRID * GRID + i] = own[i] ? 5 : -5;
  }
  return buildModel({
    inputs: [valueInfo('x', ['N', 3, SIZE, SIZE])],
    outputs: [valueInfo('classes', ['N', 3, GRID, GRID])],
    initializers: [
      floatTensor('masks', [1, 2, GRID, GRID], masks),
      int64Tensor('hw', [2], [2, 3]),
      floatTensor('head', [3, 2, 1, 1], weights),
      floatTensor('bias', [1, 3, GRID, GRID], bias),
    ],
    nodes: [
      {
        opType: 'AveragePool',
        input: ['x'],
        output: ['pooled'],
        attribute: [attr('kernel_shape', [CELL, CELL]), attr('strides', [CELL, CELL])],
      },
      {
        opType: 'ReduceMean',
        input: ['pooled'],
        output: ['grey'],
        attribute: [attr('axes', [1]), attr('keepdims', 1)],
      },
      { opType: 'Mul', input: ['grey', 'masks'], output: ['feat'] },
      { opType: 'ReduceSum', input: ['feat', 'hw'], output: ['sums'], attribute: [attr('keepdims', 1)] },
      { opType: 'Conv', input: ['sums', 'head'], output: ['means'] },
      { opType: 'Add', input: ['means', 'bias'], output: ['classes'] },
    ],
  });
}

/**
 * An embedding [N, 192]: per 4 × 4 cell, how strongly it is red, green and blue (relu(channel − 0.5),
 * averaged), flattened. Dark pixels (every channel under half) give nothing, so only coloured patches count.
 * 'cells' [N, 3, 8, 8] is the CAM layer.
 */
export function embedderProto(): ModelProto {
  const weights = new Float32Array(9);
  for (let k = 0; k < 3; k++) weights[k * 3 + k] = 1;
  return buildModel({
    inputs: [valueInfo('x', ['N', 3, SIZE, SIZE])],
    outputs: [valueInfo('embedding', ['N', 3 * GRID * GRID])],
    initializers: [
      floatTensor('detect', [3, 3, 1, 1], weights),
      floatTensor('threshold', [3], Float32Array.of(-0.5, -0.5, -0.5)),
    ],
    nodes: [
      { opType: 'Conv', input: ['x', 'detect', 'threshold'], output: ['colour'] },
      { opType: 'Relu', input: ['colour'], output: ['fired'] },
      {
        opType: 'AveragePool',
        input: ['fired'],
        output: ['cells'],
        attribute: [attr('kernel_shape', [CELL, CELL]), attr('strides', [CELL, CELL])],
      },
      { opType: 'Flatten', input: ['cells'], output: ['embedding'], attribute: [attr('axis', 1)] },
    ],
  });
}

/**
 * An RGB photo of SIZE × SIZE: dark noise (every channel under 80, so no detector fires) from `seed`, with
 * solid patches painted on.
 */
export function photo(
  seed: number,
  patches: readonly { patch: Patch; rgb: readonly [number, number, number] }[],
): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(SIZE * SIZE * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    // xorshift32: deterministic noise without a dependency.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = (s >>> 0) % 80;
  }
  for (const { patch, rgb } of patches)
    for (let y = patch.y0; y < patch.y1; y++)
      for (let x = patch.x0; x < patch.x1; x++) data.set(rgb, (y * SIZE + x) * 3);
  return { width: SIZE, height: SIZE, data };
}

/** The share of a map's positive values (the evidence for the target) inside `patch`. */
export function positiveInside(data: ArrayLike<number>, width: number, patch: Patch): number {
  let inside = 0;
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.max(0, data[i]);
    const [x, y] = [i % width, Math.floor(i / width)];
    total += v;
    if (x >= patch.x0 && x < patch.x1 && y >= patch.y0 && y < patch.y1) inside += v;
  }
  return total > 0 ? inside / total : 0;
}

/**
 * The analytic embedding of a photo (embedderProto's output), from its definition: per cell and channel, mean
 * relu(pixel/255 − 0.5).
 */
export function embedding(image: { data: Uint8Array }): number[] {
  const out = new Array<number>(3 * GRID * GRID).fill(0);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      for (let k = 0; k < 3; k++) {
        const v = Math.max(0, image.data[(y * SIZE + x) * 3 + k] / 255 - 0.5);
        out[k * GRID * GRID + Math.floor(y / 4) * GRID + Math.floor(x / 4)] += v / 16;
      }
  return out;
}

/** cos(a, b) in float64. */
export const cosine = (a: number[], b: number[]) => {
  const dot = a.reduce((s, v, i) => s + v * b[i], 0);
  return dot / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
};
