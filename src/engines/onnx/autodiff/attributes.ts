/**
 * Reading node attributes and constant tensors of a decoded ONNX graph (longs arrive as numbers). The
 * decoder leaves out fields that hold their default, so an attribute that is present without a value
 * means 0, 0.0, an empty list or an empty string.
 */
import { DataType, type NodeProto, type TensorProto, tensorFloats } from '../proto.js';

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a ? Number(a.i ?? 0) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a ? (a.f ?? 0) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  return a ? (a.ints ?? []).map(Number) : undefined;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = node.attribute?.find((x) => x.name === name);
  return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : fallback;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return node.attribute?.find((x) => x.name === name)?.t;
}

/** A constant's values as plain numbers, for float and integer tensors alike. */
export function tensorNumbers(t: TensorProto): number[] {
  switch (t.dataType) {
    case DataType.FLOAT:
      return [...tensorFloats(t)];
    case DataType.DOUBLE:
      return t.rawData && t.rawData.length > 0
        ? [...new Float64Array(copyBytes(t.rawData))]
        : (t.doubleData ?? []).map(Number);
    case DataType.INT64:
      return t.rawData && t.rawData.length > 0
        ? Array.from(new BigInt64Array(copyBytes(t.rawData)), Number)
        : (t.int64Data ?? []).map(Number);
    default:
      return t.rawData && t.rawData.length > 0 && t.dataType === DataType.INT32
        ? [...new Int32Array(copyBytes(t.rawData))]
        : (t.int32Data ?? []).map(Number);
  }
}

/** An aligned copy (typed arrays need offsets that are multiples of their element size). */
function copyBytes(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

/** The constant a Constant node holds, as a tensor, whichever value_* attribute carries it. */
export function constantNodeTensor(node: NodeProto): TensorProto | undefined {
  const t = attrTensor(node, 'value');
  if (t) return t;
  const a = node.attribute?.[0];
  if (!a) return undefined;
  switch (a.name) {
    case 'value_float':
      return { dims: [], dataType: DataType.FLOAT, floatData: [a.f ?? 0] };
    case 'value_floats':
      return { dims: [a.floats?.length ?? 0], dataType: DataType.FLOAT, floatData: a.floats ?? [] };
    case 'value_int':
      return { dims: [], dataType: DataType.INT64, int64Data: [Number(a.i ?? 0)] };
    case 'value_ints':
      return { dims: [a.ints?.length ?? 0], dataType: DataType.INT64, int64Data: (a.ints ?? []).map(Number) };
    default:
      return undefined;
  }
}
