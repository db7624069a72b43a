/**
 * From stored TFLite values to real numbers: constant tensors of any stored type become float32
 * (real = scale × (q − zeroPoint), per tensor or per slice of the quantized dimension), and quantized
 * activations get the interval of reals their integer type can represent.
 */
import { SightlineError } from '../../core/errors.js';
import type { TfliteQuantization, TfliteTensor } from './reader.js';
import { TensorType, tensorTypeName } from './schema.js';

export type Interval = readonly [number, number];
export const UNBOUNDED: Interval = [-Infinity, Infinity];

const INTEGER_RANGE: Record<number, Interval> = {
  [TensorType.UINT8]: [0, 255],
  [TensorType.INT8]: [-128, 127],
  [TensorType.INT16]: [-32768, 32767],
};

/** The reals a quantized activation can hold, or undefined for float tensors and per-channel quantization. */
export function representableRange(t: TfliteTensor): Interval | undefined {
  const q = t.quantization;
  const range = INTEGER_RANGE[t.type];
  if (!q || !range || q.scale.length !== 1) return undefined;
  return [q.scale[0] * (range[0] - q.zeroPoint[0]), q.scale[0] * (range[1] - q.zeroPoint[0])];
}

/** Whether a tensor holds quantized integers (its real values are scale × (q − zeroPoint)). */
export function isQuantized(t: TfliteTensor): boolean {
  return t.quantization !== undefined && INTEGER_RANGE[t.type] !== undefined;
}

/** The real values of a constant tensor as float32, in TFLite's own (row-major, NHWC) order. */
export function dequantize(t: TfliteTensor): Float32Array {
  const data = t.data;
  if (!data)
    throw new SightlineError('MODEL_LOAD', `Tensor '${t.name}' has no stored data; expected a constant.`);
  const raw = storedValues(t, data);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (raw.length !== count) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Constant tensor '${t.name}' of shape [${t.shape.join(', ')}] holds ${raw.length} values; expected ${count}.`,
      { tensor: t.name },
    );
  }
  if (raw instanceof Float32Array) return raw;
  const q = t.quantization;
  if (!q) return Float32Array.from(raw);
  return applyScale(t, raw, q);
}

function applyScale(t: TfliteTensor, raw: ArrayLike<number>, q: TfliteQuantization): Float32Array {
  const out = new Float32Array(raw.length);
  if (q.scale.length === 1) {
    const scale = q.scale[0];
    const zero = q.zeroPoint[0] ?? 0;
    for (let i = 0; i < raw.length; i++) out[i] = scale * (raw[i] - zero);
    return out;
  }
  const axis = q.quantizedDimension;
  if (t.shape[axis] !== q.scale.length) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Tensor '${t.name}' has ${q.scale.length} scales along dimension ${axis}, but that dimension has size ${t.shape[axis]}.`,
      { tensor: t.name },
    );
  }
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = q.scale.length;
  for (let i = 0; i < raw.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = q.scale[c] * (raw[i] - (q.zeroPoint[c] ?? 0));
  }
  return out;
}

/** The stored numbers, little-endian as TFLite writes them; data may sit at any byte offset in the file. */
function storedValues(t: TfliteTensor, data: Uint8Array): Float32Array | ArrayLike<number> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = (size: number, get: (offset: number) => number): number[] =>
    Array.from({ length: Math.floor(data.byteLength / size) }, (_, i) => get(i * size));
  switch (t.type) {
    case TensorType.FLOAT32: {
      const out = new Float32Array(data.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case TensorType.FLOAT16: {
      const out = new Float32Array(data.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case TensorType.UINT8:
      return data;
    case TensorType.INT8:
      return new Int8Array(data.buffer, data.byteOffset, data.byteLength);
    case TensorType.INT16:
      return read(2, (o) => view.getInt16(o, true));
    case TensorType.INT32:
      return read(4, (o) => view.getInt32(o, true));
    case TensorType.INT64:
      return read(8, (o) => Number(view.getBigInt64(o, true)));
    default:
      throw new SightlineError(
        'MODEL_LOAD',
        `Constant tensor '${t.name}' has type ${tensorTypeName(t.type)}; expected FLOAT32, FLOAT16, UINT8, INT8, INT16, INT32 or INT64.`,
        { tensor: t.name, type: tensorTypeName(t.type) },
      );
  }
}

/** IEEE 754 binary16 to a JS number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
