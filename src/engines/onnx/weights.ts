// The 'weights' capability of an ONNX model: which nodes read weights, and their values.
import { invalidArgument } from '../../core/errors.js';
import type { WeightLayer } from '../../core/model.js';
import { differentiablePath } from './autodiff/index.js';
import { DataType, type ModelProto, tensorFloats } from './proto.js';

/**
 * The model's weight layers from the output back to the input: the nodes on the differentiable path from the
 * input to the output (autodiff/path.ts), in reverse topological order, that read float32 initializers of more
 * than one element. Scalars (a Clip's bounds, an epsilon) are settings, not weights, and are left out. An
 * initializer read by several nodes belongs to the one nearest the output. Weights that reach a node through
 * other nodes (a Constant, a DequantizeLinear) are not followed. A node without a name is named by its first
 * output.
 */
export function weightLayersOf(proto: ModelProto, inputName: string, outputName: string): WeightLayer[] {
  const sizes = new Map<string, number>();
  for (const t of proto.graph?.initializer ?? []) {
    if (t.name && t.dataType === DataType.FLOAT) {
      sizes.set(
        t.name,
        (t.dims ?? []).reduce((a, b) => a * Number(b), 1),
      );
    }
  }
  const path = differentiablePath(proto, inputName, [outputName]);
  const claimed = new Set<string>();
  const layers: WeightLayer[] = [];
  for (const node of [...path.nodes].reverse()) {
    const weights = (node.input ?? []).filter(
      (name) => (sizes.get(name) ?? 0) > 1 && !claimed.has(name) && !path.active.has(name),
    );
    if (weights.length === 0) continue;
    for (const name of weights) claimed.add(name);
    layers.push({ name: node.name || node.output?.[0] || '?', op: node.opType, weights });
  }
  return layers;
}

/** A float32 initializer's values by name; INVALID_ARGUMENT when the model has none of that name. */
export function weightValuesOf(proto: ModelProto, name: string): Float32Array {
  const tensor = (proto.graph?.initializer ?? []).find(
    (t) => t.name === name && t.dataType === DataType.FLOAT,
  );
  if (!tensor) throw invalidArgument('name', "the name of one of the model's float32 weight tensors", name);
  return tensorFloats(tensor);
}
