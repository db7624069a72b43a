/** Ops that only move or relabel values: their gradient moves the output gradient back. */
import { attr } from '../../proto.js';
import { attrInts } from '../attributes.js';
import type { GradientRule } from '../rule.js';

/** Identity and Dropout (inference: identity) pass the gradient through. */
export const passThrough: GradientRule = (_node, [dy]) => [dy];

/** Cast between float types: the gradient is cast back to the input's type. */
export const cast: GradientRule = (node, [dy], ctx) => {
  const from = ctx.elementType(node.input![0]);
  return [from === ctx.elementType(node.output![0]) ? dy : ctx.emit('Cast', [dy!], [attr('to', from)])];
};

/** Flatten, Reshape, Squeeze, Unsqueeze: the gradient takes the input's run-time shape back. */
export const reshapeBack: GradientRule = (node, [dy], ctx) => [ctx.reshapeLike(dy!, node.input![0])];

/** Transpose by perm: undo it with the inverse permutation. */
export const transpose: GradientRule = (node, [dy], ctx) => {
  const rank = ctx.rank(node.input![0]);
  const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return [ctx.emit('Transpose', [dy!], [attr('perm', inverse)])];
};

/** Expand broadcasts its input: sum the gradient back over the stretched axes. */
export const expand: GradientRule = (node, [dy], ctx) => [
  ctx.unbroadcast(dy!, node.input![0], node.output![0]),
];
