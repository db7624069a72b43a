/**
 * Naive NHWC loops that compute what TFLite's kernels compute, written from the op definitions and not from
 * the converter, plus a runner for converted models. Converter tests compare ONNX Runtime against these.
 */
import * as ort from 'onnxruntime-node';
import { encodeModel, type ModelProto } from '../../src/engines/onnx/proto.js';

export interface Nhwc {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number, number];
}

export async function runModel(
  model: ModelProto,
  inputs: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    return (await session.run(inputs)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

/** Runs a single-input, single-output model on one float32 batch and returns the output values and dims. */
export async function run(
  model: ModelProto,
  inputName: string,
  outputName: string,
  data: Float32Array,
  dims: readonly number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const out = (await runModel(model, { [inputName]: new ort.Tensor('float32', data, [...dims]) }))[
    outputName
  ];
  return { data: out.data as Float32Array, dims: out.dims };
}

/** Deterministic values in [−1, 1) from a seed (tests need many arbitrary but repeatable numbers). */
export function pseudoRandom(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** SAME: ceil(size / stride) outputs, the odd pixel of padding after (bottom/right); VALID: no padding. */
function windowGeometry(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: 'SAME' | 'VALID',
) {
  const extent = (kernel - 1) * dilation + 1;
  if (padding === 'VALID') return { out: Math.floor((size - extent) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + extent - size);
  return { out, before: Math.floor(total / 2) };
}

export interface ConvSpec {
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly padding: 'SAME' | 'VALID';
}

/**
 * TFLite CONV_2D: weights [O, kh, kw, I]. `depthwise` switches to DEPTHWISE_CONV_2D with weights
 * [1, kh, kw, C·M], where output channel c·M + m reads only input channel c.
 */
export function conv2d(
  x: Nhwc,
  weights: Float32Array,
  weightShape: readonly [number, number, number, number],
  bias: Float32Array | undefined,
  spec: ConvSpec,
  depthwise = false,
): Nhwc {
  const [n, h, w, c] = x.shape;
  const [sh, sw] = spec.stride ?? [1, 1];
  const [dh, dw] = spec.dilation ?? [1, 1];
  const kh = weightShape[1];
  const kw = weightShape[2];
  const outC = depthwise ? weightShape[3] : weightShape[0];
  const multiplier = outC / c;
  const gy = windowGeometry(h, kh, sh, dh, spec.padding);
  const gx = windowGeometry(w, kw, sw, dw, spec.padding);
  const out = new Float32Array(n * gy.out * gx.out * outC);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++)
        for (let o = 0; o < outC; o++) {
          let sum = bias ? bias[o] : 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - gy.before + ky * dh;
              const ix = ox * sw - gx.before + kx * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const pixel = ((b * h + iy) * w + ix) * c;
              if (depthwise) {
                sum += x.data[pixel + Math.floor(o / multiplier)] * weights[(ky * kw + kx) * outC + o];
              } else {
                const inC = weightShape[3];
                for (let i = 0; i < inC; i++)
                  sum += x.data[pixel + i] * weights[((o * kh + ky) * kw + kx) * inC + i];
              }
            }
          out[((b * gy.out + oy) * gx.out + ox) * outC + o] = sum;
        }
  return { data: out, shape: [n, gy.out, gx.out, outC] };
}

/** AVERAGE_POOL_2D (mean over the pixels inside the image) or MAX_POOL_2D. */
export function pool2d(
  x: Nhwc,
  kind: 'avg' | 'max',
  filter: readonly [number, number],
  stride: readonly [number, number],
  padding: 'SAME' | 'VALID',
): Nhwc {
  const [n, h, w, c] = x.shape;
  const gy = windowGeometry(h, filter[0], stride[0], 1, padding);
  const gx = windowGeometry(w, filter[1], stride[1], 1, padding);
  const out = new Float32Array(n * gy.out * gx.out * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++)
        for (let k = 0; k < c; k++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let fy = 0; fy < filter[0]; fy++)
            for (let fx = 0; fx < filter[1]; fx++) {
              const iy = oy * stride[0] - gy.before + fy;
              const ix = ox * stride[1] - gx.before + fx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = x.data[((b * h + iy) * w + ix) * c + k];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          out[((b * gy.out + oy) * gx.out + ox) * c + k] = kind === 'max' ? acc : acc / count;
        }
  return { data: out, shape: [n, gy.out, gx.out, c] };
}

/** FULLY_CONNECTED on rows of `depth` values: y = x·Wᵀ + b with W [units, depth]. */
export function fullyConnected(
  x: Float32Array,
  weights: Float32Array,
  bias: Float32Array,
  units: number,
): Float32Array {
  const depth = weights.length / units;
  const rows = x.length / depth;
  const out = new Float32Array(rows * units);
  for (let r = 0; r < rows; r++)
    for (let u = 0; u < units; u++) {
      let sum = bias[u];
      for (let d = 0; d < depth; d++) sum += x[r * depth + d] * weights[u * depth + d];
      out[r * units + u] = sum;
    }
  return out;
}

export function softmaxRows(x: Float32Array, width: number, beta = 1): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    const row = x.subarray(r * width, (r + 1) * width);
    const max = Math.max(...row);
    const exps = Array.from(row, (v) => Math.exp(beta * (v - max)));
    const total = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, i) => {
      out[r * width + i] = e / total;
    });
  }
  return out;
}

export function clip(x: Float32Array, lo: number, hi: number): Float32Array {
  return x.map((v) => Math.min(hi, Math.max(lo, v)));
}

/** Largest absolute difference, for tolerance checks with a useful failure message. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
