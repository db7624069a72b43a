/**
 * A TFLite PAD (zeros) followed by MAX_POOL_2D or AVERAGE_POOL_2D. The zeros are pixels of the padded image,
 * so a max pool may pick them and an average pool counts them. ONNX Runtime's PadFusion (on at the engine's
 * optimization level 'all') folds a zero Pad into the pool's pads, where a MaxPool pads with −∞ and pads as
 * large as the kernel fail to load; ops/pool.ts keeps pools out of that fold unless it is exact. Every model
 * here runs through the engine (OnnxModel, level 'all') and through plain sessions with optimizations off
 * and on, against loops over the padded input written from the op definitions (tflite-reference.ts).
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { convertTflite } from '../../src/engines/tflite/index.js';
import { convertTfliteModel, openConvertedTflite } from '../../src/models/open.js';
import {
  conv2dOptions,
  type ModelSpec,
  poolOptions,
  reshapeOptions,
  type TensorSpec,
  writeTflite,
} from '../helpers/tflite-builder.js';
import { maxAbsDiff, type Nhwc, pool2d, pseudoRandom } from '../helpers/tflite-reference.js';

type Kind = 'max' | 'avg';
type Quantization = { scale: number[]; zeroPoint: number[] };

interface Case {
  readonly kind: Kind;
  readonly padding: 'SAME' | 'VALID';
  readonly filter: readonly [number, number];
  readonly stride: readonly [number, number];
  /** TFLite paddings [[0, 0], [top, bottom], [left, right], [0, 0]], flattened. */
  readonly paddings: readonly number[];
  /** What comes before the PAD: nothing (PAD reads the NHWC input), an identity 1×1 conv, or one with ReLU. */
  readonly before: 'input' | 'conv' | 'relu-conv';
  /** uint8 tensors with this scale and zero point instead of float32. */
  readonly quantized?: { scale: number; zeroPoint: number };
}

const H = 5;
const W = 6;
const C = 3;

/** Zero-pads an NHWC tensor by TFLite paddings. */
function pad(x: Nhwc, p: readonly number[]): Nhwc {
  const [n, h, w, c] = x.shape;
  const ph = h + p[2] + p[3];
  const pw = w + p[4] + p[5];
  const out = new Float32Array(n * ph * pw * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let k = 0; k < c; k++)
          out[((b * ph + y + p[2]) * pw + xx + p[4]) * c + k] = x.data[((b * h + y) * w + xx) * c + k];
  return { data: out, shape: [n, ph, pw, c] };
}

/** TensorFlow's output size and leading padding of a window (as tflite-reference.ts computes it). */
function geometry(size: number, kernel: number, stride: number, padding: 'SAME' | 'VALID') {
  if (padding === 'VALID') return { out: Math.floor((size - kernel) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  return { out, before: Math.floor(Math.max(0, (out - 1) * stride + kernel - size) / 2) };
}

/**
 * The gradient of Σ seed ⊙ pool(pad(x)) with respect to x: a max sends each output's seed to the element its
 * window picked (the padding's zeros included, which then fall outside x), an average spreads it over the
 * pixels of the padded image in the window.
 */
function padPoolGradient(x: Nhwc, c: Case, seed: Float32Array): Float32Array {
  const padded = pad(x, c.paddings);
  const [n, ph, pw, ch] = padded.shape;
  const gy = geometry(ph, c.filter[0], c.stride[0], c.padding);
  const gx = geometry(pw, c.filter[1], c.stride[1], c.padding);
  const dPadded = new Float32Array(padded.data.length);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++)
        for (let k = 0; k < ch; k++) {
          const cells: number[] = [];
          for (let fy = 0; fy < c.filter[0]; fy++)
            for (let fx = 0; fx < c.filter[1]; fx++) {
              const iy = oy * c.stride[0] - gy.before + fy;
              const ix = ox * c.stride[1] - gx.before + fx;
              if (iy >= 0 && iy < ph && ix >= 0 && ix < pw) cells.push(((b * ph + iy) * pw + ix) * ch + k);
            }
          const s = seed[((b * gy.out + oy) * gx.out + ox) * ch + k];
          if (c.kind === 'avg') for (const i of cells) dPadded[i] += s / cells.length;
          else {
            const picked = cells.reduce((best, i) => (padded.data[i] > padded.data[best] ? i : best));
            dPadded[picked] += s;
          }
        }
  const [, h, w] = x.shape;
  const dx = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let k = 0; k < ch; k++)
          dx[((b * h + y) * w + xx) * ch + k] =
            dPadded[((b * ph + y + c.paddings[2]) * pw + xx + c.paddings[4]) * ch + k];
  return dx;
}

function outputSize(c: Case): [number, number] {
  const ph = H + c.paddings[2] + c.paddings[3];
  const pw = W + c.paddings[4] + c.paddings[5];
  return [
    geometry(ph, c.filter[0], c.stride[0], c.padding).out,
    geometry(pw, c.filter[1], c.stride[1], c.padding).out,
  ];
}

/** [input] → (1×1 identity conv) → PAD → pool → RESHAPE to [1, K] scores. */
function padPoolModel(c: Case): ModelSpec {
  const q: Quantization | undefined = c.quantized && {
    scale: [c.quantized.scale],
    zeroPoint: [c.quantized.zeroPoint],
  };
  const activation = (name: string, shape: number[]): TensorSpec =>
    q ? { name, shape, type: 'uint8', quantization: q } : { name, shape };
  const [oh, ow] = outputSize(c);
  const tensors: TensorSpec[] = [activation('input', [1, H, W, C])];
  const operators: ModelSpec['operators'][number][] = [];
  let padInput = 0;
  if (c.before !== 'input') {
    const identity = Array.from({ length: C * C }, (_, i) => (i % (C + 1) === 0 ? 1 : 0));
    tensors.push(
      q
        ? {
            name: 'weights',
            shape: [C, 1, 1, C],
            type: 'uint8',
            data: identity.map((v) => v * 100),
            quantization: { scale: [0.01], zeroPoint: [0] },
          }
        : { name: 'weights', shape: [C, 1, 1, C], data: identity },
      q
        ? {
            name: 'bias',
            shape: [C],
            type: 'int32',
            data: [0, 0, 0],
            quantization: { scale: [q.scale[0] * 0.01], zeroPoint: [0] },
          }
        : { name: 'bias', shape: [C], data: [0, 0, 0] },
      activation('features', [1, H, W, C]),
    );
    operators.push({
      op: 'CONV_2D',
      inputs: [0, 1, 2],
      outputs: [3],
      options: conv2dOptions({ padding: 'VALID', activation: c.before === 'relu-conv' ? 'RELU' : 'NONE' }),
    });
    padInput = 3;
  }
  const paddingsIndex = tensors.length;
  tensors.push(
    { name: 'paddings', shape: [4, 2], type: 'int32', data: c.paddings },
    activation('padded', [1, H + c.paddings[2] + c.paddings[3], W + c.paddings[4] + c.paddings[5], C]),
    activation('pooled', [1, oh, ow, C]),
    activation('scores', [1, oh * ow * C]),
  );
  operators.push(
    { op: 'PAD', inputs: [padInput, paddingsIndex], outputs: [paddingsIndex + 1] },
    {
      op: c.kind === 'max' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D',
      inputs: [paddingsIndex + 1],
      outputs: [paddingsIndex + 2],
      options: poolOptions({ padding: c.padding, filter: c.filter, stride: c.stride }),
    },
    {
      op: 'RESHAPE',
      inputs: [paddingsIndex + 2],
      outputs: [paddingsIndex + 3],
      options: reshapeOptions([1, oh * ow * C]),
    },
  );
  return { tensors, operators, inputs: [0], outputs: [paddingsIndex + 3] };
}

/** A batch of 2 with negative values throughout (so zeros and −∞ padding differ for a max). */
function inputBatch(c: Case, seed: number): Nhwc {
  const count = 2 * H * W * C;
  if (c.quantized) {
    const { scale, zeroPoint } = c.quantized;
    const stored = pseudoRandom(count, seed).map((v) => Math.round(127.5 * (v + 1)));
    return { data: stored.map((s) => scale * (s - zeroPoint)), shape: [2, H, W, C] };
  }
  return { data: pseudoRandom(count, seed).map((v) => 2 * v - 0.5), shape: [2, H, W, C] };
}

/** What the TFLite model computes, from the op definitions. */
function expected(c: Case, x: Nhwc): Float32Array {
  const features: Nhwc = c.before === 'relu-conv' ? { ...x, data: x.data.map((v) => Math.max(0, v)) } : x;
  return pool2d(pad(features, c.paddings), c.kind, c.filter, c.stride, c.padding).data;
}

function poolNode(bytes: Uint8Array, model = convertTflite(bytes).model) {
  const node = model.graph?.node?.find((n) => n.opType === 'MaxPool' || n.opType === 'AveragePool');
  if (!node) throw new Error('no pool node');
  const attribute = (name: string) => node.attribute?.find((a) => a.name === name);
  return {
    pads: attribute('pads')?.ints?.map(Number),
    autoPad: attribute('auto_pad')?.s && new TextDecoder().decode(attribute('auto_pad')?.s),
  };
}

async function runSession(
  bytes: Uint8Array,
  level: 'disabled' | 'all',
  x: Nhwc,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const conversion = convertTflite(bytes);
  const session = await ort.InferenceSession.create(encodeModel(conversion.model), {
    graphOptimizationLevel: level,
  });
  try {
    const out = await session.run({
      [conversion.inputName]: new ort.Tensor('float32', x.data, [...x.shape]),
    });
    const t = out[conversion.outputName];
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}

const opened: Model[] = [];
afterAll(async () => {
  for (const model of opened) await model.dispose();
});

async function engine(bytes: Uint8Array): Promise<Model> {
  const model = await openConvertedTflite(convertTfliteModel(bytes), {});
  opened.push(model);
  return model;
}

/** Checks values (engine and plain sessions at both levels) and the engine's input gradients. */
async function expectMatchesReference(c: Case, seed: number) {
  const bytes = writeTflite(padPoolModel(c));
  const x = inputBatch(c, seed);
  const want = expected(c, x);
  const [oh, ow] = outputSize(c);
  // The inputs reach below zero, where a −∞-padded max pool would differ from the zero-padded one.
  expect(Math.min(...x.data)).toBeLessThan(-0.3);
  for (const level of ['disabled', 'all'] as const) {
    const out = await runSession(bytes, level, x);
    expect(out.dims).toEqual([2, oh * ow * C]);
    expect(maxAbsDiff(out.data, want), `session at level '${level}'`).toBeLessThan(1e-5);
  }
  const model = await engine(bytes);
  const scores = await model.predict({ data: x.data, dims: [...x.shape] });
  expect(maxAbsDiff(scores.data, want), 'engine predict').toBeLessThan(1e-5);

  const outSeed = pseudoRandom(2 * oh * ow * C, seed + 100);
  const result = await model.inputGradients!(
    { data: x.data, dims: [...x.shape] },
    {
      data: outSeed,
      dims: [2, oh * ow * C],
    },
  );
  expect(maxAbsDiff(result.scores.data, want), 'scores of the gradient pass').toBeLessThan(1e-5);
  const features: Nhwc = c.before === 'relu-conv' ? { ...x, data: x.data.map((v) => Math.max(0, v)) } : x;
  const relu = c.before === 'relu-conv' ? x.data.map((v) => (v > 0 ? 1 : 0)) : undefined;
  const wantGradient = padPoolGradient(features, c, outSeed).map((g, i) => (relu ? g * relu[i] : g));
  expect(result.gradients.dims).toEqual([...x.shape]);
  expect(maxAbsDiff(result.gradients.data, wantGradient), 'input gradient').toBeLessThan(1e-5);
}

const SYMMETRIC = [0, 0, 1, 1, 1, 1, 0, 0];
const ASYMMETRIC = [0, 0, 1, 0, 2, 1, 0, 0];

describe('TFLite PAD → pool on values below zero (ONNX Runtime PadFusion)', () => {
  for (const kind of ['max', 'avg'] as const)
    for (const padding of ['VALID', 'SAME'] as const)
      for (const [padName, paddings] of [
        ['symmetric', SYMMETRIC],
        ['asymmetric', ASYMMETRIC],
      ] as const)
        it(`${kind} pool, ${padding}, ${padName} PAD after a conv`, async () => {
          await expectMatchesReference(
            { kind, padding, filter: [3, 3], stride: [2, 2], paddings, before: 'conv' },
            kind === 'max' ? 1 : 2,
          );
        });

  it('a PAD on the NHWC graph input (a Transpose between the Pad and the pool)', async () => {
    for (const kind of ['max', 'avg'] as const)
      await expectMatchesReference(
        { kind, padding: 'SAME', filter: [3, 2], stride: [1, 2], paddings: ASYMMETRIC, before: 'input' },
        3,
      );
  });

  it('pads as large as the kernel (which a fold would turn into pads ONNX Runtime refuses)', async () => {
    for (const kind of ['max', 'avg'] as const)
      await expectMatchesReference(
        {
          kind,
          padding: 'VALID',
          filter: [2, 2],
          stride: [1, 1],
          paddings: [0, 0, 2, 2, 2, 0, 0, 0],
          before: 'conv',
        },
        4,
      );
  });

  it('uint8 tensors with zero point 128: the PAD fills with the real 0', async () => {
    for (const kind of ['max', 'avg'] as const)
      for (const padding of ['VALID', 'SAME'] as const)
        await expectMatchesReference(
          {
            kind,
            padding,
            filter: [3, 3],
            stride: [2, 2],
            paddings: ASYMMETRIC,
            before: 'conv',
            quantized: { scale: 0.05, zeroPoint: 128 },
          },
          5,
        );
  });

  it('says its padding with auto_pad after a PAD, unless a max pool reads values ≥ 0 with pads below the kernel', () => {
    const base = { filter: [3, 3], stride: [2, 2], paddings: SYMMETRIC } as const;
    const signed = poolNode(
      writeTflite(padPoolModel({ ...base, kind: 'max', padding: 'SAME', before: 'conv' })),
    );
    expect(signed).toEqual({ pads: undefined, autoPad: 'SAME_UPPER' });
    const average = poolNode(
      writeTflite(padPoolModel({ ...base, kind: 'avg', padding: 'VALID', before: 'relu-conv' })),
    );
    expect(average).toEqual({ pads: undefined, autoPad: 'VALID' });
    // After a ReLU the fold is exact (and saves the Pad's copy), so the pads stay explicit.
    const rectified = poolNode(
      writeTflite(padPoolModel({ ...base, kind: 'max', padding: 'SAME', before: 'relu-conv' })),
    );
    expect(rectified).toEqual({ pads: [1, 0, 1, 1], autoPad: undefined });
    const wide = poolNode(
      writeTflite(
        padPoolModel({
          kind: 'max',
          padding: 'VALID',
          filter: [2, 2],
          stride: [1, 1],
          paddings: [0, 0, 2, 0, 0, 0, 0, 0],
          before: 'relu-conv',
        }),
      ),
    );
    expect(wide).toEqual({ pads: undefined, autoPad: 'VALID' });
  });

  it('a max pool after ReLU → PAD keeps explicit pads while they stay below the kernel, and matches', async () => {
    const relu = { kind: 'max', filter: [3, 3], stride: [2, 2], before: 'relu-conv' } as const;
    const cases: [Case, number[] | undefined][] = [
      // The PAD's [1, 2, 0, 1] would fold into these (and the −∞ of a MaxPool's pads never wins over values ≥ 0).
      [{ ...relu, padding: 'VALID', paddings: ASYMMETRIC }, [0, 0, 0, 0]],
      // SAME pads [1, 0, 1, 1] of its own on the padded 7 × 8.
      [{ ...relu, padding: 'SAME', paddings: SYMMETRIC }, [1, 0, 1, 1]],
      // SAME pads [0, 1, 1, 1] on 6 × 9: with the PAD's 2 on the left a fold would reach the kernel's 3.
      [{ ...relu, padding: 'SAME', paddings: ASYMMETRIC }, undefined],
    ];
    for (const [c, pads] of cases) {
      expect(poolNode(writeTflite(padPoolModel(c))).pads).toEqual(pads);
      await expectMatchesReference(c, 6);
    }
  });

  it('a pool without a PAD before it keeps explicit pads (the default model converts as before)', () => {
    const spec: ModelSpec = {
      tensors: [
        { name: 'input', shape: [1, H, W, C] },
        { name: 'pooled', shape: [1, 3, 3, C] },
      ],
      operators: [
        {
          op: 'MAX_POOL_2D',
          inputs: [0],
          outputs: [1],
          options: poolOptions({ padding: 'SAME', filter: [3, 3], stride: [2, 2] }),
        },
      ],
      inputs: [0],
      outputs: [1],
    };
    expect(poolNode(writeTflite(spec))).toEqual({ pads: [1, 0, 1, 1], autoPad: undefined });
  });
});
