/** Matrix products: Gemm and MatMul (with NumPy-style batch broadcasting). */
import { attr } from '../../proto.js';
import { attrFloat, attrInt } from '../attributes.js';
import { unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';

/**
 * Y = alpha·A′B′ + beta·C with A′ = transA ? Aᵀ : A, B′ likewise. dA′ = alpha·dY·B′ᵀ and dB′ = alpha·A′ᵀ·dY,
 * each written as one Gemm whose trans flags absorb the transposes.
 */
export const gemm: GradientRule = (node, [dy], ctx) => {
  const [a, b, c] = node.input!;
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const transA = attrInt(node, 'transA', 0);
  const transB = attrInt(node, 'transB', 0);
  // C became optional at opset 11; before, a scalar 0 stands in.
  const none = ctx.opset >= 11 ? [] : [ctx.scalar(0)];
  const product = (left: string, right: string, tl: number, tr: number) =>
    ctx.emit(
      'Gemm',
      [left, right, ...none],
      [attr('alpha', alpha, 'float'), attr('transA', tl), attr('transB', tr)],
    );
  const da = ctx.isActive(a)
    ? transA === 0
      ? product(dy!, b, 0, transB === 1 ? 0 : 1)
      : product(b, dy!, transB, 1)
    : undefined;
  const db = ctx.isActive(b)
    ? transB === 0
      ? product(a, dy!, transA === 1 ? 0 : 1, 0)
      : product(dy!, a, 1, transA)
    : undefined;
  const dc = ctx.isActive(c)
    ? ctx.unbroadcast(beta === 1 ? dy! : ctx.mul(dy!, ctx.scalar(beta)), c, node.output![0])
    : undefined;
  return [da, db, dc];
};

/** Y = A·B: dA = dY·Bᵀ and dB = Aᵀ·dY, summed back over broadcast batch axes. */
export const matMul: GradientRule = (node, [dy], ctx) => {
  const [a, b] = node.input!;
  const y = node.output![0];
  const rankA = ctx.rank(a);
  const rankB = ctx.rank(b);
  if (rankA < 2 || (rankB < 2 && ctx.isActive(b))) {
    throw unsupported(node, 'a 1-D operand that carries a gradient is not supported');
  }
  let da: string | undefined;
  if (ctx.isActive(a)) {
    if (rankB === 1) {
      // Y[…, m] = Σ_k A[…, m, k]·b[k], so dA[…, m, k] = dY[…, m]·b[k].
      da = ctx.mul(ctx.unsqueeze(dy!, [rankA - 1]), b);
    } else {
      // Over a weight, ONNX Runtime folds the Transpose once as the session loads (and a swapped weight,
      // session.ts withWeights, is transposed anew).
      const bt = ctx.emit('Transpose', [b], [attr('perm', swapLast(rankB))]);
      da = ctx.unbroadcast(ctx.emit('MatMul', [dy!, bt]), a, y, 2);
    }
  }
  const db = ctx.isActive(b)
    ? ctx.unbroadcast(
        ctx.emit('MatMul', [ctx.emit('Transpose', [a], [attr('perm', swapLast(rankA))]), dy!]),
        b,
        y,
        2,
      )
    : undefined;
  return [da, db];
};

function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}
