/**
 * Linear maps that act along one axis, y = M·x with M [out, in] (interpolation, reflection padding): the
 * gradient applies Mᵀ along that axis as one constant MatMul.
 */
import { attr } from '../../proto.js';
import type { GradientContext } from '../context.js';

export /** Contracts `axis` of the gradient with M: dx[…, i, …] = Σ_o M[o, i]·dy[…, o, …]. */
function applyTransposed(
  ctx: GradientContext,
  gradient: string,
  m: Float32Array,
  size: number,
  outSize: number,
  axis: number,
  rank: number,
): string {
  if (axis === rank - 1) return ctx.emit('MatMul', [gradient, ctx.floats(m, [outSize, size])]);
  const mt = new Float32Array(size * outSize);
  for (let o = 0; o < outSize; o++) for (let i = 0; i < size; i++) mt[i * outSize + o] = m[o * size + i];
  if (axis === rank - 2) return ctx.emit('MatMul', [ctx.floats(mt, [size, outSize]), gradient]);
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[axis], perm[rank - 1]] = [perm[rank - 1], perm[axis]];
  const moved = ctx.emit('Transpose', [gradient], [attr('perm', perm)]);
  const product = ctx.emit('MatMul', [moved, ctx.floats(m, [outSize, size])]);
  return ctx.emit('Transpose', [product], [attr('perm', perm)]);
}
