/**
 * Softmax and LogSoftmax. From opset 13 they normalise along `axis` (default −1); before, the input is
 * coerced to 2-D at `axis` (default 1) and normalised over all axes from `axis` on.
 */
import type { NodeProto } from '../../proto.js';
import { attrInt } from '../attributes.js';
import type { GradientContext } from '../context.js';
import type { GradientRule } from '../rule.js';

export function normalisedAxes(node: NodeProto, ctx: GradientContext): number[] {
  const rank = ctx.rank(node.input![0]);
  const given = attrInt(node, 'axis', ctx.opset >= 13 ? -1 : 1);
  const axis = given < 0 ? given + rank : given;
  return ctx.opset >= 13 ? [axis] : Array.from({ length: rank - axis }, (_, i) => axis + i);
}

/** y = softmax(x): dx = y ⊙ (dy − Σ dy ⊙ y). */
export const softmax: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  const dot = ctx.reduceSum(ctx.mul(dy!, y), normalisedAxes(node, ctx), true);
  return [ctx.mul(y, ctx.emit('Sub', [dy!, dot]))];
};

/** y = log softmax(x): dx = dy − eʸ ⊙ Σ dy. */
export const logSoftmax: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  const total = ctx.reduceSum(dy!, normalisedAxes(node, ctx), true);
  return [ctx.emit('Sub', [dy!, ctx.mul(ctx.emit('Exp', [y]), total)])];
};
