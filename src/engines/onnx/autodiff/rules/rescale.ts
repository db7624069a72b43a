/**
 * DeepLIFT's Rescale rule (Shrikumar, Greenside & Kundaje, "Learning Important Features Through Propagating
 * Activation Differences", ICML 2017, §3.3), as Captum's DeepLift computes it: the batch holds the inputs in
 * its first half and their references in the second, and each elementwise nonlinearity passes
 * dy · (f(x) − f(x₀)) / (x − x₀) to both halves instead of dy · f′(x), falling back to the exact rule where
 * |x − x₀| < 1e-6 (Captum's eps is 1e-10, below float32's resolution of typical activations). Linear ops keep
 * their exact rules, which are their multipliers already. MaxPool and Softmax follow Captum's rules for them
 * (below). LogSoftmax keeps its exact gradient, as in Captum (nn.LogSoftmax is not in its table), and so do
 * products of two activations (SiLU's x·σ(x)), so summation-to-delta holds exactly only for networks whose
 * nonlinearities are all among the ops below (rescaled: Relu, Clip, LeakyRelu, PRelu, Sigmoid, Tanh,
 * HardSigmoid, HardSwish, Elu, Erf, Gelu; MaxPool). Captum's softmax rule is a heuristic: it does not keep
 * summation-to-delta either (see rescaledSoftmax).
 */
import { attr } from '../../proto.js';
import type { GradientContext } from '../context.js';
import type { GradientRule, ModifiedRule, RuleOverrides } from '../rule.js';
import {
  clip,
  elu,
  erf,
  gelu,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  prelu,
  relu,
  sigmoid,
  tanh,
} from './activation.js';
import { maxPool } from './pool.js';
import { normalisedAxes, softmax } from './softmax.js';

const EPS = 1e-6;

/** The first and second halves of a batch of 2n along axis 0: the inputs and their references. */
function halves(ctx: GradientContext, t: string): [string, string] {
  const batch = ctx.slice(ctx.emit('Shape', [t]), [0], [1], [0]);
  const half = ctx.emit('Div', [batch, ctx.ints([2])]);
  return [
    ctx.emit('Slice', [t, ctx.ints([0]), half, ctx.ints([0])]),
    ctx.emit('Slice', [t, half, batch, ctx.ints([0])]),
  ];
}

const twice = (ctx: GradientContext, t: string) => ctx.emit('Concat', [t, t], [attr('axis', 0)]);

/** t[:n] − t[n:] for a batch of 2n, repeated for both halves (as Captum's hooks do). */
function halfDifference(ctx: GradientContext, t: string): string {
  return twice(ctx, ctx.emit('Sub', halves(ctx, t)));
}

/** numerator / (x − x₀) where |x − x₀| ≥ eps, else the exact gradient. */
function divideByInputDelta(ctx: GradientContext, x: string, numerator: string, exact: string): string {
  const dIn = halfDifference(ctx, x);
  const near = ctx.emit('Less', [ctx.emit('Abs', [dIn]), ctx.scalar(EPS)]);
  const safe = ctx.emit('Where', [near, ctx.scalar(1), dIn]);
  return ctx.emit('Where', [near, exact, ctx.emit('Div', [numerator, safe])]);
}

const rescaled =
  (exact: GradientRule): GradientRule =>
  (node, dy, ctx) => {
    const dx = [...exact(node, dy, ctx)];
    const numerator = ctx.mul(dy[0]!, halfDifference(ctx, node.output![0]));
    dx[0] = divideByInputDelta(ctx, node.input![0], numerator, dx[0]!);
    return dx;
  };

/**
 * Captum's maxpool rule: with m = max(y, y₀), the input's window maximum carries dy·(m − y₀) and the
 * reference's carries dy·(y − m) (each scattered through its own argmax), the two summed and divided by
 * x − x₀; so a window's attributions add up to dy·(y − y₀) whichever element won in either image.
 */
const rescaledMaxPool: GradientRule = (node, dy, ctx) => {
  const [exact] = maxPool(node, dy, ctx);
  const [y, y0] = halves(ctx, node.output![0]);
  const top = ctx.emit('Max', [y, y0]);
  const dOut = ctx.emit('Concat', [ctx.emit('Sub', [top, y0]), ctx.emit('Sub', [y, top])], [attr('axis', 0)]);
  const [unpooled] = maxPool(node, [ctx.mul(dy[0]!, dOut)], ctx);
  const numerator = twice(ctx, ctx.emit('Add', halves(ctx, unpooled!)));
  return [divideByInputDelta(ctx, node.input![0], numerator, exact!)];
};

/**
 * Captum's softmax rule (captum/attr/_core/deep_lift.py, `softmax`): Softmax's multipliers taken as if it
 * were elementwise, dy · (y − y₀) / (x − x₀) (the exact gradient where x ≈ x₀), then their mean subtracted.
 * The exact gradient of a softmax sums to 0 over its group because a constant added to all its inputs
 * changes nothing; subtracting the mean gives the multipliers that property too. Where every input is near
 * its reference the multipliers are the exact gradient, whose mean is already 0.
 *
 * Captum subtracts one number for the whole tensor: the mean over every element of the hook's grad_input,
 * which is the batch of 2n rows (inputs and references, alike away from the fallback when dy is). For one
 * input, one reference and a softmax over the classes of [N, C] that is the mean over the C classes, which is
 * what we compute. We take the mean over each softmax group instead (the normalised axes, per row): with
 * n > 1 pairs in a batch (DeepLiftShap's references) Captum's mean mixes the pairs, so a pair's attributions
 * would depend on which others share its batch, and a softmax over the last axis of [N, H, T, T] (attention)
 * has one invariance per row of T, not one for the whole tensor.
 *
 * Summation-to-delta does not follow. With m̃ the multipliers before the mean is taken off, dy the
 * multipliers from above and Δ the differences from the reference, Σᵢ mᵢΔxᵢ = Σᵢ dyᵢΔyᵢ − mean(m̃)·Σᵢ Δxᵢ
 * (away from the fallback): off by the mean times the sum of the input differences, 0 only where that sum
 * is. The exact gradient is off by softmax's curvature instead. test/unit/deeplift-softmax.test.ts measures
 * both.
 */
const rescaledSoftmax: GradientRule = (node, dy, ctx) => {
  const [unnormalised] = rescaled(softmax)(node, dy, ctx);
  const mean = ctx.reduceMean(unnormalised!, normalisedAxes(node, ctx));
  return [ctx.emit('Sub', [unnormalised!, mean])];
};

const EXACT: Record<string, GradientRule> = {
  Relu: relu,
  Clip: clip,
  LeakyRelu: leakyRelu,
  PRelu: prelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Elu: elu,
  Erf: erf,
  Gelu: gelu,
};

export const DEEPLIFT_RESCALE: RuleOverrides = {
  name: 'deeplift',
  changes: `the backward pass of elementwise nonlinearities (${Object.keys(EXACT).join(', ')}), MaxPool and Softmax`,
  // A network without nonlinearities is linear: its multipliers are its gradient, and DeepLIFT is exact.
  optional: true,
  // 1: Softmax follows Captum's rule (it kept its gradient before).
  revision: 1,
  rules: {
    ...Object.fromEntries(
      Object.entries(EXACT).map(([op, rule]): [string, ModifiedRule] => [op, { rule: rescaled(rule) }]),
    ),
    MaxPool: { rule: rescaledMaxPool },
    Softmax: { rule: rescaledSoftmax },
  },
};
