// The 'weights' capability of an ONNX model: which nodes read weights, their values, and the model's bytes with some replaced.
import protobuf from 'protobufjs';
import { invalidArgument, SightlineError } from '../../core/errors.js';
import type { WeightLayer, WeightReplacer } from '../../core/model.js';
import { differentiablePath } from './autodiff/index.js';
import { DataType, floatTensor, type ModelProto, type TensorProto, tensorFloats } from './proto.js';

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

/**
 * The model with float32 initializers replaced (the rules of OnnxModel.withWeights), and every value that
 * now differs from the model `previous` was made from, `previous` included.
 */
export function replaceWeights(
  proto: ModelProto,
  replace: WeightReplacer,
  previous: ReadonlyMap<string, Float32Array> = new Map(),
): { proto: ModelProto; values: Map<string, Float32Array> } {
  const values = new Map(previous);
  const initializers = (proto.graph?.initializer ?? []).map((t): TensorProto => {
    if (t.dataType !== DataType.FLOAT || !t.name) return t;
    const dims = (t.dims ?? []).map(Number);
    const old = tensorFloats(t);
    const replaced = replace(t.name, old, dims);
    if (!replaced) return t;
    if (replaced.length !== old.length) {
      throw new SightlineError(
        'INVALID_ARGUMENT',
        `withWeights: the new values of '${t.name}' [${dims.join(', ')}] must be ${old.length} numbers; got ${replaced.length}.`,
        { initializer: t.name },
      );
    }
    values.set(t.name, replaced);
    return floatTensor(t.name, dims, replaced);
  });
  return { proto: { ...proto, graph: { ...proto.graph, initializer: initializers } }, values };
}

// Field numbers of onnx.proto: ModelProto.graph, GraphProto.initializer, and the TensorProto fields that
// hold or locate its values (float_data, raw_data, external_data, data_location) besides its name.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_NAME = 8;
const TENSOR_VALUES = new Set([4, 9, 13, 14]);
const LENGTH_DELIMITED = 2;

/**
 * ONNX bytes with the values of some float32 initializers replaced, everything else copied byte for byte:
 * the model-randomization steps swap weights in the graphs already made (the model and the stored gradient
 * graphs, whose additions read weights only through nodes, see autodiff/rules) without decoding and
 * re-encoding a model of millions of weights. Each initializer named in `values` keeps its name, dims and
 * type and gets the new values as raw_data; every occurrence of the graph field is rewritten, so a source
 * followed by appended additions (proto.ts appendToSource) is served too, and `tail` (such additions, maybe
 * in parts) is appended in the same copy. The caller checks that each new array has the tensor's length.
 * Fails (INVALID_ARGUMENT) when a named initializer is not found.
 */
export function withInitializers(
  bytes: Uint8Array,
  values: ReadonlyMap<string, Float32Array>,
  ...tail: Uint8Array[]
): Uint8Array {
  return withInputs(bytes, values, new Set(), ...tail);
}

/**
 * withInitializers, and the initializers named in `inputs` left out, for graphs that take those weights as
 * inputs (weight-feeds.ts; `tail` declares them). Left out, not kept as defaults of overridable inputs:
 * onnxruntime-node feeds only the inputs a session lists, and it does not list those.
 */
export function withInputs(
  bytes: Uint8Array,
  values: ReadonlyMap<string, Float32Array>,
  inputs: ReadonlySet<string>,
  ...tail: Uint8Array[]
): Uint8Array {
  const found = new Set<string>();
  const chunks = rewriteFields(bytes, MODEL_GRAPH, (graph) =>
    rewriteFields(graph, GRAPH_INITIALIZER, (tensor) => {
      const name = stringField(tensor, TENSOR_NAME);
      if (name !== undefined && inputs.has(name)) {
        found.add(name);
        return [];
      }
      const data = name === undefined ? undefined : values.get(name);
      if (!data) return [tensor];
      found.add(name!);
      const kept = fieldsWithout(tensor, TENSOR_VALUES);
      const raw = floatTensor(name!, [], data).rawData!;
      return [...kept, lengthDelimited(9, raw.length), raw];
    }),
  );
  for (const name of [...values.keys(), ...inputs]) {
    if (!found.has(name))
      throw invalidArgument('name', "the name of one of the model's float32 weight tensors", name);
  }
  return concatBytes([...chunks, ...tail]);
}

/**
 * A stored gradient graph (graph-store.ts: whole, or additions to the model's own `modelBytes`) with `values`
 * written in, the initializers named in `inputs` left out (withInputs) and `tail` appended.
 */
export function gradientGraphWith(
  modelBytes: Uint8Array,
  entry: { readonly model: Uint8Array; readonly appended: boolean },
  values: ReadonlyMap<string, Float32Array>,
  inputs: ReadonlySet<string> = new Set(),
  ...tail: Uint8Array[]
): Uint8Array {
  return entry.appended
    ? withInputs(modelBytes, values, inputs, entry.model, ...tail)
    : withInputs(entry.model, values, inputs, ...tail);
}

/** The message's fields as byte ranges, those numbered `field` (length-delimited) replaced by `edit`'s chunks. */
function rewriteFields(
  bytes: Uint8Array,
  field: number,
  edit: (body: Uint8Array) => Uint8Array[],
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reader = protobuf.Reader.create(bytes);
  let copied = 0;
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 !== field || (tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    const length = reader.uint32();
    const body = bytes.subarray(reader.pos, reader.pos + length);
    reader.skip(length);
    const edited = edit(body);
    if (edited.length === 1 && edited[0] === body) continue;
    out.push(bytes.subarray(copied, start));
    // No chunks: the field is left out.
    if (edited.length > 0)
      out.push(
        lengthDelimited(
          field,
          edited.reduce((n, c) => n + c.length, 0),
        ),
        ...edited,
      );
    copied = reader.pos;
  }
  out.push(bytes.subarray(copied));
  return out;
}

/** A message's fields other than those numbered in `drop`, as byte ranges. */
function fieldsWithout(bytes: Uint8Array, drop: ReadonlySet<number>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    if (!drop.has(tag >>> 3)) out.push(bytes.subarray(start, reader.pos));
  }
  return out;
}

/** The last value of a string field (protobuf's rule for a repeated singular field), if any. */
function stringField(bytes: Uint8Array, field: number): string | undefined {
  const reader = protobuf.Reader.create(bytes);
  let value: string | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === LENGTH_DELIMITED) value = reader.string();
    else reader.skipType(tag & 7);
  }
  return value;
}

/** The tag and length that open a length-delimited field. */
function lengthDelimited(field: number, length: number): Uint8Array {
  return protobuf.Writer.create()
    .uint32((field << 3) | LENGTH_DELIMITED)
    .uint32(length)
    .finish();
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
