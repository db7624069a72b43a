import { attr } from '../../onnx/proto.js';
import { sanitize } from '../context.js';
import { pool2dOptions } from '../options.js';
import { windowPads } from './padding.js';
import type { OpRule } from './rule.js';

/**
 * AVERAGE_POOL_2D and MAX_POOL_2D. TFLite averages over the pixels inside the image only, which is ONNX's
 * count_include_pad = 0; a max never picks padding, so both keep the bounds of their input.
 */
function pool(onnxOp: 'AveragePool' | 'MaxPool'): OpRule {
  return (op, ctx) => {
    const o = pool2dOptions(op);
    const [inputIndex] = op.inputs;
    const x = ctx.tensor(inputIndex);
    const kernel = [o.filterH, o.filterW] as const;
    const strides = [o.strideH, o.strideW] as const;
    const pads = windowPads(op, [x.shape[1], x.shape[2]], {
      kernel,
      strides,
      dilations: [1, 1],
      padding: o.padding,
    });
    const attributes = [attr('kernel_shape', [...kernel]), attr('strides', [...strides]), attr('pads', pads)];
    if (onnxOp === 'AveragePool') attributes.push(attr('count_include_pad', 0));
    const hint = `${sanitize(ctx.tensor(op.outputs[0]).name)}/${onnxOp === 'AveragePool' ? 'avgpool' : 'maxpool'}`;
    const out = ctx.node(onnxOp, [ctx.input(inputIndex, 'NCHW', op)], attributes, hint);
    ctx.defineOutput(op, {
      value: out,
      layout: 'NCHW',
      bounds: ctx.value(inputIndex).bounds,
      activation: o.activation,
    });
  };
}

export const averagePool2d = pool('AveragePool');
export const maxPool2d = pool('MaxPool');
