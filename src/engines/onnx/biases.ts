/**
 * The biases FullGrad (Srinivas & Fleuret 2019) reads: every constant added on the path from the input to
 * the scores (a Conv's or Gemm's bias, a BatchNormalization's β − γμ/√(σ² + ε), an Add or Sub of a constant)
 * with the tensor it is added into. For a network of such layers and positively homogeneous ops (ReLU, max
 * pooling, reshapes), f(x) = ∇ₓf · x + Σ over the biases of Σ ∂f/∂z ⊙ b (the full-gradient decomposition,
 * the paper's eq. 2), so the bias-gradients are read here and the method checks that sum.
 */
import type { BiasGradient } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';
import { attrFloat, attrInt, constantNodeTensor, tensorNumbers } from './autodiff/attributes.js';
import { differentiablePath } from './autodiff/index.js';
import type { ModelProto, NodeProto, TensorProto } from './proto.js';

export interface BiasTerm {
  /** The tensor the bias is added into. */
  readonly layer: string;
  readonly op: string;
  readonly values: Float32Array;
  /**
   * 'channel': one value per channel of axis 1 (Conv, BatchNormalization); else the bias's own dims, which
   * broadcast against the layer's as ONNX's multidirectional broadcasting says (trailing axes align).
   */
  readonly dims: 'channel' | readonly number[];
}

/** The bias terms on the path from `input` to `output`, in graph order. */
export function biasTerms(proto: ModelProto, input: string, output: string): BiasTerm[] {
  const graph = proto.graph ?? {};
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) constants.set(t.name, t);
  for (const node of graph.node ?? []) {
    const t = node.opType === 'Constant' ? constantNodeTensor(node) : undefined;
    if (t && node.output?.[0]) constants.set(node.output[0], t);
  }
  const path = differentiablePath(proto, input, [output]);
  const value = (name: string | undefined) => {
    const t = name ? constants.get(name) : undefined;
    return t && { values: Float32Array.from(tensorNumbers(t)), dims: (t.dims ?? []).map(Number) };
  };
  const terms: BiasTerm[] = [];
  for (const node of path.nodes) {
    const term = biasOf(node, value, (name) => path.active.has(name));
    if (term) terms.push(term);
  }
  return terms;
}

type Read = (name: string | undefined) => { values: Float32Array; dims: number[] } | undefined;

function biasOf(node: NodeProto, value: Read, active: (name: string) => boolean): BiasTerm | undefined {
  const inputs = node.input ?? [];
  const layer = node.output?.[0];
  if (!layer) return undefined;
  const op = node.opType;
  // Only the first input may carry the gradient: a weight computed from the input is no bias layer.
  if (inputs.slice(1).some(active) && op !== 'Add' && op !== 'Sub') return undefined;
  switch (op) {
    case 'Conv': {
      const b = value(inputs[2]);
      return b && { layer, op, values: b.values, dims: 'channel' };
    }
    case 'Gemm': {
      const b = value(inputs[2]);
      const beta = attrFloat(node, 'beta', 1);
      return b && { layer, op, values: b.values.map((v) => v * beta), dims: b.dims };
    }
    case 'BatchNormalization': {
      const [scale, shift, mean, variance] = [1, 2, 3, 4].map((i) => value(inputs[i]));
      if (!scale || !shift || !mean || !variance || attrInt(node, 'training_mode', 0) === 1) return undefined;
      const eps = attrFloat(node, 'epsilon', 1e-5);
      const values = shift.values.map(
        (b, c) => b - (scale.values[c] * mean.values[c]) / Math.sqrt(variance.values[c] + eps),
      );
      return { layer, op, values, dims: 'channel' };
    }
    case 'Add':
    case 'Sub': {
      const [a, b] = inputs;
      // x + c, c + x and x − c add a constant; c − x negates x, so its c is a bias too.
      const constant = active(a) && !active(b) ? value(b) : !active(a) && active(b) ? value(a) : undefined;
      if (!constant) return undefined;
      const negate = op === 'Sub' && active(a);
      return {
        layer,
        op,
        values: negate ? constant.values.map((v) => -v) : constant.values,
        dims: constant.dims,
      };
    }
    default:
      return undefined;
  }
}

/** Each term's layer gradient times its bias, broadcast to the layer's shape. */
export function biasGradientsOf(terms: readonly BiasTerm[], gradients: readonly Tensor[]): BiasGradient[] {
  return terms.map((term, i) => {
    const g = gradients[i];
    return { layer: term.layer, op: term.op, gradients: { data: timesBias(g, term), dims: g.dims } };
  });
}

function timesBias(g: Tensor, term: BiasTerm): Float32Array {
  const out = new Float32Array(g.data.length);
  const dims = g.dims;
  if (term.dims === 'channel') {
    const channels = dims[1] ?? 1;
    const inner = dims.slice(2).reduce((a, b) => a * b, 1);
    for (let i = 0; i < out.length; i++) out[i] = g.data[i] * term.values[Math.floor(i / inner) % channels];
    return out;
  }
  // Trailing axes align; a bias axis of 1 (or one it lacks) repeats, any other matches the layer's.
  const lead = dims.length - term.dims.length;
  const strides = dims.map(() => 0);
  let stride = 1;
  for (let j = term.dims.length - 1; j >= 0; j--) {
    if (term.dims[j] !== 1 && j + lead >= 0) strides[j + lead] = stride;
    stride *= term.dims[j];
  }
  const index = dims.map(() => 0);
  for (let i = 0; i < out.length; i++) {
    let k = 0;
    for (let a = 0; a < dims.length; a++) k += index[a] * strides[a];
    out[i] = g.data[i] * term.values[k];
    for (let a = dims.length - 1; a >= 0; a--) {
      if (++index[a] < dims[a]) break;
      index[a] = 0;
    }
  }
  return out;
}
