import { SightlineError } from '../../../core/errors.js';
import { attr } from '../../onnx/proto.js';
import { type ConversionContext, sanitize } from '../context.js';
import { transposeToNchw } from '../layout.js';
import { type ConvOptions, conv2dOptions, depthwiseConv2dOptions } from '../options.js';
import { UNBOUNDED } from '../quantization.js';
import type { TfliteOperator } from '../reader.js';
import { windowPads } from './padding.js';
import type { OpRule } from './rule.js';

/** CONV_2D: weights [O, kh, kw, I] → ONNX [O, I, kh, kw]; input channels / I groups (1 for an ordinary conv). */
export const conv2d: OpRule = (op, ctx) => {
  const [, weightIndex] = op.inputs;
  const w = ctx.tensor(weightIndex);
  const [outChannels, kh, kw, perGroup] = w.shape;
  const inChannels = ctx.tensor(op.inputs[0]).shape[3];
  const weights = transposeToNchw(ctx.constant(weightIndex, op, 'weights'), w.shape);
  convolution(
    op,
    ctx,
    conv2dOptions(op),
    [outChannels, perGroup, kh, kw],
    weights,
    groups(op, inChannels, perGroup),
  );
};

/**
 * DEPTHWISE_CONV_2D: weights [1, kh, kw, C·M] where output channel c·M + m reads input channel c — the same
 * order as an ONNX grouped Conv with C groups of M outputs, so the weights only move their channel axis first.
 */
export const depthwiseConv2d: OpRule = (op, ctx) => {
  const [, weightIndex] = op.inputs;
  const w = ctx.tensor(weightIndex);
  const [, kh, kw, outChannels] = w.shape;
  const inChannels = ctx.tensor(op.inputs[0]).shape[3];
  groups(op, outChannels, inChannels);
  const stored = ctx.constant(weightIndex, op, 'weights');
  const taps = kh * kw;
  const weights = new Float32Array(stored.length);
  for (let t = 0; t < taps; t++) {
    for (let c = 0; c < outChannels; c++) weights[c * taps + t] = stored[t * outChannels + c];
  }
  convolution(op, ctx, depthwiseConv2dOptions(op), [outChannels, 1, kh, kw], weights, inChannels);
};

function convolution(
  op: TfliteOperator,
  ctx: ConversionContext,
  o: ConvOptions,
  dims: readonly [number, number, number, number],
  weights: Float32Array,
  group: number,
): void {
  const [inputIndex, weightIndex, biasIndex] = op.inputs;
  const [, , height, width] = dims;
  const x = ctx.tensor(inputIndex);
  const pads = windowPads(op, [x.shape[1], x.shape[2]], {
    kernel: [height, width],
    strides: [o.strideH, o.strideW],
    dilations: [o.dilationH, o.dilationW],
    padding: o.padding,
  });
  const inputs = [ctx.input(inputIndex, 'NCHW', op), ctx.weights(weightIndex, dims, weights)];
  if (biasIndex !== undefined && biasIndex >= 0) {
    inputs.push(ctx.bias(biasIndex, [dims[0]], ctx.constant(biasIndex, op, 'bias')));
  }
  const out = ctx.node(
    'Conv',
    inputs,
    [
      attr('kernel_shape', [height, width]),
      attr('strides', [o.strideH, o.strideW]),
      attr('dilations', [o.dilationH, o.dilationW]),
      attr('pads', pads),
      attr('group', group),
    ],
    `${sanitize(ctx.tensor(op.outputs[0]).name)}/conv`,
  );
  ctx.defineOutput(op, { value: out, layout: 'NCHW', bounds: UNBOUNDED, activation: o.activation });
}

/** How many groups split `whole` channels into parts of `part`; throws when they do not divide. */
function groups(op: TfliteOperator, whole: number, part: number): number {
  if (!(part > 0) || whole % part !== 0) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TFLite op '${op.name}' (operator #${op.index}) maps ${whole} channels onto filters of ${part}; expected a whole multiple.`,
      { op: op.name, operator: op.index },
    );
  }
  return whole / part;
}
