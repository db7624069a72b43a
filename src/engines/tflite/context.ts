/**
 * The state of one conversion: the ONNX nodes and initializers written so far, and for each TFLite tensor the
 * ONNX value holding it (its name, layout and a known bound on its values). Op rules (ops/) read their inputs
 * and define their outputs through this class only.
 */
import { SightlineError } from '../../core/errors.js';
import { GraphWriter, sanitize } from '../onnx/graph-writer.js';

export { sanitize };

import { DataType, type NodeProto } from '../onnx/proto.js';
import { type Layout, shapeToNchw, transposeToNchw } from './layout.js';
import { biasScale, type QdqParams, qdqParams, rawTensor, requantize } from './qdq.js';
import { dequantize, type Interval, representableRange, UNBOUNDED } from './quantization.js';
import type { TfliteOperator, TfliteSubgraph, TfliteTensor } from './reader.js';
import { Activation } from './schema.js';

/** Which quantized tensors get a Clip to the range their integer type can represent (see convert.ts). */
export type QuantizedClips = 'except-scores' | 'all' | 'none';

/** Ops whose output holds the same scores as their input, reshaped or normalised. */
const SCORE_PRESERVING = new Set(['RESHAPE', 'SQUEEZE', 'SOFTMAX', 'QUANTIZE', 'DEQUANTIZE']);

export interface Value {
  readonly name: string;
  readonly layout: Layout;
  /** Every element lies in this interval (from a Relu or Clip upstream); used to skip redundant clips. */
  readonly bounds: Interval;
}

/** What an op rule produced for its output tensor, before the fused activation and quantized clip. */
export interface OpOutput {
  readonly value: string;
  readonly layout: Layout;
  /** What the raw value is known to stay within (e.g. a max pool keeps its input's bounds). */
  readonly bounds: Interval;
  /** The fused ActivationFunctionType (schema.ts); NONE when absent. */
  readonly activation?: number;
  /** False for outputs whose quantization is fixed by convention rather than learned (softmax, sigmoid). */
  readonly quantizedClip?: boolean;
}

export class ConversionContext extends GraphWriter {
  private readonly values = new Map<number, Value>();
  private readonly folded = new Map<number, Float32Array>();
  private readonly scores: ReadonlySet<number>;
  /** ONNX values holding a zero PAD's output → its spatial pads [top, left, bottom, right] (see ops/pool.ts). */
  private readonly zeroPads = new Map<string, readonly number[]>();
  /** Nodes written by the operator being converted; only their outputs may be renamed. */
  private opNodes: NodeProto[] = [];

  private readonly zeroPoints = new Map<string, string>();

  constructor(
    readonly graph: TfliteSubgraph,
    private readonly quantizedClips: QuantizedClips,
    /** Write the quantized (QDQ) form: see qdq.ts. */
    private readonly quantized = false,
  ) {
    super();
    this.scores = scoreTensors(graph);
  }

  tensor(index: number): TfliteTensor {
    return this.graph.tensors[index];
  }

  beginOperator(): void {
    this.opNodes = [];
  }

  // ── constants ──────────────────────────────────────────────────────────────────────────────────────

  isConstant(index: number): boolean {
    return this.folded.has(index) || this.tensor(index).data !== undefined;
  }

  /** The real values of a constant tensor, in TFLite order; throws naming the op when it is not constant. */
  constant(index: number, op: TfliteOperator, role: string): Float32Array {
    const folded = this.folded.get(index);
    if (folded) return folded;
    const t = this.tensor(index);
    if (t.data === undefined) {
      throw new SightlineError(
        'UNSUPPORTED_OP',
        `TFLite op '${op.name}' (operator #${op.index}) computes its ${role} '${t.name}' at run time; the converter needs it constant.`,
        { op: op.name, operator: op.index, tensor: t.name },
      );
    }
    return dequantize(t);
  }

  /** Integer constants such as axes, shapes and paddings (stored unquantized, so their values are exact). */
  constantInts(index: number, op: TfliteOperator, role: string): number[] {
    return Array.from(this.constant(index, op, role), Math.round);
  }

  /** Records that a tensor is constant, computed here instead of in the graph (e.g. a DEQUANTIZE of weights). */
  foldConstant(index: number, values: Float32Array): void {
    this.folded.set(index, values);
  }

  /** Records that ONNX value `name` is an image padded with zeros by `pads` [top, left, bottom, right]. */
  markZeroPadded(name: string, pads: readonly number[]): void {
    this.zeroPads.set(name, pads);
  }

  /** The spatial zero padding of value `name` (a PAD's output, or the same value passed on), if it is one. */
  zeroPadding(name: string): readonly number[] | undefined {
    return this.zeroPads.get(name);
  }

  // ── values ─────────────────────────────────────────────────────────────────────────────────────────

  /** Registers a graph input (already in real values, so unbounded). */
  defineInput(index: number): string {
    const name = this.unique(sanitize(this.tensor(index).name));
    const params = this.quantized ? qdqParams(this.tensor(index)) : undefined;
    const value = params ? this.quantizeDequantize(name, params) : name;
    this.values.set(index, { name: value, layout: 'NHWC', bounds: UNBOUNDED });
    return name;
  }

  /**
   * A conv or dense layer's weights (already reordered for ONNX): float32, or in the quantized form the stored
   * integers behind a DequantizeLinear so that ONNX Runtime can fuse the layer into its integer kernel.
   */
  weights(index: number, dims: readonly number[], values: Float32Array): string {
    const t = this.tensor(index);
    const stored = this.quantized && !this.folded.has(index) ? qdqParams(t) : undefined;
    if (!stored) return this.initializer(sanitize(t.name), dims, values);
    // uint8 weights move to int8 (q − 128, the same reals): without VNNI, ONNX Runtime's u8s8 kernels run
    // about 1.3× faster than u8u8 on this model (CPU seconds, scripts/bench-quant.mjs).
    const params =
      stored.type === DataType.UINT8
        ? { ...stored, zeroPoint: stored.zeroPoint - 128, type: DataType.INT8 }
        : stored;
    const q = this.quantizedInitializer(
      t.name,
      dims,
      requantize(values, params.scale, params.zeroPoint, params.type),
    );
    return this.node(
      'DequantizeLinear',
      [q, this.scalar(params.scale), this.zeroPoint(params, false)],
      [],
      `${sanitize(t.name)}/dq`,
    );
  }

  /** A layer's bias: float32, or in the quantized form its int32 values (scale = input × weight scale). */
  bias(index: number, dims: readonly number[], values: Float32Array): string {
    const t = this.tensor(index);
    const scale = this.quantized && !this.folded.has(index) ? biasScale(t) : undefined;
    if (scale === undefined) return this.initializer(sanitize(t.name), dims, values);
    const q = this.quantizedInitializer(t.name, dims, requantize(values, scale, 0, DataType.INT32));
    return this.node('DequantizeLinear', [q, this.scalar(scale)], [], `${sanitize(t.name)}/dq`);
  }

  private quantizedInitializer(
    hint: string,
    dims: readonly number[],
    data: ReturnType<typeof requantize>,
  ): string {
    const name = this.unique(sanitize(hint));
    this.initializers.push(rawTensor(name, dims, data));
    return name;
  }

  /**
   * A zero point, shared by activations with the same one; weights get their own (`shared` false), because
   * ORT's x64quantprecision rewrite converts a weight's zero point in place once per weight and refuses a
   * shared one ("Attempt to replace the existing tensor").
   */
  private zeroPoint(params: QdqParams, shared = true): string {
    const key = `${params.type}:${params.zeroPoint}`;
    let name = shared ? this.zeroPoints.get(key) : undefined;
    if (!name) {
      name = this.unique(`const/zp${params.type === DataType.UINT8 ? 'u8' : 's8'}_${params.zeroPoint}`);
      const bytes =
        params.type === DataType.UINT8
          ? Uint8Array.of(params.zeroPoint)
          : new Uint8Array(Int8Array.of(params.zeroPoint).buffer);
      this.initializers.push(rawTensor(name, [], { type: params.type, bytes }));
      if (shared) this.zeroPoints.set(key, name);
    }
    return name;
  }

  /** Rounds value `name` to what a quantized tensor can hold, as the TFLite runtime stores it. */
  private quantizeDequantize(name: string, params: QdqParams): string {
    const scale = this.scalar(params.scale);
    const zero = this.zeroPoint(params);
    const q = this.node('QuantizeLinear', [name, scale, zero], [], `${name}/q`);
    return this.node('DequantizeLinear', [q, scale, zero], [], `${name}/dq`);
  }

  value(index: number): Value {
    const v = this.values.get(index);
    if (!v) {
      throw new SightlineError(
        'MODEL_LOAD',
        `Tensor '${this.tensor(index).name}' is read before any operator writes it; the TFLite operators are out of order.`,
      );
    }
    return v;
  }

  /**
   * The name of tensor `index` in `layout` (only 4-D activations have an NCHW form). Activations get one
   * cached Transpose; constants become initializers with their data reordered here.
   */
  input(index: number, layout: Layout, op: TfliteOperator): string {
    const t = this.tensor(index);
    if (this.isConstant(index) && !this.values.has(index)) {
      const data = this.constant(index, op, 'operand');
      if (layout === 'NHWC' || t.shape.length > 4) return this.initializer(sanitize(t.name), t.shape, data);
      // A constant of lower rank is a broadcast operand; numpy rules align it right, so pad the front to 4-D.
      const shape = [...Array(4 - t.shape.length).fill(1), ...t.shape];
      return this.initializer(sanitize(t.name), shapeToNchw(shape), transposeToNchw(data, shape));
    }
    if (layout === 'NCHW' && t.shape.length !== 4) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `Tensor '${t.name}' read by TFLite op '${op.name}' (operator #${op.index}) has shape [${t.shape.join(', ')}]; expected 4-D.`,
      );
    }
    return this.relayout(index, layout);
  }

  /** TFLite tensor name → the ONNX value holding it, for every activation converted so far. */
  tensorMap(): Record<string, { name: string; layout: Layout }> {
    const map: Record<string, { name: string; layout: Layout }> = {};
    for (const [index, v] of this.values) map[this.tensor(index).name] = { name: v.name, layout: v.layout };
    return map;
  }

  /** The name under which the graph returns tensor `index`: in TFLite's layout, as callers expect. */
  graphOutput(index: number): string {
    return this.relayout(index, 'NHWC');
  }

  private relayout(index: number, layout: Layout): string {
    const v = this.value(index);
    return v.layout === layout ? v.name : this.transposed(v.name, layout);
  }

  protected override written(node: NodeProto): void {
    this.opNodes.push(node);
  }

  /**
   * Makes `output.value` the value of the operator's output tensor, first applying the fused activation and,
   * for a quantized tensor, the clip to its representable range — whichever is narrower, as one Relu or Clip,
   * and only when it is narrower than `output.bounds` already guarantees. The final value takes the TFLite
   * tensor's name.
   */
  defineOutput(op: TfliteOperator, output: OpOutput): void {
    const index = op.outputs[0];
    const t = this.tensor(index);
    const activation = output.activation ?? Activation.NONE;
    let name = output.value;
    let known = output.bounds;
    if (activation === Activation.TANH) {
      name = this.node('Tanh', [name], [], `${sanitize(t.name)}/tanh`);
      known = intersect(known, [-1, 1]);
    }
    let target = activationRange(activation, op);
    const clipQuantized =
      output.quantizedClip !== false &&
      (this.quantizedClips === 'all' || (this.quantizedClips === 'except-scores' && !this.scores.has(index)));
    // In the quantized form QuantizeLinear saturates exactly as the clip would (the scores keep float).
    const qdq = this.quantized && !this.scores.has(index) ? qdqParams(t) : undefined;
    const representable = clipQuantized && !qdq ? representableRange(t) : undefined;
    if (representable) target = intersect(target, representable);
    if (target[0] > known[0] || target[1] < known[1]) {
      known = intersect(known, target);
      name =
        known[0] === 0 && known[1] === Infinity
          ? this.node('Relu', [name], [], sanitize(t.name))
          : this.node('Clip', [name, this.bound(known[0]), this.bound(known[1])], [], sanitize(t.name));
    }
    name = this.rename(name, sanitize(t.name));
    this.values.set(index, {
      name: qdq ? this.quantizeDequantize(name, qdq) : name,
      layout: output.layout,
      bounds: known,
    });
  }

  /** Gives the output of a node written for this operator its final name; values from elsewhere keep theirs. */
  private rename(name: string, wanted: string): string {
    return (
      this.renameOutput(
        this.opNodes.find((n) => n.output?.[0] === name),
        wanted,
      ) ?? name
    );
  }

  private bound(value: number): string {
    return Number.isFinite(value) ? this.scalar(value) : '';
  }
}

/** The graph outputs and the tensors they are computed from by score-preserving ops (e.g. logits → RESHAPE). */
function scoreTensors(graph: TfliteSubgraph): Set<number> {
  const producers = new Map(graph.operators.flatMap((op) => op.outputs.map((o) => [o, op] as const)));
  const scores = new Set<number>();
  const pending = [...graph.outputs];
  for (let index = pending.pop(); index !== undefined; index = pending.pop()) {
    scores.add(index);
    const producer = producers.get(index);
    if (producer && SCORE_PRESERVING.has(producer.name)) pending.push(producer.inputs[0]);
  }
  return scores;
}

/** The range a fused activation leaves (TANH is applied as a node before this range is used). */
function activationRange(activation: number, op: TfliteOperator): Interval {
  switch (activation) {
    case Activation.NONE:
    case Activation.TANH:
      return UNBOUNDED;
    case Activation.RELU:
      return [0, Infinity];
    case Activation.RELU_N1_TO_1:
      return [-1, 1];
    case Activation.RELU6:
      return [0, 6];
    default:
      throw new SightlineError(
        'UNSUPPORTED_OP',
        `TFLite op '${op.name}' (operator #${op.index}) has fused activation ${activation}; supported: NONE, RELU, RELU_N1_TO_1, RELU6, TANH.`,
        { op: op.name, operator: op.index, activation },
      );
  }
}

function intersect(a: Interval, b: Interval): Interval {
  return [Math.max(a[0], b[0]), Math.min(a[1], b[1])];
}

/** The smallest interval holding all of them (e.g. the inputs of a concatenation). */
export function hull(intervals: readonly Interval[]): Interval {
  return [Math.min(...intervals.map((i) => i[0])), Math.max(...intervals.map((i) => i[1]))];
}
