/**
 * The quantized form of a converted graph: each quantized TFLite activation is followed by a QuantizeLinear /
 * DequantizeLinear pair with the tensor's own scale and zero point, and weights and biases are stored as the
 * integers the file holds behind a DequantizeLinear. ONNX Runtime's QDQ transformers fuse DQ → Conv → Q into
 * QLinearConv (and pools and concatenations into their integer forms), so the graph runs in uint8 as the TFLite
 * runtime does, while every value between fused ops stays exactly what the TFLite tensor can represent.
 */
import { DataType, type TensorProto } from '../onnx/proto.js';
import type { TfliteTensor } from './reader.js';
import { TensorType } from './schema.js';

/** Per-tensor uint8/int8 quantization: what QuantizeLinear/DequantizeLinear take. */
export interface QdqParams {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly type: typeof DataType.UINT8 | typeof DataType.INT8;
}

/** The Q/DQ parameters of a per-tensor quantized uint8/int8 tensor; undefined for anything else. */
export function qdqParams(t: TfliteTensor): QdqParams | undefined {
  const q = t.quantization;
  const type =
    t.type === TensorType.UINT8 ? DataType.UINT8 : t.type === TensorType.INT8 ? DataType.INT8 : undefined;
  if (!q || type === undefined || q.scale.length !== 1 || !(q.scale[0] > 0)) return undefined;
  return { scale: q.scale[0], zeroPoint: q.zeroPoint[0] ?? 0, type };
}

/** The int32 scale of a quantized bias (per tensor), which TFLite sets to input scale × weight scale. */
export function biasScale(t: TfliteTensor): number | undefined {
  const q = t.quantization;
  if (t.type !== TensorType.INT32 || !q || q.scale.length !== 1 || !(q.scale[0] > 0)) return undefined;
  return q.scale[0];
}

/**
 * The integers behind real values that are already exact multiples of the scale (dequantized weights, possibly
 * reordered): rounding undoes float32's error in scale × (q − zeroPoint).
 */
export function requantize(values: Float32Array, scale: number, zeroPoint: number, type: number): TensorData {
  if (type === DataType.INT32) {
    const out = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i] / scale) + zeroPoint;
    return { type, bytes: new Uint8Array(out.buffer) };
  }
  const [lo, hi] = type === DataType.UINT8 ? [0, 255] : [-128, 127];
  const out = type === DataType.UINT8 ? new Uint8Array(values.length) : new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.min(hi, Math.max(lo, Math.round(values[i] / scale) + zeroPoint));
  }
  return { type, bytes: new Uint8Array(out.buffer) };
}

export interface TensorData {
  readonly type: number;
  /** Little-endian raw bytes (typed arrays are little-endian on every host ONNX Runtime supports). */
  readonly bytes: Uint8Array;
}

export function rawTensor(name: string, dims: readonly number[], data: TensorData): TensorProto {
  return { name, dims: [...dims], dataType: data.type, rawData: data.bytes };
}
