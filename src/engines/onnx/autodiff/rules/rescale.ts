/**
 * DeepLIFT's Rescale rule (Shrikumar, Greenside & Kundaje, "Learning Important Features Through Propagating
 * Activation Differences", ICML 2017, §3.3), as Captum's DeepLift computes it: the batch holds the inputs in
 * its first half and their references in the second, and each elementwise nonlinearity passes
 * dy · (f(x) − f(x₀)) / (x − x₀) to both halves instead of dy · f′(x), falling back to the exact rule where
 * |x − x₀| < 1e-6 (Captum's eps is 1e-10, below float32's resolution of typical activations). Linear ops keep
 * their exact rules, which are their multipliers already. Max pooling, softmax and products of two activations
 * (SiLU's x·σ(x)) keep their exact gradients too, so summation-to-delta holds exactly only for networks whose
 * nonlinearities are all among the ops below (rescaled: Relu, Clip, LeakyRelu, PRelu, Sigmoid, Tanh,
 * HardSigmoid, HardSwish, Elu, Erf, Gelu).
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

const EPS = 1e-6;

/** t[:n] − t[n:] for a batch of 2n, repeated for both halves (as Captum's hooks do). */
function halfDifference(ctx: GradientContext, t: string): string {
  const batch = ctx.slice(ctx.emit('Shape', [t]), [0], [1], [0]);
  const half = ctx.emit('Div', [batch, ctx.ints([2])]);
  const first = ctx.emit('Slice', [t, ctx.ints([0]), half, ctx.ints([0])]);
  const second = ctx.emit('Slice', [t, half, batch, ctx.ints([0])]);
  const d = ctx.emit('Sub', [first, second]);
  return ctx.emit('Concat', [d, d], [attr('axis', 0)]);
}

const rescaled =
  (exact: GradientRule): GradientRule =>
  (node, dy, ctx) => {
    const dx = [...exact(node, dy, ctx)];
    const dIn = halfDifference(ctx, node.input![0]);
    const dOut = halfDifference(ctx, node.output![0]);
    const near = ctx.emit('Less', [ctx.emit('Abs', [dIn]), ctx.scalar(EPS)]);
    const safe = ctx.emit('Where', [near, ctx.scalar(1), dIn]);
    const multiplier = ctx.emit('Div', [dOut, safe]);
    dx[0] = ctx.emit('Where', [near, dx[0]!, ctx.mul(dy[0]!, multiplier)]);
    return dx;
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
  changes: `the backward pass of elementwise nonlinearities (${Object.keys(EXACT).join(', ')})`,
  // A network without nonlinearities is linear: its multipliers are its gradient, and DeepLIFT is exact.
  optional: true,
  rules: Object.fromEntries(
    Object.entries(EXACT).map(([op, rule]): [string, ModifiedRule] => [op, { rule: rescaled(rule) }]),
  ),
};
