import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { inputGeometry } from '../../src/core/preprocess.js';
import {
  boxRegion,
  COSINE_EPSILON,
  evaluateTarget,
  maskRegion,
  type OutputTarget,
  segmentTarget,
  similarityTarget,
  withTarget,
} from '../../src/core/targets.js';
import type { Tensor } from '../../src/core/tensor.js';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  type ModelProto,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { openOnnxModel } from '../../src/models/open.js';
import { guessTask, specFromIo } from '../../src/models/spec.js';
import { analyticSpec } from '../helpers/analytic.js';
import { thrown } from '../helpers/errors.js';

/** Deterministic uniform numbers in [−1, 1). */
function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

/** [N, 3, 6, 10] → a random 1 × 1 convolution → [N, 5, 6, 10]: random class scores on a non-square grid. */
const segmenter = (): ModelProto =>
  buildModel({
    inputs: [valueInfo('x', ['N', 3, 6, 10])],
    outputs: [valueInfo('y', ['N', 5, 6, 10])],
    initializers: [floatTensor('w', [5, 3, 1, 1], random(15, 7))],
    nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'] }],
  });

/** [N, 3, 4, 4] → flatten → a random [48, 16] matrix → an embedding [N, 16]. */
const embedder = (): ModelProto =>
  buildModel({
    inputs: [valueInfo('x', ['N', 3, 4, 4])],
    outputs: [valueInfo('e', ['N', 16])],
    initializers: [floatTensor('w', [48, 16], random(48 * 16, 11))],
    nodes: [
      { opType: 'Flatten', input: ['x'], output: ['flat'], attribute: [attr('axis', 1)] },
      { opType: 'MatMul', input: ['flat', 'w'], output: ['e'] },
    ],
  });

const PLAIN = { mean: [0], std: [1] };

/** ∂target/∂output for each row, worked out by hand: the seed the plain model's own gradient graph needs. */
function targetSeed(target: OutputTarget, scores: Tensor): Tensor {
  const [n, k] = scores.dims;
  const seed = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const e = scores.data.subarray(i * k, (i + 1) * k);
    if (target.kind === 'segment') {
      const [, h, w] = target.shape;
      for (let p = 0; p < h * w; p++) seed[i * k + target.channel * h * w + p] = target.mask[p];
      continue;
    }
    if (target.kind === 'masked-sum') {
      seed.set(target.weights, i * k);
      continue;
    }
    const r = target.reference;
    const rn = Math.hypot(...r);
    const squares = e.reduce((a, v) => a + v * v, 0) + COSINE_EPSILON;
    const en = Math.sqrt(squares);
    const dot = e.reduce((a, v, j) => a + (v * r[j]) / rn, 0);
    // d/de (e·r̂ / |e|) = r̂/|e| − (e·r̂) e / |e|³
    for (let j = 0; j < k; j++) seed[i * k + j] = r[j] / rn / en - (dot * e[j]) / (squares * en);
  }
  return { data: seed, dims: [n, k] };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, relative: number): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  expect(scale).toBeGreaterThan(0);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i] - expected[i]), `at ${i}`).toBeLessThanOrEqual(relative * scale);
}

describe.each([
  ['segment', segmenter, [3, 6, 10]],
  ['similarity', embedder, [3, 4, 4]],
] as const)('a %s target: the ONNX head and the TypeScript evaluation agree', (kind, proto, inputDims) => {
  let plain: Model;
  let target: OutputTarget;
  const batch: Tensor = { data: random(3 * 3 * inputDims[1] * inputDims[2], 3), dims: [3, ...inputDims] };

  beforeAll(async () => {
    plain = await openOnnxModel(encodeModel(proto()), {
      ...PLAIN,
      task: kind === 'segment' ? undefined : 'embed',
    });
    if (kind === 'segment') {
      expect(plain.spec.task).toBe('segment');
      expect(plain.spec.outputShape).toEqual([5, 6, 10]);
      // An irregular region (every third cell, plus a run) on class 3.
      const mask = Uint8Array.from({ length: 60 }, (_, i) => (i % 3 === 0 || (i > 40 && i < 47) ? 1 : 0));
      target = segmentTarget(plain.spec.outputShape, 3, mask);
    } else {
      expect(plain.spec.outputShape).toEqual([16]);
      target = similarityTarget(random(16, 99), 16);
    }
  });
  afterAll(async () => plain.dispose());

  it('the headed model predicts the TypeScript value of each image, [N, 1]', async () => {
    const headed = await withTarget(plain, target, 'the target');
    try {
      expect(headed.spec.task).toBe('score');
      expect(headed.capabilities.has('inputGradients')).toBe(true);
      const scores = await plain.predict(batch);
      const expected = evaluateTarget(target, scores);
      const actual = await headed.predict(batch);
      expect(actual.dims).toEqual([3, 1]);
      // float32 sums of at most 300 terms of size ≤ 3 against float64: a few ulps of the result.
      expectClose(actual.data, expected.data, 1e-5);
      // The values differ between images, so a head that read one image for all would fail.
      expect(new Set(Array.from(actual.data, (v) => v.toFixed(4))).size).toBe(3);
    } finally {
      await headed.dispose();
    }
  });

  it('a seed of 1 on the head gives the plain model’s gradient for the hand-derived seed', async () => {
    const headed = await withTarget(plain, target, 'the target');
    try {
      const ones = { data: new Float32Array(3).fill(1), dims: [3, 1] };
      const viaHead = await headed.inputGradients!(batch, ones);
      const scores = await plain.predict(batch);
      // Seeded [N, K] like any model: the engine gives the segmenter's graph its seed as [N, C, h, w].
      const direct = await plain.inputGradients!(batch, targetSeed(target, scores));
      expectClose(viaHead.gradients.data, direct.gradients.data, 1e-4);
    } finally {
      await headed.dispose();
    }
  });

  it('a predict-only model is wrapped and evaluates the same definition', async () => {
    const predictOnly: Model = {
      spec: plain.spec,
      capabilities: new Set(['predict']),
      maxBatch: 16,
      predict: (b) => plain.predict(b),
      dispose: async () => {},
    };
    const wrapped = await withTarget(predictOnly, target, 'the target');
    expect([...wrapped.capabilities]).toEqual(['predict']);
    expect(wrapped.spec.labels).toEqual(['the target']);
    const headed = await withTarget(plain, target, 'the target');
    try {
      expectClose((await wrapped.predict(batch)).data, (await headed.predict(batch)).data, 1e-5);
    } finally {
      await headed.dispose();
    }
  });
});

describe('target definitions refuse what cannot be explained', () => {
  it('an empty region, a class out of range, a mask of the wrong size', () => {
    expect(thrown(() => segmentTarget([2, 2, 2], 1, new Uint8Array(4))).message).toMatch(
      /The region covers no pixel of the model's 2 × 2 output grid/,
    );
    expect(thrown(() => segmentTarget([2, 2, 2], 2, new Uint8Array(4).fill(1))).message).toMatch(
      /an index from 0 to 1; got 2/,
    );
    expect(thrown(() => segmentTarget([2, 2, 2], 0, new Uint8Array(3).fill(1))).message).toMatch(
      /must have 4 pixels; got 3/,
    );
    expect(thrown(() => segmentTarget([2, 4], 0, new Uint8Array(4))).code).toBe('MODEL_SHAPE');
  });

  it('a reference of the wrong length, all zeros, or not finite', () => {
    expect(thrown(() => similarityTarget([1, 2, 3], 4)).message).toBe(
      "The reference vector has 3 numbers; this model's embedding has 4.",
    );
    expect(thrown(() => similarityTarget([0, 0], 2)).message).toMatch(/all zeros/);
    expect(thrown(() => similarityTarget([1, Number.NaN], 2)).message).toMatch(/NaN at position 1/);
  });

  it('an output of another size than the target reads is refused, not read past', () => {
    const scores = { data: new Float32Array(6), dims: [2, 3] };
    expect(thrown(() => evaluateTarget(similarityTarget([1, 2], 2), scores)).message).toBe(
      "The model gave 3 values per image; the target expects 2 (the reference's length).",
    );
    const segment = segmentTarget([1, 2, 2], 0, Uint8Array.of(1, 0, 0, 0));
    expect(thrown(() => evaluateTarget(segment, scores)).message).toBe(
      'The model gave 3 values per image; the target expects 4 (its [C, h, w] = [1, 2, 2]).',
    );
  });

  it('cosine: parallel 1, opposite −1, orthogonal 0, a zero embedding 0 (not NaN)', () => {
    const t = similarityTarget([3, 4], 2);
    const scores = { data: Float32Array.of(6, 8, -3, -4, -4, 3, 0, 0), dims: [4, 2] };
    const got = Array.from(evaluateTarget(t, scores).data);
    expect(got.map((v) => Number(v.toFixed(6)) + 0)).toEqual([1, -1, 0, 0]);
  });
});

describe('regions map from the photo into the output grid', () => {
  // A 200 × 100 photo, centre-cropped (fraction 1) to 100 × 100 for a 20 × 20 input, read on a 4 × 4 grid:
  // each grid cell is 25 photo pixels square, starting at x = 50.
  const spec = { ...analyticSpec(20), resize: 'center-crop' as const, cropFraction: 1 };
  const g = inputGeometry(spec, 200, 100);

  it('a box keeps the cells whose centres it holds', () => {
    // Centres at x = 62.5, 87.5, 112.5, 137.5 and y = 12.5, 37.5, 62.5, 87.5.
    const mask = boxRegion({ x0: 60, y0: 0, x1: 90, y1: 40 }, g, 4, 4, spec);
    expect(Array.from(mask)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Inside the photo but left of the crop: no cell.
    expect(
      Array.from(boxRegion({ x0: 0, y0: 0, x1: 50, y1: 100 }, g, 4, 4, spec)).every((v) => v === 0),
    ).toBe(true);
  });

  it('a box outside the photo, or inside out, is refused in words', () => {
    for (const box of [
      { x0: 0, y0: 0, x1: 201, y1: 10 },
      { x0: -1, y0: 0, x1: 10, y1: 10 },
      { x0: 30, y0: 0, x1: 10, y1: 10 },
    ])
      expect(thrown(() => boxRegion(box, g, 4, 4, spec)).message).toMatch(
        /is not a box inside the 200 × 100 photo; expected x0,y0,x1,y1 with 0 ≤ x0 < x1 ≤ 200 and 0 ≤ y0 < y1 ≤ 100/,
      );
  });

  it('a mask keeps the cells whose centre pixel is nonzero, and must be the photo’s size', () => {
    const data = new Uint8Array(200 * 100 * 3);
    // Light the pixel under the centre of cell (row 2, column 3): (137, 62), green channel only.
    data[(62 * 200 + 137) * 3 + 1] = 9;
    const mask = maskRegion({ width: 200, height: 100, data, channels: 3 }, g, 4, 4, spec);
    expect(Array.from(mask).indexOf(1)).toBe(2 * 4 + 3);
    expect(mask.reduce((a, v) => a + v, 0)).toBe(1);
    expect(
      thrown(() => maskRegion({ width: 100, height: 100, data, channels: 3 }, g, 4, 4, spec)).message,
    ).toMatch(/The region mask is 100 × 100; it must be the photo's size, 200 × 100/);
  });
});

describe('tasks read from the output’s shape', () => {
  it('a rank-4 output with more than one position is a segmenter; [N, K, 1, 1] is not', () => {
    expect(guessTask(undefined, undefined, ['N', 21, 'h', 'w'])).toBe('segment');
    expect(guessTask('Softmax', 21 * 64, ['N', 21, 8, 8])).toBe('segment');
    expect(guessTask('Gemm', 1000, ['N', 1000, 1, 1])).toBe('classify');
    // An [N, D] output without a final Softmax or Sigmoid reads as logits: embed is asked for.
    expect(guessTask(undefined, 512, ['N', 512])).toBe('classify');
  });

  it('a segment spec knows its [C, h, w]; a rank-2 output told to segment is refused', () => {
    const io = (dims: (number | string)[]) => ({
      inputs: [{ name: 'x', dims: ['N', 3, 8, 8] }],
      outputs: [{ name: 'y', dims }],
    });
    const hints = { labels: [] };
    const spec = specFromIo(io(['N', 4, 2, 2]), hints);
    expect([spec.task, spec.outputShape]).toEqual(['segment', [4, 2, 2]]);
    expect(specFromIo(io(['N', 4, 'h', 'w']), hints).outputShape).toBeUndefined();
    // A TensorFlow segmenter (NHWC input) writes its classes last: refused rather than read as 513 classes.
    const tf = {
      inputs: [{ name: 'x', dims: ['N', 513, 513, 3] }],
      outputs: [{ name: 'y', dims: [1, 513, 513, 21] }],
    };
    expect(() => specFromIo(tf, hints)).toThrow(/looks channel-last \(\[N, h, w, C\]\)/);
    expect(() => specFromIo(io(['N', 16]), { ...hints, task: 'segment' })).toThrow(
      /A segmenter's output must be \[N, C, h, w\] \(class scores per pixel\); 'y' is \[N, 16\]/,
    );
  });

  it('a rank-1 output [N] is one number per image at any batch', async () => {
    const proto = buildModel({
      inputs: [valueInfo('x', ['N', 3, 2, 2])],
      outputs: [valueInfo('s', ['N'])],
      nodes: [
        {
          opType: 'ReduceMean',
          input: ['x'],
          output: ['s'],
          attribute: [attr('axes', [1, 2, 3]), attr('keepdims', 0)],
        },
      ],
    });
    const model = await openOnnxModel(encodeModel(proto), PLAIN);
    try {
      const data = Float32Array.from({ length: 36 }, (_, i) => Math.floor(i / 12));
      const scores = await model.predict({ data, dims: [3, 3, 2, 2] });
      expect(scores.dims).toEqual([3, 1]);
      expect(Array.from(scores.data)).toEqual([0, 1, 2]);
    } finally {
      await model.dispose();
    }
  });

  it('a segmenter whose grid the file leaves open learns it from its first prediction', async () => {
    const proto = segmenter();
    proto.graph!.input = [valueInfo('x', ['N', 3, 'H', 'W'])];
    proto.graph!.output = [valueInfo('y', ['N', 5, 'H', 'W'])];
    const model = await openOnnxModel(encodeModel(proto), { ...PLAIN, width: 10, height: 6 });
    try {
      expect([model.spec.task, model.spec.outputShape]).toEqual(['segment', undefined]);
      await model.predict({ data: random(180, 1), dims: [1, 3, 6, 10] });
      expect(model.spec.outputShape).toEqual([5, 6, 10]);
    } finally {
      await model.dispose();
    }
  });
});
