/**
 * The ReLU-family backward rules of Guided Backprop (Springenberg et al. 2015, "Striving for Simplicity",
 * eq. in §3.4 / fig. 1) and DeconvNet (Zeiler & Fergus 2014), as Captum's GuidedBackprop and Deconvolution
 * implement them with module hooks: guided passes dy only where the forward input was positive and dy is
 * positive (the exact rule applied to ReLU(dy)); DeconvNet passes ReLU(dy) whatever the forward input was.
 *
 * Which ops count as ReLU-like: Relu; Clip with a lower bound of exactly 0 (ReLU6; other clips, hardtanh,
 * keep the exact rule); LeakyRelu and PRelu (guided: their exact slope applied to ReLU(dy), so the negative
 * side still passes alpha·dy⁺; DeconvNet: ReLU(dy)). Every other op, max pooling included (DeconvNet's
 * "switches" are the exact max-pool gradient), keeps its exact rule.
 */

import type { NodeProto } from '../../proto.js';
import { attrFloat } from '../attributes.js';
import type { GradientContext } from '../context.js';
import type { GradientRule, ModifiedRule, RuleOverrides } from '../rule.js';
import { clip, leakyRelu, prelu, relu } from './activation.js';

const positivePart = (ctx: GradientContext, dy: string | undefined) => ctx.emit('Relu', [dy!]);

/** The exact rule applied to ReLU(dy): the forward mask and the sign of the gradient together. */
const guided =
  (exact: GradientRule): GradientRule =>
  (node, [dy], ctx) =>
    exact(node, [positivePart(ctx, dy)], ctx);

/** ReLU(dy) alone: the forward mask is ignored. */
const deconv: GradientRule = (_node, [dy], ctx) => [positivePart(ctx, dy)];

/** Whether a Clip's lower bound is exactly 0 (ReLU6 and its kin), from its input (opset 11+) or attribute. */
function clipsAtZero(node: NodeProto, ctx: GradientContext): boolean {
  const input = node.input?.[1];
  if (input) return ctx.constant(input)?.data.length === 1 && ctx.constant(input)?.data[0] === 0;
  return attrFloat(node, 'min', Number.NaN) === 0;
}

const RELU_LIKE = 'Relu, Clip with a lower bound of 0 (ReLU6), LeakyRelu and PRelu';

export const GUIDED_BACKPROP: RuleOverrides = {
  name: 'guided-backprop',
  changes: `the backward pass of ReLU-like ops (${RELU_LIKE})`,
  rules: {
    Relu: { rule: guided(relu) },
    Clip: { rule: guided(clip), applies: clipsAtZero },
    LeakyRelu: { rule: guided(leakyRelu) },
    PRelu: { rule: guided(prelu) },
  } satisfies Record<string, ModifiedRule>,
};

export const DECONVNET: RuleOverrides = {
  name: 'deconvnet',
  changes: `the backward pass of ReLU-like ops (${RELU_LIKE})`,
  rules: {
    Relu: { rule: deconv },
    Clip: { rule: deconv, applies: clipsAtZero },
    LeakyRelu: { rule: deconv },
    PRelu: { rule: deconv },
  } satisfies Record<string, ModifiedRule>,
};
