/** Tiny ONNX graphs for the autodiff tests: one input 'x' with a symbolic batch, any nodes, one output. */
import {
  type AttributeProto,
  buildModel,
  floatTensor,
  int64Tensor,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { randomTensor } from './autodiff-check.js';

export interface GraphSpec {
  /** Input dims after the batch axis. */
  readonly input: readonly number[];
  readonly nodes: NodeProto[];
  readonly initializers?: TensorProto[];
  readonly opset?: number;
  /** Default: the last node's first output. */
  readonly output?: string;
}

export function graph(spec: GraphSpec): ModelProto {
  const output = spec.output ?? spec.nodes[spec.nodes.length - 1].output![0];
  return buildModel({
    inputs: [valueInfo('x', ['N', ...spec.input])],
    outputs: [{ name: output, type: { tensorType: { elemType: 1 } } }],
    nodes: spec.nodes,
    initializers: spec.initializers ?? [],
    opset: spec.opset ?? 17,
  });
}

/** A node; outputs default to one named after the op. */
export function node(
  opType: string,
  input: string[],
  attribute: AttributeProto[] = [],
  output?: string[],
): NodeProto {
  const outputs = output ?? [`${opType.toLowerCase()}_out`];
  return {
    opType,
    name: output ? `${outputs[0]}_node` : `${opType}_node`,
    input,
    output: outputs,
    attribute,
  };
}

/** A random float initializer. */
export function weights(name: string, dims: number[], seed: number, lo = -1, hi = 1): TensorProto {
  return floatTensor(
    name,
    dims,
    randomTensor(
      dims.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
  );
}

export function ints(name: string, values: number[], dims: number[] = [values.length]): TensorProto {
  return int64Tensor(name, dims, values);
}
