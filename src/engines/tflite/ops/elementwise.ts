import { sanitize } from '../context.js';
import type { Layout } from '../layout.js';
import { fusedActivation } from '../options.js';
import { type Interval, UNBOUNDED } from '../quantization.js';
import { Activation } from '../schema.js';
import type { OpRule } from './rule.js';

/**
 * ADD and MUL with numpy broadcasting, which TFLite and ONNX share. The op runs in NCHW when every
 * non-constant operand is a 4-D value and one of them already is NCHW; constants are reordered to match.
 */
function binary(onnxOp: 'Add' | 'Mul'): OpRule {
  return (op, ctx) => {
    const operands = op.inputs.filter((i) => !ctx.isConstant(i));
    const nchw =
      operands.every((i) => ctx.tensor(i).shape.length === 4) &&
      operands.some((i) => ctx.value(i).layout === 'NCHW');
    const layout: Layout = nchw ? 'NCHW' : 'NHWC';
    const inputs = op.inputs.map((i) => ctx.input(i, layout, op));
    const out = ctx.node(
      onnxOp,
      inputs,
      [],
      `${sanitize(ctx.tensor(op.outputs[0]).name)}/${onnxOp.toLowerCase()}`,
    );
    ctx.defineOutput(op, { value: out, layout, bounds: UNBOUNDED, activation: fusedActivation(op) });
  };
}

/** RELU, RELU6, RELU_N1_TO_1: a clip of the input, skipped when the input is already inside the range. */
function clamp(activation: number): OpRule {
  return (op, ctx) => {
    const v = ctx.value(op.inputs[0]);
    ctx.defineOutput(op, { value: v.name, layout: v.layout, bounds: v.bounds, activation });
  };
}

/**
 * A unary ONNX op that works in any layout. Sigmoid's quantized output always has scale 1/256 by the
 * format's convention, so clipping it to that range would only cut the top 1/256 and never reflects training.
 */
function unary(onnxOp: string, bounds: Interval, quantizedClip: boolean): OpRule {
  return (op, ctx) => {
    const v = ctx.value(op.inputs[0]);
    const out = ctx.node(
      onnxOp,
      [v.name],
      [],
      `${sanitize(ctx.tensor(op.outputs[0]).name)}/${onnxOp.toLowerCase()}`,
    );
    ctx.defineOutput(op, { value: out, layout: v.layout, bounds, quantizedClip });
  };
}

/**
 * QUANTIZE and DEQUANTIZE: in real numbers both are the identity (up to the clip of a quantized output).
 * A DEQUANTIZE of stored weights, as float16 models have, folds into a constant for the op that reads it.
 */
const requantize: OpRule = (op, ctx) => {
  const [input] = op.inputs;
  if (ctx.isConstant(input)) {
    ctx.foldConstant(op.outputs[0], ctx.constant(input, op, 'input'));
    return;
  }
  const v = ctx.value(input);
  ctx.defineOutput(op, { value: v.name, layout: v.layout, bounds: v.bounds });
};

export const elementwiseRules = {
  ADD: binary('Add'),
  MUL: binary('Mul'),
  RELU: clamp(Activation.RELU),
  RELU6: clamp(Activation.RELU6),
  RELU_N1_TO_1: clamp(Activation.RELU_N1_TO_1),
  LOGISTIC: unary('Sigmoid', [0, 1], false),
  HARD_SWISH: unary('HardSwish', [-0.375, Infinity], true),
  QUANTIZE: requantize,
  DEQUANTIZE: requantize,
} satisfies Record<string, OpRule>;
