import { SightlineError } from '../../../core/errors.js';
import { attr } from '../../onnx/proto.js';
import { sanitize } from '../context.js';
import { fullyConnectedOptions } from '../options.js';
import { UNBOUNDED } from '../quantization.js';
import type { OpRule } from './rule.js';
import { flatSource } from './shape.js';

/**
 * FULLY_CONNECTED with weights [units, depth]: y = x·Wᵀ + b. Without keep_num_dims TFLite flattens the
 * input to [−1, depth] first (a Gemm after it); with it the leading dims stay (a MatMul over the last axis).
 */
export const fullyConnected: OpRule = (op, ctx) => {
  const o = fullyConnectedOptions(op);
  if (o.weightsFormat !== 0) {
    throw new SightlineError(
      'UNSUPPORTED_OP',
      `TFLite op 'FULLY_CONNECTED' (operator #${op.index}) stores its weights shuffled (format ${o.weightsFormat}); only the default format is supported.`,
      { op: op.name, operator: op.index },
    );
  }
  const [inputIndex, weightIndex, biasIndex] = op.inputs;
  const w = ctx.tensor(weightIndex);
  const [units, depth] = w.shape;
  const weights = ctx.constant(weightIndex, op, 'weights');
  const bias =
    biasIndex !== undefined && biasIndex >= 0
      ? ctx.initializer(sanitize(ctx.tensor(biasIndex).name), [units], ctx.constant(biasIndex, op, 'bias'))
      : undefined;
  const name = sanitize(ctx.tensor(op.outputs[0]).name);
  let out: string;
  if (o.keepNumDims) {
    const transposed = new Float32Array(weights.length);
    for (let u = 0; u < units; u++) {
      for (let d = 0; d < depth; d++) transposed[d * units + u] = weights[u * depth + d];
    }
    const x = ctx.input(inputIndex, 'NHWC', op);
    out = ctx.node(
      'MatMul',
      [x, ctx.initializer(sanitize(w.name), [depth, units], transposed)],
      [],
      `${name}/matmul`,
    );
    if (bias) out = ctx.node('Add', [out, bias], [], `${name}/bias`);
  } else {
    let x = flatSource(op, ctx, inputIndex);
    if (ctx.tensor(inputIndex).shape.length !== 2) {
      x = ctx.node('Reshape', [x, ctx.ints(`${name}/flat_shape`, [-1, depth])], [], `${name}/flatten`);
    }
    const inputs = [x, ctx.initializer(sanitize(w.name), [units, depth], weights), ...(bias ? [bias] : [])];
    out = ctx.node('Gemm', inputs, [attr('transB', 1)], `${name}/gemm`);
  }
  ctx.defineOutput(op, { value: out, layout: 'NHWC', bounds: UNBOUNDED, activation: o.activation });
};
