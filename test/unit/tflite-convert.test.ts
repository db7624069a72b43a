import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { tensorFloats } from '../../src/engines/onnx/proto.js';
import {
  convertTflite,
  SUPPORTED_TFLITE_OPS,
  type TfliteConvertOptions,
} from '../../src/engines/tflite/index.js';
import {
  addOptions,
  concatenationOptions,
  conv2dOptions,
  depthwiseOptions,
  fullyConnectedOptions,
  type ModelSpec,
  mulOptions,
  poolOptions,
  reducerOptions,
  reshapeOptions,
  softmaxOptions,
  squeezeOptions,
  type TensorSpec,
  writeTflite,
} from '../helpers/tflite-builder.js';
import {
  clip,
  conv2d,
  fullyConnected,
  maxAbsDiff,
  type Nhwc,
  pool2d,
  pseudoRandom,
  run,
  softmaxRows,
} from '../helpers/tflite-reference.js';

async function convertAndRun(
  spec: ModelSpec,
  x: Float32Array,
  dims: number[],
  options?: TfliteConvertOptions,
) {
  const conversion = convertTflite(writeTflite(spec), options);
  const out = await run(conversion.model, conversion.inputName, conversion.outputName, x, dims);
  return { ...out, conversion };
}

function opTypes(conversion: ReturnType<typeof convertTflite>): string[] {
  return conversion.model.graph?.node?.map((n) => n.opType) ?? [];
}

function initializer(conversion: ReturnType<typeof convertTflite>, name: string): Float32Array {
  const t = conversion.model.graph?.initializer?.find((i) => i.name === name);
  if (!t) throw new Error(`no initializer ${name}`);
  return tensorFloats(t);
}

/** Scalar inputs of the Clip nodes, as [min, max]. */
function clipBounds(conversion: ReturnType<typeof convertTflite>): number[][] {
  const nodes = conversion.model.graph?.node?.filter((n) => n.opType === 'Clip') ?? [];
  return nodes.map((n) =>
    (n.input ?? []).slice(1).map((name) => (name ? initializer(conversion, name)[0] : Number.NaN)),
  );
}

const floatTensor = (name: string, shape: number[], data?: ArrayLike<number>): TensorSpec => ({
  name,
  shape,
  data,
});

/** A model of one conv: input [1, H, W, Cin] → CONV_2D → output. */
function convModel(
  inputShape: [number, number, number, number],
  weightShape: [number, number, number, number],
  outputShape: number[],
  weights: Float32Array,
  bias: Float32Array | undefined,
  options: ReturnType<typeof conv2dOptions>,
): ModelSpec {
  return {
    tensors: [
      floatTensor('input', inputShape),
      floatTensor('weights', weightShape, weights),
      floatTensor('output', outputShape),
      ...(bias ? [floatTensor('bias', [weightShape[0]], bias)] : []),
    ],
    operators: [{ op: 'CONV_2D', inputs: [0, 1, bias ? 3 : -1], outputs: [2], options }],
    inputs: [0],
    outputs: [2],
  };
}

describe('convertTflite: convolutions', () => {
  it('converts a 3×3 conv with SAME padding and stride 2 on a 5×5 input, for a batch of 2', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 5 * 5 * 2, 1), shape: [2, 5, 5, 2] };
    const w = pseudoRandom(3 * 3 * 3 * 2, 2);
    const bias = pseudoRandom(3, 3);
    const spec = convModel(
      [1, 5, 5, 2],
      [3, 3, 3, 2],
      [1, 3, 3, 3],
      w,
      bias,
      conv2dOptions({ padding: 'SAME', stride: [2, 2] }),
    );
    const out = await convertAndRun(spec, x.data, [2, 5, 5, 2]);
    const expected = conv2d(x, w, [3, 3, 3, 2], bias, { padding: 'SAME', stride: [2, 2] });
    expect(out.dims).toEqual([2, 3, 3, 3]);
    expect(maxAbsDiff(out.data, expected.data)).toBeLessThan(1e-5);
  });

  it('puts the odd pixel of SAME padding at the bottom and right, as TensorFlow does', async () => {
    // 4×4 input 1..16, all-ones 3×3 kernel, stride 2: one row/column of padding, after the image.
    const x = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    const spec = convModel(
      [1, 4, 4, 1],
      [1, 3, 3, 1],
      [1, 2, 2, 1],
      new Float32Array(9).fill(1),
      undefined,
      conv2dOptions({ padding: 'SAME', stride: [2, 2] }),
    );
    const out = await convertAndRun(spec, x, [1, 4, 4, 1]);
    // Top-left window covers rows 0–2, cols 0–2: 1+2+3+5+6+7+9+10+11 = 54; with padding before it would be 14.
    expect(Array.from(out.data)).toEqual([54, 45, 72, 54]);
  });

  it('converts dilations and VALID padding', async () => {
    const x: Nhwc = { data: pseudoRandom(6 * 7 * 3, 4), shape: [1, 6, 7, 3] };
    const w = pseudoRandom(2 * 2 * 2 * 3, 5);
    const spec = convModel(
      [1, 6, 7, 3],
      [2, 2, 2, 3],
      [1, 4, 4, 2],
      w,
      undefined,
      conv2dOptions({ padding: 'VALID', dilation: [2, 3] }),
    );
    const out = await convertAndRun(spec, x.data, [1, 6, 7, 3]);
    const expected = conv2d(x, w, [2, 2, 2, 3], undefined, { padding: 'VALID', dilation: [2, 3] });
    expect(out.dims).toEqual([1, 4, 4, 2]);
    expect(maxAbsDiff(out.data, expected.data)).toBeLessThan(1e-5);
  });

  it('converts a depthwise conv with depth multiplier 2 and fused RELU6', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 5 * 4 * 2, 6).map((v) => 4 * v), shape: [2, 5, 4, 2] };
    const w = pseudoRandom(3 * 3 * 4, 7);
    const bias = Float32Array.of(0.5, -0.5, 1, 2);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 5, 4, 2]),
        floatTensor('dw_weights', [1, 3, 3, 4], w),
        floatTensor('dw_bias', [4], bias),
        floatTensor('output', [1, 3, 4, 4]),
      ],
      operators: [
        {
          op: 'DEPTHWISE_CONV_2D',
          inputs: [0, 1, 2],
          outputs: [3],
          options: depthwiseOptions({ padding: 'SAME', stride: [2, 1], multiplier: 2, activation: 'RELU6' }),
        },
      ],
      inputs: [0],
      outputs: [3],
    };
    const out = await convertAndRun(spec, x.data, [2, 5, 4, 2]);
    const raw = conv2d(x, w, [1, 3, 3, 4], bias, { padding: 'SAME', stride: [2, 1] }, true);
    expect(raw.data.some((v) => v > 6) && raw.data.some((v) => v < 0)).toBe(true);
    expect(out.dims).toEqual([2, 3, 4, 4]);
    expect(maxAbsDiff(out.data, clip(raw.data, 0, 6))).toBeLessThan(1e-5);
    expect(clipBounds(out.conversion)).toEqual([[0, 6]]);
  });

  it('reads float16 weights through a DEQUANTIZE, folded into the conv', async () => {
    const w = Float32Array.from({ length: 2 * 2 * 2 * 2 }, (_, i) => (i - 7) / 8);
    const x: Nhwc = { data: pseudoRandom(3 * 3 * 2, 8), shape: [1, 3, 3, 2] };
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 3, 3, 2]),
        { name: 'weights_f16', shape: [2, 2, 2, 2], type: 'float16', data: w },
        floatTensor('weights', [2, 2, 2, 2]),
        floatTensor('output', [1, 2, 2, 2]),
      ],
      operators: [
        { op: 'DEQUANTIZE', inputs: [1], outputs: [2] },
        { op: 'CONV_2D', inputs: [0, 2, -1], outputs: [3], options: conv2dOptions({ padding: 'VALID' }) },
      ],
      inputs: [0],
      outputs: [3],
    };
    const out = await convertAndRun(spec, x.data, [1, 3, 3, 2]);
    expect(opTypes(out.conversion)).toEqual(['Transpose', 'Conv', 'Transpose']);
    expect(
      maxAbsDiff(out.data, conv2d(x, w, [2, 2, 2, 2], undefined, { padding: 'VALID' }).data),
    ).toBeLessThan(1e-6);
  });

  it('pads explicitly with PAD before a VALID conv', async () => {
    const x: Nhwc = { data: pseudoRandom(3 * 3 * 2, 9), shape: [1, 3, 3, 2] };
    const w = pseudoRandom(1 * 2 * 2 * 2, 10);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 3, 3, 2]),
        { name: 'paddings', shape: [4, 2], type: 'int32', data: [0, 0, 1, 2, 0, 1, 0, 0] },
        floatTensor('padded', [1, 6, 4, 2]),
        floatTensor('weights', [1, 2, 2, 2], w),
        floatTensor('output', [1, 5, 3, 1]),
      ],
      operators: [
        { op: 'PAD', inputs: [0, 1], outputs: [2] },
        { op: 'CONV_2D', inputs: [2, 3, -1], outputs: [4], options: conv2dOptions({ padding: 'VALID' }) },
      ],
      inputs: [0],
      outputs: [4],
    };
    const padded = new Float32Array(6 * 4 * 2);
    for (let y = 0; y < 3; y++)
      for (let xx = 0; xx < 3; xx++)
        for (let c = 0; c < 2; c++) padded[((y + 1) * 4 + xx) * 2 + c] = x.data[(y * 3 + xx) * 2 + c];
    const out = await convertAndRun(spec, x.data, [1, 3, 3, 2]);
    const expected = conv2d({ data: padded, shape: [1, 6, 4, 2] }, w, [1, 2, 2, 2], undefined, {
      padding: 'VALID',
    });
    expect(out.dims).toEqual([1, 5, 3, 1]);
    expect(maxAbsDiff(out.data, expected.data)).toBeLessThan(1e-6);
  });
});

describe('convertTflite: pooling, concatenation and reductions', () => {
  it('averages only over the pixels inside the image with SAME padding', async () => {
    const spec: ModelSpec = {
      tensors: [floatTensor('input', [1, 3, 3, 1]), floatTensor('output', [1, 3, 3, 1])],
      operators: [
        {
          op: 'AVERAGE_POOL_2D',
          inputs: [0],
          outputs: [1],
          options: poolOptions({ padding: 'SAME', filter: [3, 3] }),
        },
      ],
      inputs: [0],
      outputs: [1],
    };
    const out = await convertAndRun(spec, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 3, 3, 1]);
    // Corner: (1+2+4+5)/4; edge: (1+2+3+4+5+6)/6; centre: 45/9.
    expect(Array.from(out.data)).toEqual([3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7]);
  });

  it('converts max pools with VALID and SAME padding', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 5 * 5 * 3, 11), shape: [2, 5, 5, 3] };
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 5, 5, 3]),
        floatTensor('pooled', [1, 3, 3, 3]),
        floatTensor('output', [1, 1, 1, 3]),
      ],
      operators: [
        {
          op: 'MAX_POOL_2D',
          inputs: [0],
          outputs: [1],
          options: poolOptions({ padding: 'SAME', filter: [3, 3], stride: [2, 2] }),
        },
        {
          op: 'MAX_POOL_2D',
          inputs: [1],
          outputs: [2],
          options: poolOptions({ padding: 'VALID', filter: [2, 2], stride: [2, 2] }),
        },
      ],
      inputs: [0],
      outputs: [2],
    };
    const out = await convertAndRun(spec, x.data, [2, 5, 5, 3]);
    const expected = pool2d(pool2d(x, 'max', [3, 3], [2, 2], 'SAME'), 'max', [2, 2], [2, 2], 'VALID');
    expect(out.dims).toEqual([2, 1, 1, 3]);
    expect(Array.from(out.data)).toEqual(Array.from(expected.data));
  });

  it('concatenates conv outputs on the channel axis, staying NCHW inside', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 3 * 3 * 2, 12), shape: [2, 3, 3, 2] };
    const w1 = pseudoRandom(2 * 2, 13);
    const w2 = pseudoRandom(3 * 3 * 3 * 2, 14);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 3, 3, 2]),
        floatTensor('w1', [2, 1, 1, 2], w1),
        floatTensor('w2', [3, 3, 3, 2], w2),
        floatTensor('a', [1, 3, 3, 2]),
        floatTensor('b', [1, 3, 3, 3]),
        floatTensor('output', [1, 3, 3, 5]),
      ],
      operators: [
        { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [3], options: conv2dOptions({ padding: 'SAME' }) },
        { op: 'CONV_2D', inputs: [0, 2, -1], outputs: [4], options: conv2dOptions({ padding: 'SAME' }) },
        { op: 'CONCATENATION', inputs: [3, 4], outputs: [5], options: concatenationOptions(-1) },
      ],
      inputs: [0],
      outputs: [5],
    };
    const out = await convertAndRun(spec, x.data, [2, 3, 3, 2]);
    const a = conv2d(x, w1, [2, 1, 1, 2], undefined, { padding: 'SAME' });
    const b = conv2d(x, w2, [3, 3, 3, 2], undefined, { padding: 'SAME' });
    const expected = new Float32Array(2 * 9 * 5);
    for (let p = 0; p < 18; p++) {
      expected.set(a.data.subarray(p * 2, p * 2 + 2), p * 5);
      expected.set(b.data.subarray(p * 3, p * 3 + 3), p * 5 + 2);
    }
    expect(out.dims).toEqual([2, 3, 3, 5]);
    expect(maxAbsDiff(out.data, expected)).toBeLessThan(1e-5);
    // One transpose into NCHW for both convs and the concat, one back to NHWC for the output.
    expect(opTypes(out.conversion).filter((t) => t === 'Transpose')).toHaveLength(2);
    expect(out.conversion.tensors.output).toEqual({ name: 'output', layout: 'NCHW' });
  });

  it('takes the mean over H and W, with and without keep_dims', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 3 * 4 * 3, 15), shape: [2, 3, 4, 3] };
    const w = pseudoRandom(3 * 3, 16);
    const expectedMean = (features: Nhwc) => {
      const [n, h, ww, c] = features.shape;
      const out = new Float32Array(n * c);
      for (let i = 0; i < features.data.length; i++)
        out[Math.floor(i / (h * ww * c)) * c + (i % c)] += features.data[i] / (h * ww);
      return out;
    };
    const features = conv2d(x, w, [3, 1, 1, 3], undefined, { padding: 'VALID' });
    for (const keepDims of [false, true]) {
      const spec: ModelSpec = {
        tensors: [
          floatTensor('input', [1, 3, 4, 3]),
          floatTensor('w', [3, 1, 1, 3], w),
          floatTensor('features', [1, 3, 4, 3]),
          { name: 'axes', shape: [2], type: 'int32', data: [1, 2] },
          floatTensor('output', keepDims ? [1, 1, 1, 3] : [1, 3]),
        ],
        operators: [
          { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], options: conv2dOptions({ padding: 'VALID' }) },
          { op: 'MEAN', inputs: [2, 3], outputs: [4], options: reducerOptions(keepDims) },
        ],
        inputs: [0],
        outputs: [4],
      };
      const out = await convertAndRun(spec, x.data, [2, 3, 4, 3]);
      expect(out.dims).toEqual(keepDims ? [2, 1, 1, 3] : [2, 3]);
      expect(maxAbsDiff(out.data, expectedMean(features))).toBeLessThan(1e-5);
      // Only the input is transposed: the mean runs on the NCHW features, and [N, C] needs no reordering.
      expect(opTypes(out.conversion).filter((t) => t === 'Transpose')).toHaveLength(keepDims ? 2 : 1);
    }
  });

  it('squeezes the spatial axes of a pooled feature map', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 2 * 2 * 3, 17), shape: [2, 2, 2, 3] };
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 2, 2, 3]),
        floatTensor('pooled', [1, 1, 1, 3]),
        floatTensor('output', [1, 3]),
      ],
      operators: [
        {
          op: 'AVERAGE_POOL_2D',
          inputs: [0],
          outputs: [1],
          options: poolOptions({ padding: 'VALID', filter: [2, 2], stride: [2, 2] }),
        },
        { op: 'SQUEEZE', inputs: [1], outputs: [2], options: squeezeOptions([1, 2]) },
      ],
      inputs: [0],
      outputs: [2],
    };
    const out = await convertAndRun(spec, x.data, [2, 2, 2, 3]);
    expect(out.dims).toEqual([2, 3]);
    expect(maxAbsDiff(out.data, pool2d(x, 'avg', [2, 2], [2, 2], 'VALID').data)).toBeLessThan(1e-6);
    expect(opTypes(out.conversion)).toEqual(['Transpose', 'AveragePool', 'Squeeze']);
  });
});

describe('convertTflite: classifier heads and elementwise ops', () => {
  it('flattens a conv feature map in NHWC order for FULLY_CONNECTED, then applies softmax with beta', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 2 * 2 * 3, 18), shape: [2, 2, 2, 3] };
    const wConv = pseudoRandom(3 * 3, 19);
    const wFc = pseudoRandom(4 * 12, 20);
    const bFc = pseudoRandom(4, 21);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 2, 2, 3]),
        floatTensor('w_conv', [3, 1, 1, 3], wConv),
        floatTensor('features', [1, 2, 2, 3]),
        floatTensor('flat', [1, 12]),
        floatTensor('w_fc', [4, 12], wFc),
        floatTensor('b_fc', [4], bFc),
        floatTensor('logits', [1, 4]),
        floatTensor('probabilities', [1, 4]),
      ],
      operators: [
        { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], options: conv2dOptions({ padding: 'VALID' }) },
        { op: 'RESHAPE', inputs: [2], outputs: [3], options: reshapeOptions([1, 12]) },
        { op: 'FULLY_CONNECTED', inputs: [3, 4, 5], outputs: [6], options: fullyConnectedOptions() },
        { op: 'SOFTMAX', inputs: [6], outputs: [7], options: softmaxOptions(0.5) },
      ],
      inputs: [0],
      outputs: [7],
    };
    const out = await convertAndRun(spec, x.data, [2, 2, 2, 3]);
    const features = conv2d(x, wConv, [3, 1, 1, 3], undefined, { padding: 'VALID' });
    const expected = softmaxRows(fullyConnected(features.data, wFc, bFc, 4), 4, 0.5);
    expect(out.dims).toEqual([2, 4]);
    expect(maxAbsDiff(out.data, expected)).toBeLessThan(1e-6);
    expect(out.conversion.opCounts).toEqual({ CONV_2D: 1, RESHAPE: 1, FULLY_CONNECTED: 1, SOFTMAX: 1 });
  });

  it('keeps the leading dims with keep_num_dims', async () => {
    const x = pseudoRandom(2 * 3 * 5, 22);
    const w = pseudoRandom(4 * 5, 23);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 3, 5]),
        floatTensor('w', [4, 5], w),
        floatTensor('output', [1, 3, 4]),
      ],
      operators: [
        {
          op: 'FULLY_CONNECTED',
          inputs: [0, 1, -1],
          outputs: [2],
          options: fullyConnectedOptions({ keepNumDims: true, activation: 'RELU' }),
        },
      ],
      inputs: [0],
      outputs: [2],
    };
    const out = await convertAndRun(spec, x, [2, 3, 5]);
    expect(out.dims).toEqual([2, 3, 4]);
    expect(
      maxAbsDiff(out.data, clip(fullyConnected(x, w, new Float32Array(4), 4), 0, Infinity)),
    ).toBeLessThan(1e-6);
  });

  it('takes the softmax of a 4-D NCHW value over its channels', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 2 * 3 * 2, 24), shape: [2, 2, 3, 2] };
    const w = pseudoRandom(4 * 2, 25);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 2, 3, 2]),
        floatTensor('w', [4, 1, 1, 2], w),
        floatTensor('f', [1, 2, 3, 4]),
        floatTensor('output', [1, 2, 3, 4]),
      ],
      operators: [
        { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], options: conv2dOptions({ padding: 'VALID' }) },
        { op: 'SOFTMAX', inputs: [2], outputs: [3], options: softmaxOptions(1) },
      ],
      inputs: [0],
      outputs: [3],
    };
    const out = await convertAndRun(spec, x.data, [2, 2, 3, 2]);
    const expected = softmaxRows(conv2d(x, w, [4, 1, 1, 2], undefined, { padding: 'VALID' }).data, 4);
    expect(maxAbsDiff(out.data, expected)).toBeLessThan(1e-6);
  });

  it('broadcasts ADD and MUL against constants of lower rank and adds two activations in different layouts', async () => {
    const x: Nhwc = { data: pseudoRandom(2 * 2 * 3 * 2, 26), shape: [2, 2, 3, 2] };
    const w = pseudoRandom(2 * 2, 27);
    const perChannel = Float32Array.of(0.25, -0.5);
    const perColumn = Float32Array.of(1, 2, 3);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 2, 3, 2]),
        floatTensor('w', [2, 1, 1, 2], w),
        floatTensor('conv', [1, 2, 3, 2]),
        floatTensor('per_channel', [2], perChannel),
        floatTensor('shifted', [1, 2, 3, 2]),
        floatTensor('per_column', [3, 1], perColumn),
        floatTensor('scaled', [1, 2, 3, 2]),
        floatTensor('output', [1, 2, 3, 2]),
      ],
      operators: [
        { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], options: conv2dOptions({ padding: 'VALID' }) },
        { op: 'ADD', inputs: [2, 3], outputs: [4], options: addOptions() },
        { op: 'MUL', inputs: [4, 5], outputs: [6], options: mulOptions() },
        { op: 'ADD', inputs: [6, 0], outputs: [7], options: addOptions('RELU') },
      ],
      inputs: [0],
      outputs: [7],
    };
    const out = await convertAndRun(spec, x.data, [2, 2, 3, 2]);
    const conv = conv2d(x, w, [2, 1, 1, 2], undefined, { padding: 'VALID' }).data;
    const expected = conv.map((v, i) => {
      const c = i % 2;
      const column = Math.floor(i / 2) % 3;
      return Math.max(0, (v + perChannel[c]) * perColumn[column] + x.data[i]);
    });
    expect(maxAbsDiff(out.data, expected)).toBeLessThan(1e-6);
  });

  it('converts RELU, RELU6, RELU_N1_TO_1, LOGISTIC and HARD_SWISH elementwise', async () => {
    const x = pseudoRandom(2 * 10, 28).map((v) => 8 * v);
    const ops = ['HARD_SWISH', 'RELU_N1_TO_1', 'LOGISTIC', 'RELU', 'RELU6'] as const;
    const reference: Record<(typeof ops)[number], (v: number) => number> = {
      HARD_SWISH: (v) => (v * Math.min(6, Math.max(0, v + 3))) / 6,
      RELU_N1_TO_1: (v) => Math.min(1, Math.max(-1, v)),
      LOGISTIC: (v) => 1 / (1 + Math.exp(-v)),
      RELU: (v) => Math.max(0, v),
      RELU6: (v) => Math.min(6, Math.max(0, v)),
    };
    for (const op of ops) {
      const spec: ModelSpec = {
        tensors: [floatTensor('input', [1, 10]), floatTensor('output', [1, 10])],
        operators: [{ op, inputs: [0], outputs: [1] }],
        inputs: [0],
        outputs: [1],
      };
      const out = await convertAndRun(spec, x, [2, 10]);
      expect(maxAbsDiff(out.data, x.map(reference[op])), op).toBeLessThan(1e-6);
    }
  });

  it('applies a fused TANH as a node and rejects the SIGN_BIT activation by name', async () => {
    const x = pseudoRandom(2 * 4, 30).map((v) => 3 * v);
    const bias = Float32Array.of(0.5, -1, 2, 0);
    const model = (activation: number): ModelSpec => ({
      tensors: [floatTensor('input', [1, 4]), floatTensor('bias', [4], bias), floatTensor('output', [1, 4])],
      operators: [
        {
          op: 'ADD',
          inputs: [0, 1],
          outputs: [2],
          options: { type: 11, fields: [{ id: 0, int8: activation }] },
        },
      ],
      inputs: [0],
      outputs: [2],
    });
    const out = await convertAndRun(model(4), x, [2, 4]);
    expect(opTypes(out.conversion)).toEqual(['Add', 'Tanh']);
    expect(
      maxAbsDiff(
        out.data,
        x.map((v, i) => Math.tanh(v + bias[i % 4])),
      ),
    ).toBeLessThan(1e-6);
    expect(() => convertTflite(writeTflite(model(5)))).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_OP',
        message: expect.stringMatching(/'ADD' \(operator #0\) has fused activation 5/),
      }),
    );
  });

  it('skips a RELU whose input is already clipped to a narrower range', () => {
    const spec: ModelSpec = {
      tensors: [floatTensor('input', [1, 4]), floatTensor('six', [1, 4]), floatTensor('output', [1, 4])],
      operators: [
        { op: 'RELU6', inputs: [0], outputs: [1] },
        { op: 'RELU', inputs: [1], outputs: [2] },
      ],
      inputs: [0],
      outputs: [2],
    };
    const conversion = convertTflite(writeTflite(spec));
    expect(opTypes(conversion)).toEqual(['Clip']);
    expect(conversion.outputName).toBe('six');
  });
});

describe('convertTflite: quantized models', () => {
  const inputQ = { scale: [1 / 128], zeroPoint: [128] };
  const weightQ = { scale: [0.02], zeroPoint: [100] };
  const storedWeights = Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => (i * 37) % 256);
  const storedBias = [1000, -2000, 5000];
  const realWeights = Float32Array.from(storedWeights, (q) => 0.02 * (q - 100));
  const realBias = Float32Array.from(storedBias, (q) => (1 / 128) * 0.02 * q);

  /** uint8 input → uint8 CONV_2D (fused `activation`, output scale/zero point `outQ`) → RESHAPE → output. */
  function quantizedConv(
    activation: 'NONE' | 'RELU6',
    outQ: { scale: number[]; zeroPoint: number[] },
  ): ModelSpec {
    return {
      tensors: [
        { name: 'input', shape: [1, 4, 4, 2], type: 'uint8', quantization: inputQ },
        { name: 'weights', shape: [3, 3, 3, 2], type: 'uint8', data: storedWeights, quantization: weightQ },
        {
          name: 'bias',
          shape: [3],
          type: 'int32',
          data: storedBias,
          quantization: { scale: [0.02 / 128], zeroPoint: [0] },
        },
        { name: 'conv', shape: [1, 2, 2, 3], type: 'uint8', quantization: outQ },
        { name: 'output', shape: [1, 12], type: 'uint8', quantization: outQ },
      ],
      operators: [
        {
          op: 'CONV_2D',
          inputs: [0, 1, 2],
          outputs: [3],
          options: conv2dOptions({ padding: 'SAME', stride: [2, 2], activation }),
        },
        { op: 'RESHAPE', inputs: [3], outputs: [4], options: reshapeOptions([1, 12]) },
      ],
      inputs: [0],
      outputs: [4],
    };
  }

  // Real input values, as the ONNX model takes them: scale × (q − zero point) for q in 0..255.
  const storedInput = Array.from({ length: 2 * 4 * 4 * 2 }, (_, i) => (i * 53 + 7) % 256);
  const x: Nhwc = { data: Float32Array.from(storedInput, (q) => (q - 128) / 128), shape: [2, 4, 4, 2] };
  const raw = conv2d(x, realWeights, [3, 3, 3, 2], realBias, { padding: 'SAME', stride: [2, 2] }).data;

  it('dequantizes uint8 weights and int32 biases and reports the input and output quantization', async () => {
    const out = await convertAndRun(
      quantizedConv('NONE', { scale: [0.01], zeroPoint: [128] }),
      x.data,
      [2, 4, 4, 2],
      {
        quantizedClips: 'none',
      },
    );
    expect(out.conversion.inputQuantization).toEqual({ scale: 1 / 128, zeroPoint: 128 });
    expect(out.conversion.outputQuantization).toEqual({ scale: expect.closeTo(0.01, 9), zeroPoint: 128 });
    expect(out.conversion.inputShape).toEqual([1, 4, 4, 2]);
    // Weights move from [O, kh, kw, I] to ONNX's [O, I, kh, kw].
    const w = initializer(out.conversion, 'weights');
    expect(w[0 * 18 + 1 * 9 + 2 * 3 + 1]).toBeCloseTo(realWeights[((0 * 3 + 2) * 3 + 1) * 2 + 1], 6);
    expect(maxAbsDiff(initializer(out.conversion, 'bias'), realBias)).toBeLessThan(1e-9);
    expect(out.dims).toEqual([2, 12]);
    expect(maxAbsDiff(out.data, raw)).toBeLessThan(1e-5);
  });

  it('clips hidden quantized activations to their representable range, but not the scores by default', async () => {
    // Output scale 0.01, zero point 128: reals in [−1.28, 1.27], far narrower than the raw conv.
    const spec = quantizedConv('NONE', { scale: [0.01], zeroPoint: [128] });
    expect(Math.max(...raw)).toBeGreaterThan(1.27);
    const all = await convertAndRun(spec, x.data, [2, 4, 4, 2], { quantizedClips: 'all' });
    expect(clipBounds(all.conversion)).toEqual([[expect.closeTo(-1.28, 6), expect.closeTo(1.27, 6)]]);
    expect(maxAbsDiff(all.data, clip(raw, -1.28, 1.27))).toBeLessThan(1e-5);
    // The conv output only feeds the output through a RESHAPE, so it holds the scores and stays unclipped.
    const scores = await convertAndRun(spec, x.data, [2, 4, 4, 2]);
    expect(opTypes(scores.conversion)).not.toContain('Clip');
    expect(maxAbsDiff(scores.data, raw)).toBeLessThan(1e-5);
  });

  it('turns fused RELU6 into one Clip to whichever of [0, 6] and the quantized range is narrower', () => {
    const narrow = convertTflite(writeTflite(quantizedConv('RELU6', { scale: [0.02], zeroPoint: [0] })), {
      quantizedClips: 'all',
    });
    expect(clipBounds(narrow)).toEqual([[0, expect.closeTo(5.1, 6)]]);
    const wide = convertTflite(writeTflite(quantizedConv('RELU6', { scale: [0.05], zeroPoint: [0] })), {
      quantizedClips: 'all',
    });
    expect(clipBounds(wide)).toEqual([[0, 6]]);
  });

  it('clips a quantized ReLU range inside the network even when the op has no fused activation', async () => {
    // Quantization-aware training folds ReLU6 into the output range [0, 6] (scale 6/255, zero point 0).
    const spec: ModelSpec = {
      tensors: [
        { name: 'input', shape: [1, 4, 4, 2], type: 'uint8', quantization: inputQ },
        { name: 'weights', shape: [3, 3, 3, 2], type: 'uint8', data: storedWeights, quantization: weightQ },
        {
          name: 'bias',
          shape: [3],
          type: 'int32',
          data: storedBias,
          quantization: { scale: [0.02 / 128], zeroPoint: [0] },
        },
        {
          name: 'features',
          shape: [1, 2, 2, 3],
          type: 'uint8',
          quantization: { scale: [6 / 255], zeroPoint: [0] },
        },
        {
          name: 'pooled',
          shape: [1, 1, 1, 3],
          type: 'uint8',
          quantization: { scale: [6 / 255], zeroPoint: [0] },
        },
      ],
      operators: [
        {
          op: 'CONV_2D',
          inputs: [0, 1, 2],
          outputs: [3],
          options: conv2dOptions({ padding: 'SAME', stride: [2, 2] }),
        },
        {
          op: 'MAX_POOL_2D',
          inputs: [3],
          outputs: [4],
          options: poolOptions({ padding: 'VALID', filter: [2, 2], stride: [2, 2] }),
        },
      ],
      inputs: [0],
      outputs: [4],
    };
    const out = await convertAndRun(spec, x.data, [2, 4, 4, 2]);
    const features: Nhwc = { data: clip(raw, 0, 6), shape: [2, 2, 2, 3] };
    expect(raw.some((v) => v > 6) && raw.some((v) => v < 0)).toBe(true);
    expect(maxAbsDiff(out.data, pool2d(features, 'max', [2, 2], [2, 2], 'VALID').data)).toBeLessThan(1e-5);
    // The max pool keeps its input's range, so it needs no second clip.
    expect(clipBounds(out.conversion)).toEqual([[0, expect.closeTo(6, 6)]]);
  });

  it('dequantizes int8 weights per output channel', async () => {
    const stored = Array.from({ length: 3 * 1 * 1 * 2 }, (_, i) => [-128, 127, 5, -7, 64, -3][i]);
    const scales = [0.5, 0.25, 0.125];
    const real = Float32Array.from(stored, (q, i) => scales[Math.floor(i / 2)] * q);
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 2, 2, 2]),
        {
          name: 'weights',
          shape: [3, 1, 1, 2],
          type: 'int8',
          data: stored,
          quantization: { scale: scales, zeroPoint: [0, 0, 0], dimension: 0 },
        },
        floatTensor('output', [1, 2, 2, 3]),
      ],
      operators: [
        { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], options: conv2dOptions({ padding: 'VALID' }) },
      ],
      inputs: [0],
      outputs: [2],
    };
    const input: Nhwc = { data: pseudoRandom(8, 29), shape: [1, 2, 2, 2] };
    const out = await convertAndRun(spec, input.data, [1, 2, 2, 2]);
    expect(Array.from(initializer(out.conversion, 'weights'))).toEqual(Array.from(real));
    expect(
      maxAbsDiff(out.data, conv2d(input, real, [3, 1, 1, 2], undefined, { padding: 'VALID' }).data),
    ).toBeLessThan(1e-5);
  });

  it('passes QUANTIZE and DEQUANTIZE through as the identity on real values', async () => {
    const spec: ModelSpec = {
      tensors: [
        floatTensor('input', [1, 6]),
        { name: 'q', shape: [1, 6], type: 'uint8', quantization: { scale: [0.1], zeroPoint: [0] } },
        floatTensor('output', [1, 6]),
      ],
      operators: [
        { op: 'QUANTIZE', inputs: [0], outputs: [1] },
        { op: 'DEQUANTIZE', inputs: [1], outputs: [2] },
      ],
      inputs: [0],
      outputs: [2],
    };
    const x6 = Float32Array.of(-1, 0, 0.5, 3, 25, 30);
    const plain = await convertAndRun(spec, x6, [1, 6]);
    expect(Array.from(plain.data)).toEqual(Array.from(x6));
    const saturated = await convertAndRun(spec, x6, [1, 6], { quantizedClips: 'all' });
    expect(Array.from(saturated.data)).toEqual([0, 0, 0.5, 3, 25, 25.5]);
  });
});

describe('convertTflite: names and errors', () => {
  it('keeps sanitised TFLite tensor names on ONNX values and reports each layout', async () => {
    const spec: ModelSpec = {
      tensors: [
        floatTensor('image', [1, 4, 4, 1]),
        floatTensor('k', [1, 3, 3, 1], new Float32Array(9).fill(1)),
        floatTensor('block 1/conv:0', [1, 4, 4, 1]),
        floatTensor('block 1/pool', [1, 2, 2, 1]),
        { name: 'axes', shape: [2], type: 'int32', data: [1, 2] },
        floatTensor('score', [1, 1]),
      ],
      operators: [
        {
          op: 'CONV_2D',
          inputs: [0, 1, -1],
          outputs: [2],
          options: conv2dOptions({ padding: 'SAME', activation: 'RELU' }),
        },
        {
          op: 'MAX_POOL_2D',
          inputs: [2],
          outputs: [3],
          options: poolOptions({ padding: 'VALID', filter: [2, 2], stride: [2, 2] }),
        },
        { op: 'MEAN', inputs: [3, 4], outputs: [5], options: reducerOptions(false) },
      ],
      inputs: [0],
      outputs: [5],
    };
    const conversion = convertTflite(writeTflite(spec));
    expect(conversion.inputName).toBe('image');
    expect(conversion.outputName).toBe('score');
    expect(conversion.tensors).toEqual({
      image: { name: 'image', layout: 'NHWC' },
      'block 1/conv:0': { name: 'block_1/conv:0', layout: 'NCHW' },
      'block 1/pool': { name: 'block_1/pool', layout: 'NCHW' },
      score: { name: 'score', layout: 'NHWC' },
    });
    const outputs = conversion.model.graph?.node?.flatMap((n) => n.output ?? []);
    expect(outputs).toContain('block_1/conv:0');
    expect(conversion.model.graph?.node?.find((n) => n.output?.[0] === 'block_1/conv:0')?.opType).toBe(
      'Relu',
    );
    expect(conversion.model.graph?.input?.[0].type?.tensorType?.shape?.dim).toEqual([
      { dimParam: 'N' },
      { dimValue: 4 },
      { dimValue: 4 },
      { dimValue: 1 },
    ]);
    const out = await run(
      conversion.model,
      'image',
      'score',
      Float32Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    expect(out.dims).toEqual([1, 1]);
  });

  it('names the unsupported op, its index and what is supported', () => {
    const spec: ModelSpec = {
      tensors: [floatTensor('input', [1, 4]), floatTensor('a', [1, 4]), floatTensor('output', [1, 4])],
      operators: [
        { op: 'RELU', inputs: [0], outputs: [1] },
        { op: 'TANH', inputs: [1], outputs: [2] },
      ],
      inputs: [0],
      outputs: [2],
    };
    expect(() => convertTflite(writeTflite(spec))).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_OP',
        message: `TFLite op 'TANH' (operator #1) is not supported by the converter; supported: ${SUPPORTED_TFLITE_OPS.join(', ')}.`,
        details: expect.objectContaining({ op: 'TANH', operator: 1 }),
      }),
    );
    expect(SUPPORTED_TFLITE_OPS).toEqual([
      'ADD',
      'AVERAGE_POOL_2D',
      'CONCATENATION',
      'CONV_2D',
      'DEPTHWISE_CONV_2D',
      'DEQUANTIZE',
      'FULLY_CONNECTED',
      'HARD_SWISH',
      'LOGISTIC',
      'MAX_POOL_2D',
      'MEAN',
      'MUL',
      'PAD',
      'QUANTIZE',
      'RELU',
      'RELU6',
      'RELU_N1_TO_1',
      'RESHAPE',
      'SOFTMAX',
      'SQUEEZE',
    ]);
  });

  it('rejects non-TFLite bytes and bad options with stable codes', () => {
    const onnxLike = new TextEncoder().encode('\x08\x07\x12\x09sightline');
    expect(() => convertTflite(onnxLike)).toThrow(
      expect.objectContaining({ code: 'MODEL_LOAD', message: expect.stringMatching(/Not a TFLite model/) }),
    );
    expect(() => convertTflite('model.tflite' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const tiny = writeTflite({
      tensors: [floatTensor('x', [1, 2])],
      operators: [],
      inputs: [0],
      outputs: [0],
    });
    expect(() => convertTflite(tiny, { quantizedClips: 'some' as 'all' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/options.quantizedClips/),
      }),
    );
  });

  it('rejects models without exactly one input and one output, and non-constant conv weights', () => {
    const twoInputs: ModelSpec = {
      tensors: [floatTensor('a', [1, 2]), floatTensor('b', [1, 2]), floatTensor('sum', [1, 2])],
      operators: [{ op: 'ADD', inputs: [0, 1], outputs: [2], options: addOptions() }],
      inputs: [0, 1],
      outputs: [2],
    };
    expect(() => convertTflite(writeTflite(twoInputs))).toThrow(
      expect.objectContaining({ code: 'MODEL_SHAPE' }),
    );
    const dynamicWeights: ModelSpec = {
      tensors: [
        floatTensor('x', [1, 2, 2, 1]),
        floatTensor('w', [1, 1, 1, 1]),
        floatTensor('y', [1, 2, 2, 1]),
      ],
      operators: [
        { op: 'RELU', inputs: [0], outputs: [1] },
        { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], options: conv2dOptions({ padding: 'VALID' }) },
      ],
      inputs: [0],
      outputs: [2],
    };
    let error: unknown;
    try {
      convertTflite(writeTflite(dynamicWeights));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('UNSUPPORTED_OP');
    expect((error as SightlineError).message).toMatch(
      /CONV_2D' \(operator #1\) computes its weights 'w' at run time/,
    );
  });
});
