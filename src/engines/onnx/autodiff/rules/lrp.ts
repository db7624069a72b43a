/**
 * Layer-wise relevance propagation (Bach et al. 2015; Montavon et al., "Layer-Wise Relevance Propagation: An
 * Overview", 2019) as rule overrides: relevance at any tensor t is t ⊙ g_t with g the modified gradient, so
 * the method's map is x ⊙ g at the input. Linear layers take the rules of lrp-layers.ts; ReLU's exact gradient
 * passes relevance on (R_in = z·[z > 0]·g = R_out); max pooling's exact gradient is winner-take-all (the
 * window's maximum takes the whole relevance), average and global average pooling's exact gradient is the
 * proportional rule x_i / Σ x · R; additions of two activations split relevance by their shares; scaling by a
 * constant keeps it. Ops whose relevance would mean nothing — a softmax or normalisation inside the network,
 * products or quotients of two activations (gates, attention, SiLU), smooth activations that have no LRP rule
 * — are refused in words rather than drawn.
 */
import type { NodeProto } from '../../proto.js';
import { type GradientContext, unsupported } from '../context.js';
import type { GradientRule, ModifiedRule, RuleOverrides } from '../rule.js';
import { graphIndex, isFolded, isLayer, type LayerRule, layerGradient, ratio } from './lrp-layers.js';
import { batchNormalization } from './normalization.js';

/** zennit's defaults (EpsilonGammaBox: ε = 1e-6 for dense layers, γ = 0.25 for convolutions). */
const EPSILON: LayerRule = { kind: 'epsilon', epsilon: 1e-6 };
const GAMMA: LayerRule = { kind: 'gamma', gamma: 0.25 };

interface Composite {
  readonly conv: LayerRule;
  /** The rule of the first layer on the input's path (default: the conv or dense rule). */
  readonly first?: LayerRule;
}

const LINEAR_OPS = new Set(['Conv', 'Gemm', 'MatMul']);

/**
 * Whether no linear layer lies between the input and this node's first input: the first layer, which zβ
 * treats. Walks the producers of active tensors (memoized per transform).
 */
const firstLayers = new WeakMap<GradientContext, Map<string, boolean>>();
function isFirstLayer(node: NodeProto, ctx: GradientContext): boolean {
  const memo = firstLayers.get(ctx) ?? new Map<string, boolean>();
  firstLayers.set(ctx, memo);
  const { producer } = graphIndex(ctx);
  const clean = (tensor: string): boolean => {
    const known = memo.get(tensor);
    if (known !== undefined) return known;
    const p = producer.get(tensor);
    // Set before recursing: graphs are acyclic, and this stops a second walk over shared branches.
    memo.set(tensor, true);
    const result =
      p === undefined ||
      ((!LINEAR_OPS.has(p.opType) || !isLayer(p, ctx)) &&
        (p.input ?? []).filter((i) => ctx.isActive(i)).every(clean));
    memo.set(tensor, result);
    return result;
  };
  return clean(node.input![0]);
}

const refuse =
  (why: string): GradientRule =>
  (node) => {
    throw unsupported(node, `LRP has no rule for it (${why}), so relevance through it would mean nothing`);
  };

/** Applies where two operands carry a gradient: a product of activations, not a scaling. */
const twoActive = (node: NodeProto, ctx: GradientContext) =>
  (node.input ?? []).filter((i) => ctx.isActive(i)).length > 1;

const REFUSED: Record<string, string> = {
  Softmax: 'a softmax inside the network; explain the logits',
  LogSoftmax: 'a softmax inside the network; explain the logits',
  LayerNormalization: 'it divides by a statistic of its input',
  Sigmoid: 'a smooth activation',
  Tanh: 'a smooth activation',
  Gelu: 'a smooth activation',
  Erf: 'a smooth activation',
  Elu: 'a smooth activation',
  HardSigmoid: 'a smooth activation',
  HardSwish: 'a product of an activation and its input',
  Exp: 'a nonlinearity of its input',
  Log: 'a nonlinearity of its input',
  Pow: 'a nonlinearity of its input',
  Sqrt: 'a nonlinearity of its input',
  Reciprocal: 'a nonlinearity of its input',
};

function lrpRules(name: string, composite: Composite): RuleOverrides {
  const layer: GradientRule = (node, [dy], ctx) => {
    const rule =
      composite.first && isFirstLayer(node, ctx)
        ? composite.first
        : node.opType === 'Conv'
          ? composite.conv
          : EPSILON;
    if (!isLayer(node, ctx)) {
      return refuse('a product of two activations, or a weight before the activation (W·x), has no rule')(
        node,
        [dy],
        ctx,
      );
    }
    const dx: (string | undefined)[] = node.input!.map(() => undefined);
    dx[0] = layerGradient(node, dy!, ctx, rule);
    return dx;
  };
  const product: ModifiedRule = { rule: refuse('a product of two activations'), applies: twoActive };
  return {
    name,
    changes: 'the backward pass of convolutions and dense layers (Conv, Gemm, MatMul)',
    rules: {
      Conv: { rule: layer },
      Gemm: { rule: layer },
      MatMul: { rule: layer },
      // A folded BN passes dy on (its Conv redistributes the BN's relevance); another is an ε layer of its own.
      BatchNormalization: {
        rule: (node, dy, ctx) =>
          isFolded(node, ctx)
            ? [dy[0]]
            : batchNormalization(node, [epsilonScaled(ctx, dy[0]!, node.output![0])], ctx),
      },
      // Gemm/MatMul of two activations (attention) and Mul/Div of two (gates) have no rule.
      ...Object.fromEntries(['Mul', 'Div'].map((op): [string, ModifiedRule] => [op, product])),
      ...Object.fromEntries(
        Object.entries(REFUSED).map(([op, why]): [string, ModifiedRule] => [op, { rule: refuse(why) }]),
      ),
    },
  };
}

/** dy ⊙ y / stab(y): an elementwise affine layer's ε rule before its exact gradient. */
const epsilonScaled = (ctx: GradientContext, dy: string, y: string) => ratio(ctx, ctx.mul(dy, y), y);

export const LRP_EPSILON = lrpRules('lrp-epsilon', { conv: EPSILON });
export const LRP_GAMMA = lrpRules('lrp-gamma', { conv: GAMMA });
export const LRP_ZPLUS = lrpRules('lrp-zplus', { conv: { kind: 'zplus' } });
export const LRP_ALPHA2_BETA1 = lrpRules('lrp-alpha2-beta1', {
  conv: { kind: 'alpha-beta', alpha: 2, beta: 1 },
});
export const LRP_ALPHA1_BETA0 = lrpRules('lrp-alpha1-beta0', {
  conv: { kind: 'alpha-beta', alpha: 1, beta: 0 },
});
/** zennit's EpsilonGammaBox: zβ for the first layer, γ = 0.25 for the other convolutions, ε for dense layers. */
export const LRP_COMPOSITE = lrpRules('lrp-composite', { conv: GAMMA, first: { kind: 'zbeta' } });
