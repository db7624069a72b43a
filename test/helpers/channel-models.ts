import type { ModelSpec } from '../../src/core/model.js';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  type NodeProto,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { analyticSpec } from './analytic.js';

/**
 * ONNX models whose one layer 'features' [N, 2, s, s] is the input's first two colour planes (a 1 × 1
 * convolution by the identity rows), pooled to p = (mean A₀, mean A₁), so CAM methods that change or read
 * that layer have answers by hand:
 *   'linear':  scores = p · V (V: 2 × K), y_c − y_c(A_k = 0) = V_kc p_k;
 *   'product': one score y = p₀ · p₁, so removing either channel leaves 0.
 */
export async function channelModel(
  head: 'linear' | 'product',
  side: number,
  v: readonly (readonly number[])[] = [
    [1, 0],
    [0, 1],
  ],
): Promise<OnnxModel> {
  const k = head === 'linear' ? v[0].length : 1;
  const nodes: NodeProto[] = [
    { opType: 'Conv', input: ['x', 'select'], output: ['features'] },
    { opType: 'GlobalAveragePool', input: ['features'], output: ['pooled'] },
    { opType: 'Flatten', input: ['pooled'], output: ['p'], attribute: [attr('axis', 1)] },
  ];
  if (head === 'linear') nodes.push({ opType: 'MatMul', input: ['p', 'v'], output: ['scores'] });
  else
    nodes.push(
      { opType: 'Slice', input: ['p', 'zero', 'one', 'one'], output: ['p0'] },
      { opType: 'Slice', input: ['p', 'one', 'two', 'one'], output: ['p1'] },
      { opType: 'Mul', input: ['p0', 'p1'], output: ['scores'] },
    );
  const proto = buildModel({
    inputs: [valueInfo('x', ['N', 3, side, side])],
    outputs: [valueInfo('scores', ['N', k])],
    initializers: [
      floatTensor('select', [2, 3, 1, 1], Float32Array.of(1, 0, 0, 0, 1, 0)),
      ...(head === 'linear'
        ? [floatTensor('v', [2, k], Float32Array.from(v.flat()))]
        : [0, 1, 2].map((i) => int64Tensor(['zero', 'one', 'two'][i], [1], [i]))),
    ],
    nodes,
  });
  const spec: ModelSpec = {
    ...analyticSpec(side),
    labels: Array.from({ length: k }, (_, i) => `class ${i}`),
    outputs: 'logits',
  };
  return OnnxModel.create(encodeModel(proto), spec);
}

/** An input [1, 3, s, s] whose first two planes are a₀ and a₁ (the layer's activations) and the third 0. */
export function planesInput(a0: readonly number[], a1: readonly number[], side: number) {
  const data = new Float32Array(3 * side * side);
  data.set(a0, 0);
  data.set(a1, side * side);
  return { data, dims: [1, 3, side, side] };
}
