/** Reductions: ReduceSum, ReduceMean, ReduceMax, and the global pools, which reduce every spatial axis. */
import { attr, DataType, type NodeProto } from '../../proto.js';
import { attrInt, attrInts } from '../attributes.js';
import { type GradientContext, unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';

/** The reduced axes, sorted and non-negative; undefined when the node reduces nothing (noop_with_empty_axes). */
function reducedAxes(node: NodeProto, ctx: GradientContext): number[] | undefined {
  const rank = ctx.rank(node.input![0]);
  const fromInput = node.input![1] ? ctx.requireConstant(node, 1, 'axes').data : undefined;
  const axes = fromInput ?? attrInts(node, 'axes') ?? [];
  if (axes.length === 0) {
    return attrInt(node, 'noop_with_empty_axes', 0) === 1
      ? undefined
      : Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** The output gradient with the reduced axes restored as 1s, ready to broadcast over the input. */
function keptDims(node: NodeProto, dy: string, axes: readonly number[], ctx: GradientContext): string {
  return attrInt(node, 'keepdims', 1) === 1 ? dy : ctx.unsqueeze(dy, axes);
}

function spread(ctx: GradientContext, gradient: string, x: string): string {
  return ctx.emit('Expand', [gradient, ctx.emit('Shape', [x])]);
}

/** Each input element adds once to its reduction: dx = dy broadcast back. */
export const reduceSum: GradientRule = (node, [dy], ctx) => {
  const axes = reducedAxes(node, ctx);
  if (!axes) return [dy];
  return [spread(ctx, keptDims(node, dy!, axes, ctx), node.input![0])];
};

/** dx = dy broadcast back, divided by the number of elements each mean averages. */
export const reduceMean: GradientRule = (node, [dy], ctx) => {
  const axes = reducedAxes(node, ctx);
  if (!axes) return [dy];
  return [meanGradient(node, dy!, axes, ctx)];
};

function meanGradient(node: NodeProto, dy: string, axes: readonly number[], ctx: GradientContext): string {
  const x = node.input![0];
  const shape = ctx.shape(x);
  if (axes.some((a) => shape.batch[a]))
    throw unsupported(node, 'averaging over the batch axis is not supported');
  const count = axes.reduce((n, a) => n * shape.dims[a], 1);
  return spread(ctx, ctx.mul(keptDims(node, dy, axes, ctx), ctx.scalar(1 / count)), x);
}

/**
 * The gradient flows to the elements equal to the maximum, shared equally among ties (PyTorch's amax rule;
 * ties are rare in float activations except for runs of zeros after ReLU).
 */
export const reduceMax: GradientRule = (node, [dy], ctx) => {
  const axes = reducedAxes(node, ctx);
  if (!axes) return [dy];
  return [maxGradient(node, dy!, keptDims(node, node.output![0], axes, ctx), axes, ctx)];
};

function maxGradient(
  node: NodeProto,
  dy: string,
  maximum: string,
  axes: readonly number[],
  ctx: GradientContext,
): string {
  const x = node.input![0];
  const hits = ctx.emit('Cast', [ctx.emit('Equal', [x, maximum])], [attr('to', DataType.FLOAT)]);
  const share = ctx.emit('Div', [keptDims(node, dy, axes, ctx), ctx.reduceSum(hits, axes, true)]);
  return ctx.mul(hits, share);
}

function spatialAxes(ctx: GradientContext, x: string): number[] {
  return Array.from({ length: ctx.rank(x) - 2 }, (_, i) => i + 2);
}

export const globalAveragePool: GradientRule = (node, [dy], ctx) => [
  meanGradient(node, dy!, spatialAxes(ctx, node.input![0]), ctx),
];

export const globalMaxPool: GradientRule = (node, [dy], ctx) => [
  maxGradient(node, dy!, node.output![0], spatialAxes(ctx, node.input![0]), ctx),
];
