// Analytic ONNX models for the tasks (issue 13): a scorer and a two-tag tagger whose outputs read known
// patches, so a test knows where every map must be and what every prediction must equal.
import {
  attr,
  buildModel,
  floatTensor,
  int64Tensor,
  type ModelProto,
  type NodeProto,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import type { Patch } from './analytic.js';

/** Slice one patch of an NCHW input and average it over channels, rows and columns: m [N]. */
function patchMean(
  patch: Patch,
  out: string,
  input = 'x',
): { nodes: NodeProto[]; inits: ReturnType<typeof int64Tensor>[] } {
  return {
    inits: [
      int64Tensor(`${out}_starts`, [2], [patch.y0, patch.x0]),
      int64Tensor(`${out}_ends`, [2], [patch.y1, patch.x1]),
    ],
    nodes: [
      { opType: 'Slice', input: [input, `${out}_starts`, `${out}_ends`, 'hw_axes'], output: [`${out}_crop`] },
      {
        opType: 'ReduceMean',
        input: [`${out}_crop`],
        output: [out],
        attribute: [attr('axes', [1, 2, 3]), attr('keepdims', 0)],
      },
    ],
  };
}

const COMMON = [int64Tensor('hw_axes', [2], [2, 3]), int64Tensor('one', [1], [1])];

/**
 * A scorer for a fixed [N, 3, size, size] input: one output [N, 1], the mean of the input inside `patch`,
 * through a final Sigmoid when `sigmoid` (else the raw float).
 */
export function scorerProto(patch: Patch, size: number, sigmoid: boolean): ModelProto {
  const mean = patchMean(patch, 'm');
  return buildModel({
    inputs: [valueInfo('x', ['N', 3, size, size])],
    outputs: [valueInfo('score', ['N', 1])],
    initializers: [...COMMON, ...mean.inits],
    nodes: [
      ...mean.nodes,
      { opType: 'Unsqueeze', input: ['m', 'one'], output: [sigmoid ? 'raw' : 'score'] },
      ...(sigmoid ? [{ opType: 'Sigmoid', input: ['raw'], output: ['score'] }] : []),
    ],
  });
}

/**
 * A two-tag tagger for a fixed [N, 3, size, size] input: tag t = sigmoid(scale[t] · mean(patch t) + bias[t]),
 * output [N, 2]; without `sigmoid` the output is the logits (the head before the Sigmoid).
 */
export function taggerProto(
  patches: readonly [Patch, Patch],
  head: { scale: readonly [number, number]; bias: readonly [number, number] },
  size: number,
  sigmoid = true,
): ModelProto {
  const a = patchMean(patches[0], 'm0');
  const b = patchMean(patches[1], 'm1');
  return buildModel({
    inputs: [valueInfo('x', ['N', 3, size, size])],
    outputs: [valueInfo('tags', ['N', 2])],
    initializers: [
      ...COMMON,
      ...a.inits,
      ...b.inits,
      floatTensor('scale', [2], Float32Array.from(head.scale)),
      floatTensor('bias', [2], Float32Array.from(head.bias)),
    ],
    nodes: [
      ...a.nodes,
      ...b.nodes,
      { opType: 'Unsqueeze', input: ['m0', 'one'], output: ['u0'] },
      { opType: 'Unsqueeze', input: ['m1', 'one'], output: ['u1'] },
      { opType: 'Concat', input: ['u0', 'u1'], output: ['both'], attribute: [attr('axis', 1)] },
      { opType: 'Mul', input: ['both', 'scale'], output: ['scaled'] },
      { opType: 'Add', input: ['scaled', 'bias'], output: [sigmoid ? 'logits' : 'tags'] },
      ...(sigmoid ? [{ opType: 'Sigmoid', input: ['logits'], output: ['tags'] }] : []),
    ],
  });
}

/** The share of a map's mass above its minimum that lies inside `patch` (map row-major, `width` wide). */
export function massInside(data: ArrayLike<number>, width: number, patch: Patch): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < data.length; i++) min = Math.min(min, data[i]);
  let inside = 0;
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    const [x, y] = [i % width, Math.floor(i / width)];
    const v = data[i] - min;
    total += v;
    if (x >= patch.x0 && x < patch.x1 && y >= patch.y0 && y < patch.y1) inside += v;
  }
  return total > 0 ? inside / total : 0;
}

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
