import { attr } from '../../onnx/proto.js';
import { sanitize } from '../context.js';
import { softmaxBeta } from '../options.js';
import type { OpRule } from './rule.js';

/**
 * SOFTMAX(β·x) over the last axis (channels, so axis 1 of an NCHW value). Its quantized output has scale
 * 1/256 by the format's convention, and clipping probabilities to 255/256 would only flatten the top class.
 */
export const softmax: OpRule = (op, ctx) => {
  const v = ctx.value(op.inputs[0]);
  const name = sanitize(ctx.tensor(op.outputs[0]).name);
  const beta = softmaxBeta(op);
  const logits = beta === 1 ? v.name : ctx.node('Mul', [v.name, ctx.scalar(beta)], [], `${name}/beta`);
  const out = ctx.node('Softmax', [logits], [attr('axis', v.layout === 'NCHW' ? 1 : -1)], `${name}/softmax`);
  ctx.defineOutput(op, { value: out, layout: v.layout, bounds: [0, 1], quantizedClip: false });
};
