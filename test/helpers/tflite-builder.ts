/**
 * Writes small TFLite models with flatbuffers.Builder, so converter tests describe their model in a few
 * lines. Field indices come from tensorflow/lite/schema/schema.fbs, written out again here rather than
 * shared with the reader, so a wrong index on either side shows up as a failing test.
 */
import { Builder } from 'flatbuffers';
import { builtinOperatorCode, Padding } from '../../src/engines/tflite/schema.js';

export type StoredType = 'float32' | 'float16' | 'uint8' | 'int8' | 'int32' | 'int64';

const TYPE_CODES: Record<StoredType, number> = {
  float32: 0,
  float16: 1,
  int32: 2,
  uint8: 3,
  int64: 4,
  int8: 9,
};

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type?: StoredType;
  /** Stored values (the integers themselves for quantized types); makes the tensor a constant. */
  readonly data?: ArrayLike<number>;
  readonly quantization?: { scale: readonly number[]; zeroPoint: readonly number[]; dimension?: number };
  /** Marks the tensor as sparse (an empty SparsityParameters table is enough for readers to refuse it). */
  readonly sparse?: boolean;
}

type Field =
  | { id: number; int8: number }
  | { id: number; int32: number }
  | { id: number; bool: boolean }
  | { id: number; float32: number }
  | { id: number; int32s: readonly number[] };

export interface OptionsSpec {
  /** The BuiltinOptions union member (1-based, in schema order). */
  readonly type: number;
  readonly fields: readonly Field[];
}

export interface OperatorSpec {
  readonly op: string;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options?: OptionsSpec;
  /** Overrides the code written (for codes this project has no name for). */
  readonly code?: number;
}

export interface ModelSpec {
  readonly tensors: readonly TensorSpec[];
  readonly operators: readonly OperatorSpec[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly description?: string;
  /** The schema version written in the file (3 unless a test wants another). */
  readonly version?: number;
  /** Write operator codes as files from before 2021 did: only the int8 deprecated_builtin_code field. */
  readonly legacyOpcodes?: boolean;
}

export function writeTflite(spec: ModelSpec): Uint8Array {
  const b = new Builder(1024);
  const int32s = (values: readonly number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
    return b.endVector();
  };
  const offsets = (values: readonly number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addOffset(values[i]);
    return b.endVector();
  };

  // Buffer 0 is the empty sentinel every tensor without data points at.
  const bufferTables = [table(b, [])];
  const tensorTables = spec.tensors.map((t) => {
    let buffer = 0;
    if (t.data) {
      const data = b.createByteVector(storedBytes(t.type ?? 'float32', t.data));
      bufferTables.push(table(b, [(bb) => bb.addFieldOffset(0, data, 0)]));
      buffer = bufferTables.length - 1;
    }
    const name = b.createString(t.name);
    const shape = int32s(t.shape);
    let quantization = 0;
    if (t.quantization) {
      const q = t.quantization;
      b.startVector(4, q.scale.length, 4);
      for (let i = q.scale.length - 1; i >= 0; i--) b.addFloat32(q.scale[i]);
      const scale = b.endVector();
      b.startVector(8, q.zeroPoint.length, 8);
      for (let i = q.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(q.zeroPoint[i]));
      const zeroPoint = b.endVector();
      quantization = table(b, [
        (bb) => bb.addFieldOffset(2, scale, 0),
        (bb) => bb.addFieldOffset(3, zeroPoint, 0),
        (bb) => bb.addFieldInt32(6, q.dimension ?? 0, 0),
      ]);
    }
    const sparsity = t.sparse ? table(b, []) : 0;
    return table(b, [
      (bb) => bb.addFieldOffset(0, shape, 0),
      (bb) => bb.addFieldInt8(1, TYPE_CODES[t.type ?? 'float32'], 0),
      (bb) => bb.addFieldInt32(2, buffer, 0),
      (bb) => bb.addFieldOffset(3, name, 0),
      (bb) => bb.addFieldOffset(4, quantization, 0),
      (bb) => bb.addFieldOffset(6, sparsity, 0),
    ]);
  });

  const codes: number[] = [];
  const operatorTables = spec.operators.map((op) => {
    const code = op.code ?? builtinOperatorCode(op.op);
    if (!codes.includes(code)) codes.push(code);
    const inputs = int32s(op.inputs);
    const outputs = int32s(op.outputs);
    const options = op.options ? optionsTable(b, op.options) : 0;
    return table(b, [
      (bb) => bb.addFieldInt32(0, codes.indexOf(code), 0),
      (bb) => bb.addFieldOffset(1, inputs, 0),
      (bb) => bb.addFieldOffset(2, outputs, 0),
      (bb) => bb.addFieldInt8(3, op.options?.type ?? 0, 0),
      (bb) => bb.addFieldOffset(4, options, 0),
    ]);
  });

  const tensors = offsets(tensorTables);
  const inputs = int32s(spec.inputs);
  const outputs = int32s(spec.outputs);
  const operators = offsets(operatorTables);
  const subgraph = table(b, [
    (bb) => bb.addFieldOffset(0, tensors, 0),
    (bb) => bb.addFieldOffset(1, inputs, 0),
    (bb) => bb.addFieldOffset(2, outputs, 0),
    (bb) => bb.addFieldOffset(3, operators, 0),
  ]);
  const codeTables = codes.map((code) =>
    table(b, [
      (bb) => bb.addFieldInt8(0, Math.min(code, 127), 0),
      (bb) => bb.addFieldInt32(2, 1, 1),
      (bb) => (spec.legacyOpcodes ? undefined : bb.addFieldInt32(3, code, 0)),
    ]),
  );
  const operatorCodes = offsets(codeTables);
  const subgraphs = offsets([subgraph]);
  const buffers = offsets(bufferTables);
  const description = spec.description === undefined ? 0 : b.createString(spec.description);
  const model = table(b, [
    (bb) => bb.addFieldInt32(0, spec.version ?? 3, 0),
    (bb) => bb.addFieldOffset(1, operatorCodes, 0),
    (bb) => bb.addFieldOffset(2, subgraphs, 0),
    (bb) => bb.addFieldOffset(3, description, 0),
    (bb) => bb.addFieldOffset(4, buffers, 0),
  ]);
  b.finish(model, 'TFL3');
  return b.asUint8Array();
}

function table(b: Builder, fields: readonly ((b: Builder) => void)[]): number {
  b.startObject(16);
  for (const add of fields) add(b);
  return b.endObject();
}

function optionsTable(b: Builder, options: OptionsSpec): number {
  const vectors = new Map<number, number>();
  for (const f of options.fields) {
    if ('int32s' in f) {
      b.startVector(4, f.int32s.length, 4);
      for (let i = f.int32s.length - 1; i >= 0; i--) b.addInt32(f.int32s[i]);
      vectors.set(f.id, b.endVector());
    }
  }
  return table(
    b,
    options.fields.map((f) => (bb: Builder) => {
      // Written even when equal to the schema default, so defaults are read from the file too.
      if ('int8' in f) bb.addFieldInt8(f.id, f.int8, f.int8 + 1);
      else if ('int32' in f) bb.addFieldInt32(f.id, f.int32, f.int32 + 1);
      else if ('bool' in f) bb.addFieldInt8(f.id, f.bool ? 1 : 0, f.bool ? 0 : 1);
      else if ('float32' in f) bb.addFieldFloat32(f.id, f.float32, f.float32 + 1);
      else bb.addFieldOffset(f.id, vectors.get(f.id) ?? 0, 0);
    }),
  );
}

function storedBytes(type: StoredType, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  switch (type) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'float16':
      return new Uint8Array(Uint16Array.from(Array.from(values, toHalf)).buffer);
    case 'uint8':
      return Uint8Array.from(values);
    case 'int8':
      return new Uint8Array(Int8Array.from(values).buffer);
    case 'int32':
      return new Uint8Array(Int32Array.from(values).buffer);
    case 'int64':
      return new Uint8Array(
        BigInt64Array.from(Array.from({ length: n }, (_, i) => BigInt(values[i]))).buffer,
      );
  }
}

/** binary16 bits of a value that float16 holds exactly (tests pick such values). */
function toHalf(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const exponent = Math.floor(Math.log2(Math.abs(value)));
  const fraction = Math.round((Math.abs(value) / 2 ** exponent - 1) * 1024);
  return sign | ((exponent + 15) << 10) | fraction;
}

type Activation = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH';
const ACTIVATIONS: Record<Activation, number> = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4 };

export interface WindowSpec {
  readonly padding: 'SAME' | 'VALID';
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly activation?: Activation;
}

export function conv2dOptions(w: WindowSpec): OptionsSpec {
  const [sh, sw] = w.stride ?? [1, 1];
  const [dh, dw] = w.dilation ?? [1, 1];
  return {
    type: 1,
    fields: [
      { id: 0, int8: Padding[w.padding] },
      { id: 1, int32: sw },
      { id: 2, int32: sh },
      { id: 3, int8: ACTIVATIONS[w.activation ?? 'NONE'] },
      { id: 4, int32: dw },
      { id: 5, int32: dh },
    ],
  };
}

export function depthwiseOptions(w: WindowSpec & { multiplier: number }): OptionsSpec {
  const [sh, sw] = w.stride ?? [1, 1];
  const [dh, dw] = w.dilation ?? [1, 1];
  return {
    type: 2,
    fields: [
      { id: 0, int8: Padding[w.padding] },
      { id: 1, int32: sw },
      { id: 2, int32: sh },
      { id: 3, int32: w.multiplier },
      { id: 4, int8: ACTIVATIONS[w.activation ?? 'NONE'] },
      { id: 5, int32: dw },
      { id: 6, int32: dh },
    ],
  };
}

export function poolOptions(w: WindowSpec & { filter: readonly [number, number] }): OptionsSpec {
  const [sh, sw] = w.stride ?? [1, 1];
  return {
    type: 5,
    fields: [
      { id: 0, int8: Padding[w.padding] },
      { id: 1, int32: sw },
      { id: 2, int32: sh },
      { id: 3, int32: w.filter[1] },
      { id: 4, int32: w.filter[0] },
      { id: 5, int8: ACTIVATIONS[w.activation ?? 'NONE'] },
    ],
  };
}

export function fullyConnectedOptions(
  o: { activation?: Activation; keepNumDims?: boolean } = {},
): OptionsSpec {
  return {
    type: 8,
    fields: [
      { id: 0, int8: ACTIVATIONS[o.activation ?? 'NONE'] },
      { id: 2, bool: o.keepNumDims ?? false },
    ],
  };
}

export function softmaxOptions(beta: number): OptionsSpec {
  return { type: 9, fields: [{ id: 0, float32: beta }] };
}

export function concatenationOptions(axis: number, activation: Activation = 'NONE'): OptionsSpec {
  return {
    type: 10,
    fields: [
      { id: 0, int32: axis },
      { id: 1, int8: ACTIVATIONS[activation] },
    ],
  };
}

export function addOptions(activation: Activation = 'NONE'): OptionsSpec {
  return { type: 11, fields: [{ id: 0, int8: ACTIVATIONS[activation] }] };
}

export function mulOptions(activation: Activation = 'NONE'): OptionsSpec {
  return { type: 21, fields: [{ id: 0, int8: ACTIVATIONS[activation] }] };
}

export function reshapeOptions(newShape: readonly number[]): OptionsSpec {
  return { type: 17, fields: [{ id: 0, int32s: newShape }] };
}

export function reducerOptions(keepDims: boolean): OptionsSpec {
  return { type: 27, fields: [{ id: 0, bool: keepDims }] };
}

export function squeezeOptions(dims: readonly number[]): OptionsSpec {
  return { type: 30, fields: [{ id: 0, int32s: dims }] };
}
