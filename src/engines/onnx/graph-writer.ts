/**
 * Writing an ONNX graph node by node, with unique names and shared constants: the part the model converters
 * (TFLite, TF.js) have in common. Each converter extends it with its own bookkeeping of source tensors.
 * Both sources keep images NHWC while ONNX convolutions and pools want NCHW, so 4-D values move between the two
 * layouts through one cached Transpose each.
 */
import {
  type AttributeProto,
  attr,
  floatTensor,
  int64Tensor,
  type NodeProto,
  type TensorProto,
} from './proto.js';

export type Layout = 'NHWC' | 'NCHW';

/** NCHW axis j holds NHWC axis TO_NCHW[j]. */
export const TO_NCHW = [0, 3, 1, 2] as const;
/** NHWC axis j holds NCHW axis TO_NHWC[j]. */
export const TO_NHWC = [0, 2, 3, 1] as const;

export class GraphWriter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  protected readonly names = new Set<string>();
  private readonly scalars = new Map<number, string>();
  private readonly transposes = new Map<string, string>();

  /** A float32 initializer with a fresh name derived from `hint`. */
  initializer(hint: string, dims: readonly number[], data: Float32Array): string {
    const name = this.unique(hint);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes, pads). */
  ints(hint: string, values: readonly number[]): string {
    const name = this.unique(hint);
    this.initializers.push(int64Tensor(name, [values.length], values));
    return name;
  }

  /** A float32 scalar, shared by every use of the same value (Clip bounds, Softmax β, …). */
  scalar(value: number): string {
    const known = this.scalars.get(value);
    if (known) return known;
    const name = this.unique(`const/${value}`);
    this.initializers.push(floatTensor(name, [], Float32Array.of(value)));
    this.scalars.set(value, name);
    return name;
  }

  /** Writes a node and returns the name of its single output, derived from `hint`. */
  node(opType: string, inputs: readonly string[], attributes: AttributeProto[], hint: string): string {
    const output = this.unique(hint);
    const node: NodeProto = {
      name: this.unique(`${hint}:${opType}`),
      opType,
      input: [...inputs],
      output: [output],
      attribute: attributes,
    };
    this.nodes.push(node);
    this.written(node);
    return output;
  }

  /** The 4-D value `name`, held in the other layout, in `layout`: one Transpose per value and layout. */
  transposed(name: string, layout: Layout): string {
    const key = `${name}:${layout}`;
    const known = this.transposes.get(key);
    if (known) return known;
    const perm = layout === 'NCHW' ? TO_NCHW : TO_NHWC;
    const out = this.node(
      'Transpose',
      [name],
      [attr('perm', [...perm])],
      `${name}/to_${layout.toLowerCase()}`,
    );
    this.transposes.set(key, out);
    return out;
  }

  /**
   * Gives the single output of `producer` the name `wanted` (a source tensor's or layer's own name, so maps and
   * layers show up under names the user knows), unless that name is taken. Returns the output's name.
   */
  protected renameOutput(producer: NodeProto | undefined, wanted: string): string | undefined {
    const current = producer?.output?.[0];
    if (!producer || current === undefined || current === wanted || this.names.has(wanted)) return current;
    this.names.add(wanted);
    producer.output = [wanted];
    return wanted;
  }

  /** Called for every node written (a converter may track the nodes of the operator at hand). */
  protected written(_node: NodeProto): void {}

  unique(hint: string): string {
    let name = hint;
    for (let i = 1; this.names.has(name); i++) name = `${hint}_${i}`;
    this.names.add(name);
    return name;
  }
}

/** ONNX names may hold anything, but tools and file names cope best with these characters. */
export function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'tensor';
}
