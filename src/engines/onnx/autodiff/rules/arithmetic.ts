/** Elementwise arithmetic with multidirectional broadcasting; each operand's gradient is summed back to its shape. */
import { attr, DataType } from '../../proto.js';
import { unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';

export const add: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.input!;
  const y = node.output![0];
  return [
    ctx.isActive(a) ? ctx.unbroadcast(dy!, a, y) : undefined,
    ctx.isActive(b) ? ctx.unbroadcast(dy!, b, y) : undefined,
  ];
};

export const sub: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.input!;
  const y = node.output![0];
  return [
    ctx.isActive(a) ? ctx.unbroadcast(dy!, a, y) : undefined,
    ctx.isActive(b) ? ctx.unbroadcast(ctx.emit('Neg', [dy!]), b, y) : undefined,
  ];
};

/** d(ab) = b·da + a·db. */
export const mul: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.input!;
  const y = node.output![0];
  return [
    ctx.isActive(a) ? ctx.unbroadcast(ctx.mul(dy!, b), a, y) : undefined,
    ctx.isActive(b) ? ctx.unbroadcast(ctx.mul(dy!, a), b, y) : undefined,
  ];
};

/** d(a/b) = da/b − (a/b)·db/b, and a/b is the forward output y. */
export const div: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.input!;
  const y = node.output![0];
  const da = ctx.isActive(a) || ctx.isActive(b) ? ctx.emit('Div', [dy!, b]) : undefined;
  return [
    ctx.isActive(a) ? ctx.unbroadcast(da!, a, y) : undefined,
    ctx.isActive(b) ? ctx.unbroadcast(ctx.emit('Neg', [ctx.mul(da!, y)]), b, y) : undefined,
  ];
};

/** d(a^p) = p·a^(p−1)·da for a constant exponent p. */
export const pow: GradientRule = (node, [dy], ctx) => {
  const [a, p] = node.input!;
  if (ctx.isActive(p)) throw unsupported(node, 'only a constant exponent is supported');
  // In the graph rather than baked, so a swapped exponent (session.ts withWeights) is read; folded at load.
  // Cast whatever the exponent's type (an integer exponent is allowed), as the baked float32 values were.
  const factor = ctx.emit('Cast', [p], [attr('to', DataType.FLOAT)]);
  const minusOne = ctx.emit('Sub', [factor, ctx.scalar(1)]);
  const local = ctx.mul(factor, ctx.emit('Pow', [a, minusOne]));
  return [ctx.unbroadcast(ctx.mul(dy!, local), a, node.output![0])];
};

/** d√a = da / (2√a) = 0.5·da / y. */
export const sqrt: GradientRule = (node, [dy], ctx) => [
  ctx.emit('Div', [ctx.mul(dy!, ctx.scalar(0.5)), node.output![0]]),
];

/** d(1/a) = −da/a² = −y²·da. */
export const reciprocal: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  return [ctx.emit('Neg', [ctx.mul(dy!, ctx.mul(y, y))])];
};

export const neg: GradientRule = (_node, [dy], ctx) => [ctx.emit('Neg', [dy!])];

/** d e^a = e^a·da = y·da. */
export const exp: GradientRule = (node, [dy], ctx) => [ctx.mul(dy!, node.output![0])];

/** d ln a = da / a. */
export const log: GradientRule = (node, [dy], ctx) => [ctx.emit('Div', [dy!, node.input![0]])];

/** d|a| = sign(a)·da (0 at 0, as in PyTorch). */
export const abs: GradientRule = (node, [dy], ctx) => [ctx.mul(dy!, ctx.emit('Sign', [node.input![0]]))];
