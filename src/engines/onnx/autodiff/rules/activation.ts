/**
 * Pointwise activations. Piecewise rules follow PyTorch at the kinks (ReLU, ReLU6/hardtanh and LeakyReLU
 * pass no slope-1 gradient at exactly 0 or at the clip bounds) so maps agree with autograd.
 */
import { attr } from '../../proto.js';
import { attrFloat, attrString } from '../attributes.js';
import { type GradientContext, unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';

function where(ctx: GradientContext, condition: string, yes: string, no: string): string {
  return ctx.emit('Where', [condition, yes, no]);
}

function positive(ctx: GradientContext, x: string): string {
  return ctx.emit('Greater', [x, ctx.scalar(0)]);
}

/**
 * dy where a condition holds, else 0, as dy · cast(condition) in the type of `like` (a forward tensor of dy's
 * type): ONNX Runtime's Where broadcasts the scalar zero through its general ternary path, slower than
 * Cast + Mul (MobileNetV2's gradient, batch 16: backward ÷ forward 3.9–4.2 → 2.4–3.3 with the output-read
 * masks below). Unlike Where, an infinite dy at a masked position would give NaN; seeds are finite.
 * Exact forms measured slower or no faster (scripts/bench-backward-profile.ts, 1 thread, batch 1 and 16):
 * Where with a [1] zero (1.15× on a [16, 96, 112²] ReLU6 mask), Sign(y) for ReLU (1.35×), Sign(y(6 − y))
 * (1.55×) and Clip(y, lo⁺, hi⁻) = y for ReLU6 (same); masks built from ONNX Runtime's blocked-layout ops
 * (1×1 depthwise Convs with a clipped steep slope, so no layout change sits around the mask) made
 * MobileNetV2's gradient 1.2× slower; computing the boolean masks during the forward pass (a Shape-only
 * dependency that moves them in ORT's execution order) changed nothing beyond noise.
 */
function keep(ctx: GradientContext, condition: string, dy: string, like: string): string {
  return ctx.mul(dy, ctx.emit('Cast', [condition], [attr('to', ctx.elementType(like))]));
}

/**
 * ReLU′(x) = 1 for x > 0, else 0, read from the output (y > 0 exactly when x > 0): with the pre-activation
 * left to the ReLU alone, ONNX Runtime still fuses Conv + ReLU in the forward part of the gradient graph.
 */
export const relu: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  return [keep(ctx, positive(ctx, y), dy!, y)];
};

/**
 * Clip′(x) = 1 strictly inside (min, max) (hardtanh's rule, which ReLU6 uses); bounds come from inputs
 * (opset 11+) or attributes (before), and a missing bound does not clip.
 */
export const clip: GradientRule = (node, [dy], ctx) => {
  const bound = (index: number, name: string): string | undefined => {
    const input = node.input![index];
    if (input) {
      if (ctx.isActive(input))
        throw unsupported(node, 'clip bounds computed from the input are not supported');
      return input;
    }
    const value = attrFloat(node, name, Number.NaN);
    return Number.isNaN(value) ? undefined : ctx.scalar(value);
  };
  const lo = bound(1, 'min');
  const hi = bound(2, 'max');
  // Read from the output, as ReLU does: lo < y < hi exactly when lo < x < hi, since y = min(max(x, lo), hi).
  const y = node.output![0];
  const above = lo ? ctx.emit('Greater', [y, lo]) : undefined;
  const below = hi ? ctx.emit('Less', [y, hi]) : undefined;
  const inside = above && below ? ctx.emit('And', [above, below]) : (above ?? below);
  return [inside ? keep(ctx, inside, dy!, y) : dy];
};

/** LeakyReLU′(x) = 1 for x > 0, else alpha. */
export const leakyRelu: GradientRule = (node, [dy], ctx) => [
  where(ctx, positive(ctx, node.input![0]), dy!, ctx.mul(dy!, ctx.scalar(attrFloat(node, 'alpha', 0.01)))),
];

/** PReLU′(x) = 1 for x > 0, else the (broadcast) slope. */
export const prelu: GradientRule = (node, [dy], ctx) => {
  const [x, slope] = node.input!;
  if (ctx.isActive(slope)) throw unsupported(node, 'a slope computed from the input is not supported');
  return [where(ctx, positive(ctx, x), dy!, ctx.mul(dy!, slope))];
};

/** σ′ = y(1 − y). */
export const sigmoid: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  return [ctx.mul(dy!, ctx.mul(y, ctx.emit('Sub', [ctx.scalar(1), y])))];
};

/** tanh′ = 1 − y². */
export const tanh: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  return [ctx.mul(dy!, ctx.emit('Sub', [ctx.scalar(1), ctx.mul(y, y)]))];
};

/** y = clamp(alpha·x + beta, 0, 1): slope alpha where the output is strictly between 0 and 1. */
export const hardSigmoid: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  const inside = ctx.emit('And', [
    ctx.emit('Greater', [y, ctx.scalar(0)]),
    ctx.emit('Less', [y, ctx.scalar(1)]),
  ]);
  return [where(ctx, inside, ctx.mul(dy!, ctx.scalar(attrFloat(node, 'alpha', 0.2))), ctx.scalar(0))];
};

/** y = x·clamp(x/6 + 1/2, 0, 1): y′ = 0 below −3, 1 above 3, x/3 + 1/2 between (PyTorch's hardswish_backward). */
export const hardSwish: GradientRule = (node, [dy], ctx) => {
  const x = node.input![0];
  const middle = ctx.mul(dy!, ctx.emit('Add', [ctx.mul(x, ctx.scalar(1 / 3)), ctx.scalar(0.5)]));
  const upper = where(ctx, ctx.emit('Greater', [x, ctx.scalar(3)]), dy!, middle);
  return [where(ctx, ctx.emit('Less', [x, ctx.scalar(-3)]), ctx.scalar(0), upper)];
};

/** ELU′(x) = 1 for x > 0, else alpha·eˣ = y + alpha. */
export const elu: GradientRule = (node, [dy], ctx) => {
  const y = node.output![0];
  const alpha = ctx.scalar(attrFloat(node, 'alpha', 1));
  return [where(ctx, positive(ctx, node.input![0]), dy!, ctx.mul(dy!, ctx.emit('Add', [y, alpha])))];
};

/** erf′(x) = 2/√π · e^(−x²). */
export const erf: GradientRule = (node, [dy], ctx) => {
  const x = node.input![0];
  const gauss = ctx.emit('Exp', [ctx.emit('Neg', [ctx.mul(x, x)])]);
  return [ctx.mul(dy!, ctx.mul(gauss, ctx.scalar(2 / Math.sqrt(Math.PI))))];
};

/**
 * GELU (opset 20). Exact: y = x·Φ(x), y′ = Φ(x) + x·φ(x). Tanh approximation: y = x/2·(1 + tanh u) with
 * u = √(2/π)(x + 0.044715x³), y′ = (1 + tanh u)/2 + x/2·(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
 */
export const gelu: GradientRule = (node, [dy], ctx) => {
  const x = node.input![0];
  const s = (v: number) => ctx.scalar(v);
  const add = (a: string, b: string) => ctx.emit('Add', [a, b]);
  const x2 = ctx.mul(x, x);
  if (attrString(node, 'approximate', 'none') === 'tanh') {
    const c = Math.sqrt(2 / Math.PI);
    const u = ctx.mul(ctx.mul(x, add(s(1), ctx.mul(x2, s(0.044715)))), s(c));
    const t = ctx.emit('Tanh', [u]);
    const first = ctx.mul(add(s(1), t), s(0.5));
    const sech2 = ctx.emit('Sub', [s(1), ctx.mul(t, t)]);
    const du = ctx.mul(add(s(1), ctx.mul(x2, s(3 * 0.044715))), s(c));
    const second = ctx.mul(ctx.mul(ctx.mul(x, s(0.5)), sech2), du);
    return [ctx.mul(dy!, add(first, second))];
  }
  const cdf = ctx.mul(add(s(1), ctx.emit('Erf', [ctx.mul(x, s(Math.SQRT1_2))])), s(0.5));
  const pdf = ctx.mul(ctx.emit('Exp', [ctx.mul(x2, s(-0.5))]), s(1 / Math.sqrt(2 * Math.PI)));
  return [ctx.mul(dy!, add(cdf, ctx.mul(x, pdf)))];
};
