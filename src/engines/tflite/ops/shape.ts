import { SightlineError } from '../../../core/errors.js';
import { attr } from '../../onnx/proto.js';
import { type ConversionContext, hull, sanitize } from '../context.js';
import { type Layout, nchwAxis, removedAxesInNchw, sameOrderAsNhwc, TO_NCHW } from '../layout.js';
import { concatenationOptions, reshapeNewShape, squeezeDims } from '../options.js';
import { UNBOUNDED } from '../quantization.js';
import type { TfliteOperator } from '../reader.js';
import type { OpRule } from './rule.js';

/** CONCATENATION: stays NCHW when an input is (the usual case between convolutions), with the axis moved. */
const concatenation: OpRule = (op, ctx) => {
  const o = concatenationOptions(op);
  const rank = ctx.tensor(op.outputs[0]).shape.length;
  const axis = (o.axis + rank) % rank;
  const activations = op.inputs.filter((i) => !ctx.isConstant(i));
  const layout: Layout =
    rank === 4 && activations.some((i) => ctx.value(i).layout === 'NCHW') ? 'NCHW' : 'NHWC';
  const inputs = op.inputs.map((i) => ctx.input(i, layout, op));
  const bounds =
    activations.length === op.inputs.length ? hull(activations.map((i) => ctx.value(i).bounds)) : UNBOUNDED;
  const out = ctx.node(
    'Concat',
    inputs,
    [attr('axis', layout === 'NCHW' ? nchwAxis(axis) : axis)],
    `${sanitize(ctx.tensor(op.outputs[0]).name)}/concat`,
  );
  ctx.defineOutput(op, { value: out, layout, bounds, activation: o.activation });
};

/**
 * RESHAPE to the output tensor's shape. A leading dimension equal to the input's is the batch and becomes 0
 * ("copy"), so the graph still takes any batch size. An NCHW input whose bytes already lie in NHWC order
 * (e.g. [N, C, 1, 1]) is reshaped as it is.
 */
const reshape: OpRule = (op, ctx) => {
  const [inputIndex] = op.inputs;
  const x = ctx.tensor(inputIndex);
  const target = reshapeTarget(op, ctx);
  const dims = target.map((d, i) => (i === 0 && x.shape.length > 0 && d === x.shape[0] ? 0 : d));
  const name = sanitize(ctx.tensor(op.outputs[0]).name);
  const out = ctx.node(
    'Reshape',
    [flatSource(op, ctx, inputIndex), ctx.ints(`${name}/shape`, dims)],
    [],
    `${name}/reshape`,
  );
  ctx.defineOutput(op, { value: out, layout: 'NHWC', bounds: ctx.value(inputIndex).bounds });
};

/** The input of a reshape or flatten: its NCHW form where that holds the bytes in NHWC order, else NHWC. */
export function flatSource(op: TfliteOperator, ctx: ConversionContext, index: number): string {
  const v = ctx.value(index);
  return v.layout === 'NCHW' && sameOrderAsNhwc(ctx.tensor(index).shape)
    ? v.name
    : ctx.input(index, 'NHWC', op);
}

function reshapeTarget(op: TfliteOperator, ctx: ConversionContext): number[] {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const inputSize = size(ctx.tensor(op.inputs[0]).shape);
  const declared = ctx.tensor(op.outputs[0]).shape;
  if (declared.length > 0 && size(declared) === inputSize) return [...declared];
  const shapeIndex = op.inputs[1];
  const requested =
    shapeIndex !== undefined && shapeIndex >= 0 && ctx.isConstant(shapeIndex)
      ? ctx.constantInts(shapeIndex, op, 'shape')
      : reshapeNewShape(op);
  const known = size((requested ?? []).filter((d) => d !== -1));
  const resolved = requested?.map((d) => (d === -1 ? inputSize / known : d));
  if (!resolved || size(resolved) !== inputSize || !resolved.every(Number.isInteger)) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TFLite op 'RESHAPE' (operator #${op.index}) has no usable target shape for ${inputSize} values (output shape [${declared.join(', ')}], requested [${requested?.join(', ') ?? ''}]).`,
      { operator: op.index },
    );
  }
  return resolved;
}

/**
 * SQUEEZE of the listed axes, or of every axis of size 1 when none are listed — except the batch axis when
 * the output keeps it, since the batch is 1 in the file but free in the graph.
 */
const squeeze: OpRule = (op, ctx) => {
  const [inputIndex] = op.inputs;
  const shape = ctx.tensor(inputIndex).shape;
  const rank = shape.length;
  let axes = squeezeDims(op).map((a) => (a + rank) % rank);
  if (axes.length === 0) {
    axes = shape.flatMap((d, i) => (d === 1 ? [i] : []));
    if (ctx.tensor(op.outputs[0]).shape.length === rank - axes.length + 1) axes = axes.filter((a) => a !== 0);
  }
  const v = ctx.value(inputIndex);
  const inNchw = v.layout === 'NCHW' ? removedAxesInNchw(axes) : undefined;
  const source = inNchw ? v.name : ctx.input(inputIndex, 'NHWC', op);
  const name = sanitize(ctx.tensor(op.outputs[0]).name);
  const out = ctx.node('Squeeze', [source, ctx.ints(`${name}/axes`, inNchw ?? axes)], [], `${name}/squeeze`);
  ctx.defineOutput(op, { value: out, layout: 'NHWC', bounds: v.bounds });
};

/**
 * PAD with zeros (a quantized PAD fills with the zero point, which is the real 0). A 4-D result is marked as
 * zero-padded for the pools that may read it (ops/pool.ts).
 */
const pad: OpRule = (op, ctx) => {
  const [inputIndex, paddingIndex] = op.inputs;
  const v = ctx.value(inputIndex);
  const rank = ctx.tensor(inputIndex).shape.length;
  const paddings = ctx.constantInts(paddingIndex, op, 'paddings');
  const order = v.layout === 'NCHW' ? [...TO_NCHW] : Array.from({ length: rank }, (_, i) => i);
  const pads = [...order.map((a) => paddings[2 * a]), ...order.map((a) => paddings[2 * a + 1])];
  const name = sanitize(ctx.tensor(op.outputs[0]).name);
  const out = ctx.node('Pad', [v.name, ctx.ints(`${name}/pads`, pads)], [], `${name}/pad`);
  ctx.defineOutput(op, { value: out, layout: v.layout, bounds: hull([v.bounds, [0, 0]]) });
  if (rank === 4) {
    const [top, bottom, left, right] = paddings.slice(2, 6);
    ctx.markZeroPadded(ctx.value(op.outputs[0]).name, [top, left, bottom, right]);
  }
};

export const shapeRules = {
  CONCATENATION: concatenation,
  RESHAPE: reshape,
  SQUEEZE: squeeze,
  PAD: pad,
} satisfies Record<string, OpRule>;
