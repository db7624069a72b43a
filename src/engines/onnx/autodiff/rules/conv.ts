/** Conv: the input gradient only (weights are constants), as stride-1 convolutions (see conv-geometry.ts). */
import { attrInt, attrInts, attrString } from '../attributes.js';
import { unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';
import { beginPads, convInputGradient } from './conv-geometry.js';

export const conv: GradientRule = (node, [dy], ctx) => {
  const [x, w, bias] = node.input!;
  if (ctx.isActive(w) || ctx.isActive(bias)) {
    throw unsupported(node, 'weights or bias computed from the input are not supported');
  }
  const weights = ctx.requireConstant(node, 1, 'weight');
  const xShape = ctx.shape(x);
  const kernel = weights.dims.slice(2);
  const rank = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(rank).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(rank).fill(1);
  const inSize = xShape.dims.slice(2);
  if (xShape.batch.slice(1).some(Boolean)) throw unsupported(node, 'only the batch axis may vary in size');
  const padsBegin = beginPads(attrString(node, 'auto_pad', 'NOTSET'), attrInts(node, 'pads'), {
    inSize,
    kernel,
    strides,
    dilations,
  });
  const geometry = {
    inSize,
    outSize: ctx.shape(node.output![0]).dims.slice(2),
    kernel,
    strides,
    dilations,
    padsBegin,
  };
  return [convInputGradient(ctx, dy!, geometry, { ...weights, group: attrInt(node, 'group', 1) })];
};
