/** BatchNormalization (inference) and LayerNormalization. */
import { attrFloat, attrInt } from '../attributes.js';
import { unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';

/**
 * Inference BN is a per-channel affine map: dx = dy · scale / √(var + ε). The factor is computed by nodes over
 * the parameters, which ONNX Runtime folds into one constant as the session loads, so a graph whose weights
 * are swapped (the sanity check's randomized models, session.ts withWeights) differentiates the new ones.
 */
export const batchNormalization: GradientRule = (node, [dy], ctx) => {
  if (attrInt(node, 'training_mode', 0) === 1) throw unsupported(node, 'training mode is not supported');
  if ([1, 2, 3, 4].some((i) => ctx.isActive(node.input![i]))) {
    throw unsupported(node, 'parameters computed from the input are not supported');
  }
  const epsilon = ctx.scalar(attrFloat(node, 'epsilon', 1e-5));
  const std = ctx.emit('Sqrt', [ctx.emit('Add', [node.input![4], epsilon])]);
  const factor = ctx.emit('Div', [node.input![1], std]);
  const trailing = new Array<number>(ctx.rank(node.input![0]) - 2).fill(1);
  const shaped = trailing.length > 0 ? ctx.emit('Reshape', [factor, ctx.ints([-1, ...trailing])]) : factor;
  return [ctx.mul(dy!, shaped)];
};

/**
 * y = x̂·scale + bias with x̂ = (x − μ)·r, r = 1/√(σ² + ε) over the axes from `axis` on. With g = dy·scale,
 * dx = r·(g − mean(g) − x̂·mean(g·x̂)). μ and r are recomputed (cheap next to the convolutions).
 */
export const layerNormalization: GradientRule = (node, dy, ctx) => {
  const [x, scale] = node.input!;
  if (dy[1] || dy[2])
    throw unsupported(node, 'gradients through its Mean or InvStdDev outputs are not supported');
  if (ctx.isActive(scale) || ctx.isActive(node.input![2])) {
    throw unsupported(node, 'scale or bias computed from the input are not supported');
  }
  const rank = ctx.rank(x);
  const given = attrInt(node, 'axis', -1);
  const first = given < 0 ? given + rank : given;
  const axes = Array.from({ length: rank - first }, (_, i) => first + i);
  const centred = ctx.emit('Sub', [x, ctx.reduceMean(x, axes)]);
  const variance = ctx.reduceMean(ctx.mul(centred, centred), axes);
  const epsilon = ctx.scalar(attrFloat(node, 'epsilon', 1e-5));
  const r = ctx.emit('Reciprocal', [ctx.emit('Sqrt', [ctx.emit('Add', [variance, epsilon])])]);
  const normalised = ctx.mul(centred, r);
  const g = ctx.mul(dy[0]!, scale);
  const meanG = ctx.reduceMean(g, axes);
  const meanGx = ctx.reduceMean(ctx.mul(g, normalised), axes);
  const inner = ctx.emit('Sub', [ctx.emit('Sub', [g, meanG]), ctx.mul(normalised, meanGx)]);
  return [ctx.mul(r, inner)];
};
