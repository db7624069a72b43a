/**
 * Reading and writing ONNX model files. The message layout (field numbers and types) follows the ONNX IR
 * specification (onnx.proto); only the messages a classifier graph needs are declared. Unknown fields are
 * skipped on read, so models using newer features still load as long as we do not need those fields.
 */
import protobuf from 'protobufjs';
import { SightlineError } from '../../core/errors.js';

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

export interface TensorProto {
  name?: string;
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  rawData?: Uint8Array;
  dataLocation?: number;
}

export interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
}

export interface ValueInfoProto {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } } };
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  graph?: GraphProto;
  metadataProps?: { key?: string; value?: string }[];
}

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            refAttrName: { type: 'string', id: 21 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            int32Data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
            stringData: { rule: 'repeated', type: 'bytes', id: 6 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
            name: { type: 'string', id: 8 },
            docString: { type: 'string', id: 12 },
            rawData: { type: 'bytes', id: 9 },
            dataLocation: { type: 'int32', id: 14 },
            doubleData: { rule: 'repeated', type: 'double', id: 10, options: { packed: true } },
            uint64Data: { rule: 'repeated', type: 'uint64', id: 11, options: { packed: true } },
          },
        },
        TypeProto: {
          fields: {
            tensorType: { type: 'Tensor', id: 1 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: {
              fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } },
            },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
      },
    },
  },
});

const ModelMessage = root.lookupType('onnx.ModelProto');

export function encodeModel(model: ModelProto): Uint8Array {
  return ModelMessage.encode(ModelMessage.fromObject(model)).finish();
}

/**
 * The most protobuf objects (messages, strings, byte strings, 64-bit integers) a model may decode to. Each costs
 * a few hundred bytes of JavaScript heap, so two bytes of file per empty message could otherwise turn a 20 MB
 * file into gigabytes; real classifiers stay far below this (InceptionV3 converted from TFLite: about 3,000).
 */
export const MAX_DECODED_OBJECTS = 2_000_000;

export function decodeModel(bytes: Uint8Array): ModelProto {
  decodeCost(bytes);
  const message = ModelMessage.decode(bytes);
  const model = ModelMessage.toObject(message, {
    longs: Number,
    bytes: Uint8Array,
    defaults: false,
  }) as ModelProto;
  sourceBytes.set(model, bytes);
  return model;
}

/** The bytes each decoded model came from (the object itself, not copies or edits of it). */
const sourceBytes = new WeakMap<ModelProto, Uint8Array>();

/** Whether `model` is an object decodeModel returned, whose bytes appendToSource can extend. */
export function hasSourceBytes(model: ModelProto): boolean {
  return sourceBytes.has(model);
}

/** The bytes `model` was decoded from (not a copy: do not write to them), or undefined for another object. */
export function sourceBytesOf(model: ModelProto): Uint8Array | undefined {
  return sourceBytes.get(model);
}

/**
 * `base` with nodes, initializers, inputs and outputs appended to its graph, as ONNX bytes. Protobuf parsers
 * merge a singular message field that appears twice and concatenate repeated fields, so the bytes `base` was
 * decoded from followed by a message holding only the additions read as the extended model: the gradient
 * graph and the shape probe of a 95 MB model cost no re-encoding of it (about 0.7 s each on InceptionV3,
 * protobufjs shifting every large message once more). A base not decoded by decodeModel is encoded whole.
 */
export function encodeExtended(
  base: ModelProto,
  additions: Pick<GraphProto, 'node' | 'initializer' | 'input' | 'output'>,
): Uint8Array {
  const bytes = sourceBytes.get(base);
  if (!bytes) {
    const graph = base.graph ?? {};
    const join = <T>(a: T[] | undefined, b: T[] | undefined) => [...(a ?? []), ...(b ?? [])];
    return encodeModel({
      ...base,
      graph: {
        ...graph,
        node: join(graph.node, additions.node),
        initializer: join(graph.initializer, additions.initializer),
        input: join(graph.input, additions.input),
        output: join(graph.output, additions.output),
      },
    });
  }
  return appendToSource(base, encodeModel({ graph: additions }))!;
}

/**
 * The bytes `base` was decoded from followed by `tail` (an encoded ModelProto holding only graph additions),
 * or undefined when `base` did not come from decodeModel. Gradient graphs are cached as such tails: a few
 * MB beside the model instead of another copy of it.
 */
export function appendToSource(base: ModelProto, tail: Uint8Array): Uint8Array | undefined {
  const bytes = sourceBytes.get(base);
  if (!bytes) return undefined;
  const out = new Uint8Array(bytes.length + tail.length);
  out.set(bytes, 0);
  out.set(tail, bytes.length);
  return out;
}

/** ONNX stores raw_data little-endian; on such a host a byte copy is the conversion (no per-value loop). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A float32 initializer, stored as raw little-endian bytes (the compact form ORT reads fastest). */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  let bytes: Uint8Array;
  if (LITTLE_ENDIAN) {
    bytes = new Uint8Array(data.byteLength);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    bytes = new Uint8Array(data.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  }
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytes };
}

export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): TensorProto {
  return { name, dims: [...dims], dataType: DataType.INT64, int64Data: [...data] };
}

/** The float32 values of an initializer, whichever of raw_data or float_data holds them. */
export function tensorFloats(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Error(`tensorFloats: ${t.name} is not float32`);
  if (t.rawData && t.rawData.length > 0) {
    if (LITTLE_ENDIAN && t.rawData.byteLength % 4 === 0) {
      const out = new Float32Array(t.rawData.byteLength / 4);
      new Uint8Array(out.buffer).set(t.rawData);
      return out;
    }
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const out = new Float32Array(t.rawData.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return Float32Array.from(t.floatData ?? []);
}

export function attr(
  name: string,
  value: number | number[] | string | TensorProto,
  kind?: 'int' | 'float',
): AttributeProto {
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    return kind === 'float'
      ? { name, type: AttributeType.FLOATS, floats: value }
      : { name, type: AttributeType.INTS, ints: value };
  }
  if (typeof value === 'number') {
    return kind === 'float'
      ? { name, type: AttributeType.FLOAT, f: value }
      : { name, type: AttributeType.INT, i: value };
  }
  return { name, type: AttributeType.TENSOR, t: value };
}

export function valueInfo(
  name: string,
  dims: readonly (number | string)[],
  elemType: number = DataType.FLOAT,
): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface GraphParts {
  readonly name?: string;
  readonly inputs: ValueInfoProto[];
  readonly outputs: ValueInfoProto[];
  readonly nodes: NodeProto[];
  readonly initializers?: TensorProto[];
  readonly opset?: number;
  readonly metadata?: Record<string, string>;
}

/** A complete model from its parts (default opset 17, IR version 8, which ORT 1.14+ all read). */
export function buildModel(parts: GraphParts): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: parts.opset ?? 17 }],
    producerName: 'sightline',
    graph: {
      name: parts.name ?? 'graph',
      node: parts.nodes,
      initializer: parts.initializers ?? [],
      input: parts.inputs,
      output: parts.outputs,
    },
    metadataProps: Object.entries(parts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

root.resolveAll();

/**
 * Counts what decoding would allocate by walking the wire format alone (no objects), and refuses a file that
 * would need more than MAX_DECODED_OBJECTS or whose lengths run past their message. Iterative, so nesting depth
 * cannot overflow the stack either.
 */
export function decodeCost(bytes: Uint8Array): number {
  let objects = 1;
  const pending: { start: number; end: number; type: protobuf.Type }[] = [
    { start: 0, end: bytes.length, type: ModelMessage },
  ];
  for (let item = pending.pop(); item; item = pending.pop()) {
    let pos = item.start;
    const varint = (): number => {
      let value = 0;
      for (let shift = 0; shift < 64; shift += 7) {
        if (pos >= item.end) throw pastEnd(pos);
        const b = bytes[pos++];
        if (shift < 53) value += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return value;
      }
      throw new RangeError(`a number at byte ${pos} runs over 10 bytes`);
    };
    while (pos < item.end) {
      const tag = varint();
      const field = item.type.fieldsById[Math.floor(tag / 8)];
      const wire = tag % 8;
      if (wire === 0) {
        varint();
        if (field?.long) objects++;
      } else if (wire === 1 || wire === 5) {
        pos += wire === 1 ? 8 : 4;
      } else if (wire === 2) {
        const length = varint();
        const end = pos + length;
        if (end > item.end) throw pastEnd(pos);
        if (field?.resolvedType instanceof protobuf.Type) {
          objects++;
          pending.push({ start: pos, end, type: field.resolvedType });
        } else if (field?.long) {
          for (let p = pos; p < end; p++) if (bytes[p] < 0x80) objects++;
        } else if (field?.type === 'string' || field?.type === 'bytes') {
          objects++;
        }
        pos = end;
      } else {
        throw new RangeError(`invalid wire type ${wire} at byte ${pos}`);
      }
      if (pos > item.end) throw pastEnd(pos);
      if (objects > MAX_DECODED_OBJECTS) {
        throw new SightlineError(
          'MODEL_LOAD',
          `it would decode to more than ${MAX_DECODED_OBJECTS} protobuf messages, strings and 64-bit ` +
            'integers, far more than any image model holds',
          { maxObjects: MAX_DECODED_OBJECTS },
        );
      }
    }
  }
  return objects;
}

function pastEnd(pos: number): RangeError {
  return new RangeError(`a field at byte ${pos} runs past the end of its message, as in a truncated file`);
}
