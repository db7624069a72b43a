/**
 * Reads a TFLite model (the "TFL3" flatbuffer) into plain objects: subgraphs with their tensors, operators
 * and the constant data of each tensor. Field indices follow tensorflow/lite/schema/schema.fbs; fields added
 * after a file was written read as their defaults, so old and new files both load.
 */
import { ByteBuffer } from 'flatbuffers';
import { SightlineError } from '../../core/errors.js';
import { FlatTable } from './flatbuffer.js';
import { BUILTIN_CUSTOM, builtinOperatorName, tensorTypeName } from './schema.js';

/** Affine quantization: real = scale × (q − zeroPoint), one pair per slice along `quantizedDimension`. */
export interface TfliteQuantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}

export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  /** A TensorType code (schema.ts). */
  readonly type: number;
  /** The stored contents of a constant tensor (a view into the file); absent for activations. */
  readonly data?: Uint8Array;
  readonly quantization?: TfliteQuantization;
}

export interface TfliteOperator {
  readonly index: number;
  /** The builtin operator code (BUILTIN_CUSTOM for custom operators). */
  readonly code: number;
  /** The builtin name, or `CUSTOM:<custom_code>`. */
  readonly name: string;
  readonly version: number;
  /** Tensor indices; −1 marks an omitted optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** The builtin options table, read with the accessors of options.ts; absent when every option has its default. */
  readonly options?: FlatTable;
}

export interface TfliteSubgraph {
  readonly name?: string;
  readonly tensors: readonly TfliteTensor[];
  readonly operators: readonly TfliteOperator[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

export interface TfliteModel {
  readonly version: number;
  readonly description?: string;
  readonly subgraphs: readonly TfliteSubgraph[];
}

const FILE_IDENTIFIER = 'TFL3';
const SCHEMA_VERSION = 3;

// Field indices of the tables read here, from schema.fbs. A union takes two indices (its type, then its value).
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 } as const;
const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 } as const;
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, sparsity: 6 } as const;
const QUANTIZATION = { scale: 2, zeroPoint: 3, quantizedDimension: 6 } as const;
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptions: 4 } as const;
const BUFFER = { data: 0, offset: 1, size: 2 } as const;

/** Parses the bytes of a .tflite file; throws MODEL_LOAD when they are not one. */
export function readTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.length < 8) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Not a TFLite model: ${bytes.length} bytes is too short for a flatbuffer with the file identifier '${FILE_IDENTIFIER}'.`,
      { size: bytes.length },
    );
  }
  const identifier = String.fromCharCode(...bytes.subarray(4, 8));
  if (identifier !== FILE_IDENTIFIER) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Not a TFLite model: expected the file identifier '${FILE_IDENTIFIER}' at bytes 4–7, found ${JSON.stringify(identifier)}.`,
      { identifier },
    );
  }
  const bb = new ByteBuffer(bytes);
  const root = new FlatTable(bb, bb.readUint32(0), 'the model table');
  const version = root.uint32(MODEL.version);
  if (version !== SCHEMA_VERSION) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TFLite file has schema version ${version}; only version ${SCHEMA_VERSION} (every converter since 2018) is read.`,
      { version },
    );
  }
  const buffers = root.tables(MODEL.buffers, 'buffer').map((t) => bufferData(t, bytes));
  const codes = root.tables(MODEL.operatorCodes, 'operator code').map(operatorCode);
  const subgraphs = root.tables(MODEL.subgraphs, 'subgraph').map((t, i) => subgraph(t, i, buffers, codes));
  if (subgraphs.length === 0)
    throw new SightlineError('MODEL_LOAD', 'The TFLite file has no subgraphs; expected at least one.');
  return { version, description: root.string(MODEL.description), subgraphs };
}

function bufferData(table: FlatTable, file: Uint8Array): Uint8Array | undefined {
  const data = table.bytes(BUFFER.data, 'data');
  if (data && data.length > 0) return data;
  // Files over 2 GB keep buffers after the flatbuffer, addressed from the start of the file; 0 and 1 mean "none".
  const offset = table.uint64(BUFFER.offset);
  if (offset <= 1) return undefined;
  const size = table.uint64(BUFFER.size);
  if (offset + size > file.length) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TFLite file is truncated: ${table.what} claims bytes ${offset}–${offset + size}, but the file has ${file.length}.`,
    );
  }
  return file.subarray(offset, offset + size);
}

interface OperatorCode {
  readonly code: number;
  readonly name: string;
  readonly version: number;
}

function operatorCode(table: FlatTable): OperatorCode {
  // Codes above 127 did not fit the original int8 field; newer files set both, and the larger one is the truth.
  const code = Math.max(
    table.int8(OPERATOR_CODE.deprecatedBuiltinCode),
    table.int32(OPERATOR_CODE.builtinCode),
  );
  const name =
    code === BUILTIN_CUSTOM
      ? `CUSTOM:${table.string(OPERATOR_CODE.customCode) ?? ''}`
      : builtinOperatorName(code);
  return { code, name, version: table.int32(OPERATOR_CODE.version, 1) };
}

function subgraph(
  table: FlatTable,
  index: number,
  buffers: readonly (Uint8Array | undefined)[],
  codes: readonly OperatorCode[],
): TfliteSubgraph {
  const where = `subgraph ${index}`;
  const tensors = table.tables(SUBGRAPH.tensors, `${where} tensor`).map((t, i) => tensor(t, i, buffers));
  const indices = (list: number[] | undefined, what: string, optional: boolean): number[] => {
    for (const i of list ?? []) {
      if ((i < 0 && !(optional && i === -1)) || i >= tensors.length) {
        throw new SightlineError(
          'MODEL_LOAD',
          `The TFLite file is corrupt: ${what} of ${where} refers to tensor ${i}, but there are ${tensors.length} tensors.`,
        );
      }
    }
    return list ?? [];
  };
  const operators = table.tables(SUBGRAPH.operators, `${where} operator`).map((op, i) => {
    const codeIndex = op.uint32(OPERATOR.opcodeIndex);
    const code = codes[codeIndex];
    if (!code) {
      throw new SightlineError(
        'MODEL_LOAD',
        `The TFLite file is corrupt: operator #${i} of ${where} uses operator code ${codeIndex}, but there are ${codes.length}.`,
      );
    }
    return {
      index: i,
      code: code.code,
      name: code.name,
      version: code.version,
      inputs: indices(op.int32s(OPERATOR.inputs), `operator #${i}'s inputs`, true),
      outputs: indices(op.int32s(OPERATOR.outputs), `operator #${i}'s outputs`, false),
      options: op.table(OPERATOR.builtinOptions, `the options of operator #${i}`),
    };
  });
  return {
    name: table.string(SUBGRAPH.name),
    tensors,
    operators,
    inputs: indices(table.int32s(SUBGRAPH.inputs), 'the input list', false),
    outputs: indices(table.int32s(SUBGRAPH.outputs), 'the output list', false),
  };
}

function tensor(table: FlatTable, index: number, buffers: readonly (Uint8Array | undefined)[]): TfliteTensor {
  const name = table.string(TENSOR.name) ?? `tensor_${index}`;
  const type = table.int8(TENSOR.type);
  const bufferIndex = table.uint32(TENSOR.buffer);
  if (bufferIndex >= buffers.length && bufferIndex !== 0) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TFLite file is corrupt: tensor '${name}' uses buffer ${bufferIndex}, but there are ${buffers.length}.`,
    );
  }
  if (table.has(TENSOR.sparsity)) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Tensor '${name}' is stored sparse (${tensorTypeName(type)}); sparse TFLite tensors are not read. Convert the model without sparsity.`,
      { tensor: name },
    );
  }
  const q = table.table(TENSOR.quantization, `the quantization of tensor '${name}'`);
  const scale = q?.float32s(QUANTIZATION.scale, 'scales') ?? [];
  const quantization: TfliteQuantization | undefined =
    scale.length > 0 && q
      ? {
          scale,
          zeroPoint: q.int64s(QUANTIZATION.zeroPoint, 'zero points') ?? scale.map(() => 0),
          quantizedDimension: q.int32(QUANTIZATION.quantizedDimension),
        }
      : undefined;
  return {
    index,
    name,
    shape: table.int32s(TENSOR.shape, 'shape') ?? [],
    type,
    data: buffers[bufferIndex],
    quantization,
  };
}
