/**
 * DeepLIFT's Rescale rule (Shrikumar, Greenside & Kundaje, "Learning Important Features Through Propagating
 * Activation Differences", ICML 2017, §3.3), as Captum's DeepLift computes it: the batch holds the inputs in
 * its first half and their references in the second, and each elementwise nonlinearity passes
 * dy · (f(x) − f(x₀)) / (x − x₀) to both halves instead of dy · f′(x), falling back to the exact rule where
 * |x − x₀| < 1e-6 (Captum's eps is 1e-10, below float32's resolution of typical activations). Linear ops keep
 * their exact rules, which are their multipliers already. MaxPool follows Captum's maxpool rule (below).
 * Softmax and products of two activations (SiLU's x·σ(x)) keep their exact gradients, so summation-to-delta
 * holds exactly only for networks whose nonlinearities are all among the ops below (rescaled: Relu, Clip,
 * LeakyRelu, PRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Elu, Erf, Gelu; MaxPool).
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
  changes: `the backward pass of elementwise nonlinearities (${Object.keys(EXACT).join(', ')}) and MaxPool`,
  // A network without nonlinearities is linear: its multipliers are its gradient, and DeepLIFT is exact.
  optional: true,
  rules: {
    ...Object.fromEntries(
      Object.entries(EXACT).map(([op, rule]): [string, ModifiedRule] => [op, { rule: rescaled(rule) }]),
    ),
    MaxPool: { rule: rescaledMaxPool },
  },
};
