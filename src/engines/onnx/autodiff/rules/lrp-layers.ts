/**
 * LRP's rules for one linear layer (Conv, Gemm, MatMul over a constant weight), written as modified
 * gradients: with R = y ⊙ dy the relevance at the layer's output y, a rule with weights ρ(w) passes
 * dx = backward_ρ(w)(R / stab(z_ρ)), z_ρ = forward(x, ρ(w), ρ(b)), so x ⊙ dx is the relevance
 * x_i Σ_j ρ(w_ij) R_j / z_ρ,j of Montavon et al. 2019 (eqs. 3–5). stab(z) = z + ε·sign(z), sign(0) = 1,
 * as zennit's stabilizer. A BatchNormalization that alone reads a Conv's output is folded into it
 * (w·a, (b − μ)·a + β with a = γ/√(σ² + ε)): the layer's output is then the BN's, and the BN passes dy on.
 */
import { attr, type NodeProto } from '../../proto.js';
import { attrFloat } from '../attributes.js';
import type { GradientContext } from '../context.js';
import { conv } from './conv.js';
import { gemm, matMul } from './linear.js';

export type LayerRule =
  | { kind: 'epsilon'; epsilon: number }
  | { kind: 'gamma'; gamma: number }
  | { kind: 'zplus' }
  | { kind: 'alpha-beta'; alpha: number; beta: number }
  | { kind: 'zbeta' };

/** zennit's default stabilizer for every rule but ε's own ε. */
const STABILIZER = 1e-6;

const EXACT = { Conv: conv, Gemm: gemm, MatMul: matMul } as const;

/** The ops LRP treats as linear layers, when their weight is a constant. */
export function isLayer(node: NodeProto, ctx: GradientContext): boolean {
  const [x, w] = node.input ?? [];
  return node.opType in EXACT && ctx.isActive(x) && !ctx.isActive(w) && ctx.constant(w) !== undefined;
}

interface Layer {
  readonly node: NodeProto;
  readonly x: string;
  /** The weight as the layer computes with it (BN folded in). */
  readonly w: string;
  readonly dims: readonly number[];
  readonly bias?: string;
  /** The tensor whose relevance the layer redistributes: its output, or the folded BN's. */
  readonly out: string;
}

/** Where the graph's tensors come from and go (built once per transform). */
interface Index {
  readonly producer: Map<string, NodeProto>;
  readonly consumers: Map<string, NodeProto[]>;
}
const indexes = new WeakMap<GradientContext, Index>();

export function graphIndex(ctx: GradientContext): Index {
  let index = indexes.get(ctx);
  if (!index) {
    index = { producer: new Map(), consumers: new Map() };
    for (const n of ctx.forwardNodes) {
      for (const o of n.output ?? []) if (o) index.producer.set(o, n);
      for (const i of n.input ?? []) if (i) index.consumers.set(i, [...(index.consumers.get(i) ?? []), n]);
    }
    indexes.set(ctx, index);
  }
  return index;
}

/** The BatchNormalization folded into this Conv: the only reader of its output, in inference mode, constant parameters. */
export function foldedNorm(node: NodeProto, ctx: GradientContext): NodeProto | undefined {
  if (node.opType !== 'Conv') return undefined;
  const readers = graphIndex(ctx).consumers.get(node.output![0]) ?? [];
  const bn = readers.length === 1 ? readers[0] : undefined;
  if (bn?.opType !== 'BatchNormalization' || bn.input![0] !== node.output![0]) return undefined;
  if ((bn.output ?? []).filter(Boolean).length > 1) return undefined;
  return [1, 2, 3, 4].every((i) => ctx.constant(bn.input![i])) ? bn : undefined;
}

/** Whether a BN is one a Conv folds (so its own rule passes the gradient on unchanged). */
export function isFolded(bn: NodeProto, ctx: GradientContext): boolean {
  const conv = graphIndex(ctx).producer.get(bn.input![0]);
  return conv !== undefined && foldedNorm(conv, ctx) === bn;
}

function layerOf(node: NodeProto, ctx: GradientContext): Layer {
  const [x, w, b] = node.input!;
  const dims = ctx.constant(w)!.dims;
  const bias = b || undefined;
  const bn = foldedNorm(node, ctx);
  if (!bn) return { node, x, w, dims, bias, out: node.output![0] };
  const [, scale, shift, mean, variance] = bn.input!;
  const std = ctx.emit('Sqrt', [ctx.emit('Add', [variance, ctx.scalar(attrFloat(bn, 'epsilon', 1e-5))])]);
  const a = ctx.emit('Div', [scale, std]);
  const column = ctx.emit('Reshape', [a, ctx.ints([-1, ...dims.slice(1).map(() => 1)])]);
  const centred = bias ? ctx.emit('Sub', [bias, mean]) : ctx.emit('Neg', [mean]);
  return {
    node,
    x,
    w: weight(ctx, ctx.mul(w, column), dims),
    dims,
    bias: ctx.emit('Add', [ctx.mul(centred, a), shift]),
    out: bn.output![0],
  };
}

/** A computed weight, registered so the exact rules take it. */
function weight(ctx: GradientContext, name: string, dims: readonly number[]): string {
  ctx.derive(name, dims);
  return name;
}

const positive = (ctx: GradientContext, t: string) => ctx.emit('Relu', [t]);
const negative = (ctx: GradientContext, t: string) =>
  ctx.emit('Neg', [ctx.emit('Relu', [ctx.emit('Neg', [t])])]);

/** The layer's op over other inputs and weights (no bias when `bias` is undefined). */
function forward(ctx: GradientContext, layer: Layer, x: string, w: string, bias?: string): string {
  const { node } = layer;
  const inputs = node.opType === 'MatMul' ? [x, w] : [x, w, ...(bias ? [bias] : [])];
  if (node.opType === 'Gemm' && !bias && ctx.opset < 11) inputs.push(ctx.scalar(0));
  const out = ctx.emit(node.opType, inputs, node.attribute ?? []);
  // MatMul takes no bias: a layer's bias (Gemm's C) enters by an Add.
  return node.opType === 'MatMul' && bias ? ctx.emit('Add', [out, bias]) : out;
}

/** The input gradient of the layer's op with weight `w`, for the output gradient `s`. */
function backward(ctx: GradientContext, layer: Layer, w: string, s: string): string {
  const { node } = layer;
  const rule = EXACT[node.opType as keyof typeof EXACT];
  return rule({ ...node, input: [layer.x, w] }, [s], ctx)[0]!;
}

function stabilized(ctx: GradientContext, z: string, epsilon: number): string {
  // sign(z) with sign(0) = 1: 2·[z ≥ 0] − 1.
  const sign = ctx.emit('Sub', [
    ctx.mul(
      ctx.emit('Cast', [ctx.emit('Not', [ctx.emit('Less', [z, ctx.scalar(0)])])], [attr('to', 1)]),
      ctx.scalar(2),
    ),
    ctx.scalar(1),
  ]);
  return ctx.emit('Add', [z, ctx.mul(sign, ctx.scalar(epsilon))]);
}

export const ratio = (ctx: GradientContext, r: string, z: string, epsilon = STABILIZER) =>
  ctx.emit('Div', [r, stabilized(ctx, z, epsilon)]);

/** The modified input gradient of a layer under `rule`. */
export function layerGradient(node: NodeProto, dy: string, ctx: GradientContext, rule: LayerRule): string {
  const layer = layerOf(node, ctx);
  const relevance = ctx.mul(dy, layer.out);
  const modified = (f: (t: string) => string) => weight(ctx, f(layer.w), layer.dims);
  switch (rule.kind) {
    case 'epsilon': {
      const s = ratio(ctx, relevance, layer.out, rule.epsilon);
      return backward(ctx, layer, layer.w, s);
    }
    case 'gamma':
    case 'zplus': {
      const rho = (t: string) =>
        rule.kind === 'zplus'
          ? positive(ctx, t)
          : ctx.emit('Add', [t, ctx.mul(positive(ctx, t), ctx.scalar(rule.gamma))]);
      const w = modified(rho);
      // z⁺ drops the bias (Montavon et al. 2019, §10.2.3); γ raises its positive part with the weights'.
      const bias = rule.kind === 'gamma' && layer.bias ? rho(layer.bias) : undefined;
      const s = ratio(ctx, relevance, forward(ctx, layer, layer.x, w, bias));
      return backward(ctx, layer, w, s);
    }
    case 'alpha-beta': {
      // (x w)⁺ = x⁺w⁺ + x⁻w⁻ and (x w)⁻ = x⁺w⁻ + x⁻w⁺ (Bach et al. 2015, eq. 60; biases left out, as zennit).
      const wp = modified((t) => positive(ctx, t));
      const wn = modified((t) => negative(ctx, t));
      const xp = positive(ctx, layer.x);
      const xn = negative(ctx, layer.x);
      const upper = ctx.emit('Add', [forward(ctx, layer, xp, wp), forward(ctx, layer, xn, wn)]);
      const lower = ctx.emit('Add', [forward(ctx, layer, xp, wn), forward(ctx, layer, xn, wp)]);
      const sUp = ratio(ctx, relevance, upper);
      const sLow = ratio(ctx, relevance, lower);
      // x ⊙ ([x > 0]·b⁺ + [x < 0]·b⁻) is x⁺·b⁺ + x⁻·b⁻, so each part is masked by the input's sign.
      const isPositive = ctx.emit('Cast', [ctx.emit('Greater', [layer.x, ctx.scalar(0)])], [attr('to', 1)]);
      const isNegative = ctx.emit('Cast', [ctx.emit('Less', [layer.x, ctx.scalar(0)])], [attr('to', 1)]);
      const signed = (s: string, onPositive: string, onNegative: string) =>
        ctx.emit('Add', [
          ctx.mul(isPositive, backward(ctx, layer, onPositive, s)),
          ctx.mul(isNegative, backward(ctx, layer, onNegative, s)),
        ]);
      return ctx.emit('Sub', [
        ctx.mul(signed(sUp, wp, wn), ctx.scalar(rule.alpha)),
        ctx.mul(signed(sLow, wn, wp), ctx.scalar(rule.beta)),
      ]);
    }
    case 'zbeta':
      return zBeta(ctx, layer, relevance);
  }
}

/**
 * zβ (Montavon et al. 2017, "Deep Taylor Decomposition", eq. for bounded inputs): R_i = Σ_j (x_i w_ij −
 * l_i w⁺_ij − h_i w⁻_ij) / z_j · R_j. The batch holds x, l and h in thirds (model.ts BackwardRules), so the rule
 * writes g for the x rows and −g⁺, −g⁻ for the l and h rows: Σ over the thirds of input ⊙ gradient is R.
 */
function zBeta(ctx: GradientContext, layer: Layer, relevance: string): string {
  const wp = weight(ctx, positive(ctx, layer.w), layer.dims);
  const wn = weight(ctx, negative(ctx, layer.w), layer.dims);
  const [x, low, high] = thirds(ctx, layer.x);
  const [r] = thirds(ctx, relevance);
  const z = ctx.emit('Sub', [
    ctx.emit('Sub', [forward(ctx, layer, x, layer.w), forward(ctx, layer, low, wp)]),
    forward(ctx, layer, high, wn),
  ]);
  const s = ratio(ctx, r, z);
  // The exact rules read the layer's shapes from its own input's name; the sliced x has the same.
  const part = (w: string) => backward(ctx, layer, w, s);
  return ctx.emit(
    'Concat',
    [part(layer.w), ctx.emit('Neg', [part(wp)]), ctx.emit('Neg', [part(wn)])],
    [attr('axis', 0)],
  );
}

/** The three thirds of a batch of 3n along axis 0. */
export function thirds(ctx: GradientContext, t: string): [string, string, string] {
  const batch = ctx.slice(ctx.emit('Shape', [t]), [0], [1], [0]);
  const third = ctx.emit('Div', [batch, ctx.ints([3])]);
  const twoThirds = ctx.emit('Mul', [third, ctx.ints([2])]);
  const part = (from: string, to: string) => ctx.emit('Slice', [t, from, to, ctx.ints([0])]);
  return [part(ctx.ints([0]), third), part(third, twoThirds), part(twoThirds, batch)];
}
