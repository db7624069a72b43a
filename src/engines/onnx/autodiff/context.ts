/**
 * What a gradient rule sees: the forward graph's constants and shapes, and helpers that append backward
 * nodes at the model's opset (several ops moved attributes to inputs at opset 13).
 */
import { SightlineError } from '../../../core/errors.js';
import {
  type AttributeProto,
  attr,
  DataType,
  floatTensor,
  int64Tensor,
  type NodeProto,
  type TensorProto,
  tensorFloats,
} from '../proto.js';
import { constantNodeTensor, tensorNumbers } from './attributes.js';
import type { TensorShape } from './shapes.js';

export interface ConstantValue {
  readonly dims: readonly number[];
  /** The values as plain numbers: for indices, axes and other small parameters. */
  readonly data: readonly number[];
  /**
   * The values as float32, unboxed: for weights (a conv kernel read as plain numbers cost seconds in
   * boxing and garbage collection on InceptionV3). A float32 tensor's own values, others converted.
   */
  readonly floats: Float32Array;
  /**
   * Whether an initializer or Constant node holds it, so nodes over it are folded by ONNX Runtime when the
   * session loads; a value the forward graph computes from constants (e.g. a DequantizeLinear, which ONNX
   * Runtime leaves unfolded) is not.
   */
  readonly stored: boolean;
}

/**
 * A constant whose values are read on first use, in the form asked for: most rules need only a weight's
 * dims or name, and turning every weight of a large model into plain numbers up front cost seconds
 * (InceptionV3: 24M floats).
 */
function lazyConstant(t: TensorProto): ConstantValue {
  let data: number[] | undefined;
  let floats: Float32Array | undefined;
  return {
    dims: (t.dims ?? []).map(Number),
    stored: true,
    get data() {
      data ??= tensorNumbers(t);
      return data;
    },
    get floats() {
      floats ??= t.dataType === DataType.FLOAT ? tensorFloats(t) : Float32Array.from(this.data);
      return floats;
    },
  };
}

/** A constant already known as numbers (a probed value). */
function knownConstant(dims: readonly number[], data: readonly number[]): ConstantValue {
  let floats: Float32Array | undefined;
  return {
    dims,
    data,
    stored: false,
    get floats() {
      floats ??= Float32Array.from(data);
      return floats;
    },
  };
}

export class GradientContext {
  /** The backward nodes, in the order they were emitted (already topological). */
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly constants = new Map<string, ConstantValue>();
  private readonly shared = new Map<string, string>();
  private counter = 0;

  constructor(
    /** The default-domain opset the backward nodes are written for. */
    readonly opset: number,
    private readonly shapes: ReadonlyMap<string, TensorShape>,
    private readonly active: ReadonlySet<string>,
    private readonly types: ReadonlyMap<string, number>,
    initializers: readonly TensorProto[],
    /** The forward graph's nodes (rules that read a layer's neighbours: LRP's first layer, BN folding). */
    readonly forwardNodes: readonly NodeProto[],
    probedValues: ReadonlyMap<string, number[]>,
    private readonly taken: Set<string>,
  ) {
    for (const t of initializers) if (t.name) this.constants.set(t.name, lazyConstant(t));
    for (const node of forwardNodes) {
      const t = node.opType === 'Constant' ? constantNodeTensor(node) : undefined;
      const out = node.output?.[0];
      if (t && out) this.constants.set(out, lazyConstant(t));
    }
    for (const [name, data] of probedValues) {
      const shape = shapes.get(name);
      if (!this.constants.has(name) && shape) this.constants.set(name, knownConstant(shape.dims, data));
    }
  }

  /** Whether a forward tensor carries a gradient (float and computed from the input). */
  isActive(name: string | undefined): boolean {
    return name !== undefined && name !== '' && this.active.has(name);
  }

  /** A forward tensor's element type (a DataType), float32 when unknown. */
  elementType(name: string): number {
    return this.types.get(name) ?? DataType.FLOAT;
  }

  /** A forward tensor's shape (dims at batch 1, and which dims follow the batch). */
  shape(name: string): TensorShape {
    const constant = this.constants.get(name);
    const s =
      this.shapes.get(name) ?? (constant && { dims: constant.dims, batch: constant.dims.map(() => false) });
    if (!s)
      throw new SightlineError('MODEL_SHAPE', `No shape is known for tensor '${name}'.`, { tensor: name });
    return s;
  }

  rank(name: string): number {
    return this.shape(name).dims.length;
  }

  /** A forward tensor's value when it does not depend on the input, else undefined. */
  constant(name: string | undefined): ConstantValue | undefined {
    return name ? this.constants.get(name) : undefined;
  }

  /**
   * Names a tensor the backward nodes compute from constants (a rule's modified weights, such as LRP's w⁺)
   * as a constant of `dims`, so the exact rules take it as a weight. Its values stay in the graph (so they
   * follow swapped weights, session.ts withWeights): the linear rules read only a weight's name and dims.
   */
  derive(name: string, dims: readonly number[]): void {
    const missing = (): never => {
      throw new SightlineError('UNSUPPORTED_OP', `The values of '${name}' are computed in the graph.`, {
        tensor: name,
      });
    };
    this.constants.set(name, {
      dims,
      stored: false,
      get data() {
        return missing();
      },
      get floats() {
        return missing();
      },
    });
  }

  /** A constant input the rule cannot do without; a clear error when the graph computes it from the input. */
  requireConstant(node: NodeProto, index: number, what: string): ConstantValue {
    const value = this.constant(node.input?.[index]);
    if (!value) throw unsupported(node, `its ${what} (input ${index}) must be a constant`);
    return value;
  }

  /** A fresh tensor name that collides with nothing in the model. */
  fresh(hint: string): string {
    for (;;) {
      const name = `sightline_grad/${hint}_${this.counter++}`;
      if (!this.taken.has(name)) {
        this.taken.add(name);
        return name;
      }
    }
  }

  /** Appends a node and returns its outputs. */
  emitMany(
    opType: string,
    inputs: readonly string[],
    outputs: number,
    attributes: AttributeProto[] = [],
  ): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      name: names[0],
      input: [...inputs],
      output: names,
      ...(attributes.length > 0 ? { attribute: attributes } : {}),
    });
    return names;
  }

  emit(opType: string, inputs: readonly string[], attributes: AttributeProto[] = []): string {
    return this.emitMany(opType, inputs, 1, attributes)[0];
  }

  /** A float32 initializer (scalars of equal value are shared). */
  floats(data: readonly number[] | Float32Array, dims: readonly number[] = [data.length]): string {
    const key = dims.length === 0 ? `f:${data[0]}` : undefined;
    const cached = key && this.shared.get(key);
    if (cached) return cached;
    const name = this.fresh('const');
    this.initializers.push(
      floatTensor(name, dims, data instanceof Float32Array ? data : Float32Array.from(data)),
    );
    if (key) this.shared.set(key, name);
    return name;
  }

  scalar(value: number): string {
    return this.floats([value], []);
  }

  /** An int64 initializer (shared between equal values). */
  ints(data: readonly number[], dims: readonly number[] = [data.length]): string {
    const key = `i:${dims.join('x')}:${data.join(',')}`;
    const cached = this.shared.get(key);
    if (cached) return cached;
    const name = this.fresh('ints');
    this.initializers.push(int64Tensor(name, dims, data));
    this.shared.set(key, name);
    return name;
  }

  mul(a: string, b: string): string {
    return this.emit('Mul', [a, b]);
  }

  /** ReduceSum over `axes` (attribute before opset 13, input from 13). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    const k = attr('keepdims', keepdims ? 1 : 0);
    return this.opset >= 13
      ? this.emit('ReduceSum', [x, this.ints(axes)], [k])
      : this.emit('ReduceSum', [x], [attr('axes', [...axes]), k]);
  }

  /** ReduceMean over `axes`, keeping them (attribute before opset 18, input from 18). */
  reduceMean(x: string, axes: readonly number[]): string {
    const k = attr('keepdims', 1);
    return this.opset >= 18
      ? this.emit('ReduceMean', [x, this.ints(axes)], [k])
      : this.emit('ReduceMean', [x], [attr('axes', [...axes]), k]);
  }

  squeeze(x: string, axes: readonly number[]): string {
    if (axes.length === 0) return x;
    return this.opset >= 13
      ? this.emit('Squeeze', [x, this.ints(axes)])
      : this.emit('Squeeze', [x], [attr('axes', [...axes])]);
  }

  unsqueeze(x: string, axes: readonly number[]): string {
    if (axes.length === 0) return x;
    return this.opset >= 13
      ? this.emit('Unsqueeze', [x, this.ints(axes)])
      : this.emit('Unsqueeze', [x], [attr('axes', [...axes])]);
  }

  /** Slice along `axes` (inputs form, opset 10+). */
  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[]): string {
    return this.emit('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes)]);
  }

  /** Zero-pads (or, with negative amounts, crops) with ONNX's [begins…, ends…] layout. */
  pad(x: string, pads: readonly number[]): string {
    if (pads.every((p) => p === 0)) return x;
    return this.opset >= 11
      ? this.emit('Pad', [x, this.ints(pads)])
      : this.emit('Pad', [x], [attr('pads', [...pads])]);
  }

  /** Zeros shaped like a forward or backward tensor. */
  zerosLike(x: string): string {
    return this.emit(
      'ConstantOfShape',
      [this.emit('Shape', [x])],
      [attr('value', floatTensor('zero', [1], new Float32Array([0])))],
    );
  }

  /** Reshapes `x` to the run-time shape of `like` (exact whatever the batch size). */
  reshapeLike(x: string, like: string): string {
    return this.emit('Reshape', [x, this.emit('Shape', [like])]);
  }

  /**
   * Sums a gradient over the axes that broadcasting stretched, so it takes the shape of the operand
   * `target` (multidirectional broadcasting: trailing axes align; an operand's 1 stretches to the output).
   * The last `matrixAxes` axes are left alone (MatMul's matrix axes do not broadcast).
   */
  unbroadcast(gradient: string, target: string, output: string, matrixAxes = 0): string {
    const out = this.shape(output);
    const t = this.shape(target);
    const lead = out.dims.length - t.dims.length;
    const axes: number[] = [];
    for (let i = 0; i < out.dims.length - matrixAxes; i++) {
      if (i < lead) axes.push(i);
      else if (sizeAtTwo(t, i - lead) === 1 && sizeAtTwo(out, i) !== 1) axes.push(i);
    }
    const summed = this.reduceSum(gradient, axes, true);
    return this.squeeze(
      summed,
      axes.filter((a) => a < lead),
    );
  }
}

/** A dimension's size at batch size 2, which tells a broadcast 1 from a batch of one. */
function sizeAtTwo(s: TensorShape, i: number): number {
  return s.batch[i] ? s.dims[i] * 2 : s.dims[i];
}

/** The error for a node whose op has a rule that does not cover this use. */
export function unsupported(node: NodeProto, why: string): SightlineError {
  const name = node.name || node.output?.[0] || '?';
  return new SightlineError(
    'UNSUPPORTED_OP',
    `Cannot compute gradients through op '${node.opType}' (node '${name}'): ${why}.`,
    { op: node.opType, node: name },
  );
}
