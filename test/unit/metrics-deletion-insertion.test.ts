import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributionMap } from '../../src/core/attribution.js';
import { SightlineError } from '../../src/core/errors.js';
import type { Model, ModelSpec } from '../../src/core/model.js';
import type { Progress } from '../../src/core/progress.js';
import type { Tensor } from '../../src/core/tensor.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { type DeletionInsertionOptions, deletionInsertion } from '../../src/metrics/deletion-insertion.js';
import { analyticSpec, countingModel, patchModelProto } from '../helpers/analytic.js';

// A 12×12 input whose class-0 score is exactly one pixel's mean over its channels (a 1×1 patch of the patch
// model, class 1 its negative). The pixel sits at (x 6, y 5), at least 5 pixels from every edge, so the
// 11-tap blur around it never reaches an edge and its blurred value is k₀² (k₀ the kernel's centre weight).
const SIZE = 12;
const X = 6;
const Y = 5;
const INDEX = Y * SIZE + X; // 66
const PIXELS = SIZE * SIZE;
const STEPS = SIZE; // default: one row (12 pixels) per step
const N = STEPS + 1; // scores per curve, step 0 included

/** Centre weight of a normalised Gaussian of σ cut to 2r + 1 taps: 1 / Σ_{i=−r..r} exp(−i² / 2σ²). */
function centreWeight(sigma: number, radius: number): number {
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += Math.exp(-(i * i) / (2 * sigma * sigma));
  return 1 / sum;
}
/** The pixel's value after the default 11 × 11, σ = 5 blur of an image that is 1 there and 0 elsewhere. */
const B = centreWeight(5, 5) ** 2;

async function pixelModel(
  layout: 'NCHW' | 'NHWC',
  maxBatch = 16,
  spec: Partial<ModelSpec> = {},
): Promise<OnnxModel> {
  const dims = layout === 'NCHW' ? ['N', 3, SIZE, SIZE] : ['N', SIZE, SIZE, 3];
  const proto = patchModelProto({ x0: X, y0: Y, x1: X + 1, y1: Y + 1 }, { layout, dims });
  return OnnxModel.create(encodeModel(proto), { ...analyticSpec(SIZE, layout), ...spec }, { maxBatch });
}

/** The one-image input: 1 in every channel of the pixel, 0 elsewhere. */
function pixelInput(layout: 'NCHW' | 'NHWC'): Tensor {
  const data = new Float32Array(3 * PIXELS);
  for (let c = 0; c < 3; c++) data[layout === 'NCHW' ? c * PIXELS + INDEX : INDEX * 3 + c] = 1;
  return { data, dims: layout === 'NCHW' ? [1, 3, SIZE, SIZE] : [1, SIZE, SIZE, 3] };
}

function map(values: Float32Array | number[], width = SIZE, height = SIZE): AttributionMap {
  return { width, height, data: Float32Array.from(values), signed: false };
}
/** Ranks the pixel first: 1 there, 0 elsewhere. */
const FIRST = map(Array.from({ length: PIXELS }, (_, i) => (i === INDEX ? 1 : 0)));
/** Ranks the pixel last: 0 there, 1 elsewhere. */
const LAST = map(Array.from({ length: PIXELS }, (_, i) => (i === INDEX ? 0 : 1)));
/** All equal: pixels in index order, so the pixel (row 5) goes at step 6. */
const FLAT = map(new Array(PIXELS).fill(0.5));

function expectScores(actual: number[], expected: number[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i], 6);
  });
}

const EVEN = Array.from({ length: N }, (_, i) => i / STEPS);

describe.each(['NCHW', 'NHWC'] as const)('deletionInsertion on the one-pixel model (%s)', (layout) => {
  let model: OnnxModel;
  const input = pixelInput(layout);
  beforeAll(async () => {
    model = await pixelModel(layout);
  });
  afterAll(() => model.dispose());

  it('the map ranking the pixel first: deletion [1, 0, …], insertion [b, 1, …]', async () => {
    const { deletion, insertion } = await deletionInsertion({ model, input, map: FIRST, target: 0 });
    expectScores(deletion.scores, [1, ...new Array(STEPS).fill(0)]);
    expect(deletion.fractions).toEqual(EVEN);
    expect(deletion.auc).toBeCloseTo(0.5 / (N - 1), 6);
    expectScores(insertion.scores, [B, ...new Array(STEPS).fill(1)]);
    expect(insertion.fractions).toEqual(EVEN);
    expect(insertion.auc).toBeCloseTo(1 - (1 - B) / (2 * (N - 1)), 6);
  });

  it('the map ranking the pixel last: the reverse', async () => {
    const { deletion, insertion } = await deletionInsertion({ model, input, map: LAST, target: 0 });
    expectScores(deletion.scores, [...new Array(STEPS).fill(1), 0]);
    expect(deletion.auc).toBeCloseTo(1 - 0.5 / (N - 1), 6);
    expectScores(insertion.scores, [...new Array(STEPS).fill(B), 1]);
    expect(insertion.auc).toBeCloseTo(B + (1 - B) / (2 * (N - 1)), 6);
  });

  it('orders equal values by pixel index: the pixel in row 5 goes at step 6', async () => {
    const { deletion, insertion } = await deletionInsertion({ model, input, map: FLAT, target: 0 });
    expectScores(deletion.scores, [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expectScores(insertion.scores, [B, B, B, B, B, B, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("baseline 'blur': the deleted pixel becomes its blurred value b", async () => {
    const { deletion } = await deletionInsertion(
      { model, input, map: FIRST, target: 0 },
      { baseline: 'blur' },
    );
    expectScores(deletion.scores, [1, ...new Array(STEPS).fill(B)]);
    expect(deletion.auc).toBeCloseTo((1 + B) / 2 / STEPS + ((STEPS - 1) * B) / STEPS, 6);
  });

  it('a smaller blur: blurKernel 3, blurSigma 1', async () => {
    const b = centreWeight(1, 1) ** 2; // (1 / (1 + 2e^(−1/2)))²
    const { insertion } = await deletionInsertion(
      { model, input, map: FIRST, target: 0 },
      { blurKernel: 3, blurSigma: 1 },
    );
    expectScores(insertion.scores, [b, ...new Array(STEPS).fill(1)]);
  });

  it('an uneven last step (stepPixels 50 of 144): fractions and AUC weight it by its size', async () => {
    const first = await deletionInsertion({ model, input, map: FIRST, target: 0 }, { stepPixels: 50 });
    expect(first.deletion.fractions).toEqual([0, 50 / 144, 100 / 144, 1]);
    expectScores(first.deletion.scores, [1, 0, 0, 0]);
    expect(first.deletion.auc).toBeCloseTo(25 / 144, 12);
    const last = await deletionInsertion({ model, input, map: LAST, target: 0 }, { stepPixels: 50 });
    expectScores(last.deletion.scores, [1, 1, 1, 0]);
    expect(last.deletion.auc).toBeCloseTo(100 / 144 + 22 / 144, 12);
    expect(last.insertion.auc).toBeCloseTo((100 / 144) * B + (44 / 144) * ((B + 1) / 2), 6);
  });

  it('steps 5: boundaries at round(i · 144 / 5) = 0, 29, 58, 86, 115, 144', async () => {
    const { deletion } = await deletionInsertion({ model, input, map: FLAT, target: 0 }, { steps: 5 });
    expect(deletion.fractions).toEqual([0, 29, 58, 86, 115, 144].map((c) => c / 144));
    // The pixel (index 66) goes with the step to 86.
    expectScores(deletion.scores, [1, 1, 1, 0, 0, 0]);
    expect(deletion.auc).toBeCloseTo((29 + 29 + 28 / 2) / 144, 12);
  });
});

describe('deletionInsertion baselines and outputs', () => {
  it("baseline 'black': 0 normalised channel by channel, (0 − mean) / std", async () => {
    // Black is (−0.5 / 0.25, −0.25 / 0.5, −0.125 / 0.125) = (−2, −0.5, −1), whose mean is −7/6.
    const spec = { mean: [0.5, 0.25, 0.125], std: [0.25, 0.5, 0.125] } as const;
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const model = await pixelModel(layout, 16, spec);
      try {
        const input = pixelInput(layout);
        const black = await deletionInsertion({ model, input, map: FIRST, target: 0 }, { baseline: 'black' });
        expectScores(black.deletion.scores, [1, ...new Array(STEPS).fill(-7 / 6)]);
        // 'zero' ignores the normalisation: the mean colour is 0.
        const zero = await deletionInsertion({ model, input, map: FIRST, target: 0 });
        expectScores(zero.deletion.scores, [1, ...new Array(STEPS).fill(0)]);
      } finally {
        await model.dispose();
      }
    }
  });

  it("logits: the target's softmax, 1 / (1 + e^(−2m)) for scores (m, −m)", async () => {
    const model = await pixelModel('NCHW', 16, { outputs: 'logits' });
    try {
      const { deletion, insertion } = await deletionInsertion({
        model,
        input: pixelInput('NCHW'),
        map: FIRST,
        target: 1,
      });
      const p1 = (m: number) => 1 / (1 + Math.exp(2 * m)); // class 1 of (m, −m)
      expectScores(deletion.scores, [p1(1), ...new Array(STEPS).fill(0.5)]);
      expectScores(insertion.scores, [p1(B), ...new Array(STEPS).fill(p1(1))]);
    } finally {
      await model.dispose();
    }
  });
});

describe('deletionInsertion batching, progress and cancellation', () => {
  let small: OnnxModel;
  let large: OnnxModel;
  const input = pixelInput('NCHW');
  beforeAll(async () => {
    small = await pixelModel('NCHW', 2);
    large = await pixelModel('NCHW', 16);
  });
  afterAll(async () => {
    await small.dispose();
    await large.dispose();
  });

  it('maxBatch 2 gives the same curves as maxBatch 16, in ⌈26 / 2⌉ and ⌈26 / 16⌉ calls', async () => {
    const a = countingModel(small);
    const b = countingModel(large);
    const progress: Progress[] = [];
    const viaSmall = await deletionInsertion(
      { model: a, input, map: FLAT, target: 0 },
      { onProgress: (p) => progress.push(p) },
    );
    const viaLarge = await deletionInsertion({ model: b, input, map: FLAT, target: 0 });
    expect(viaSmall).toEqual(viaLarge);
    expect(a.calls).toBe(13);
    expect(b.calls).toBe(2);
    expect(progress[0]).toEqual({ done: 0, total: 2 * N, unit: 'model passes' });
    expect(progress.at(-1)).toEqual({ done: 2 * N, total: 2 * N, unit: 'model passes' });
    expect(progress).toHaveLength(14);
  });

  it('batchSize caps the batch below maxBatch', async () => {
    const b = countingModel(large);
    await deletionInsertion({ model: b, input, map: FLAT, target: 0 }, { batchSize: 5 });
    expect(b.calls).toBe(6);
  });

  it('stops with ABORTED when the signal fires, making no further model call', async () => {
    const a = countingModel(small);
    const controller = new AbortController();
    const run = deletionInsertion(
      { model: a, input, map: FLAT, target: 0 },
      { signal: controller.signal, onProgress: (p) => p.done >= 4 && controller.abort() },
    );
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(a.calls).toBe(2);
  });

  it('an already aborted signal makes no model call', async () => {
    const a = countingModel(small);
    const controller = new AbortController();
    controller.abort();
    await expect(
      deletionInsertion({ model: a, input, map: FLAT, target: 0 }, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(a.calls).toBe(0);
  });
});

describe('deletionInsertion errors', () => {
  let model: OnnxModel;
  const input = pixelInput('NCHW');
  beforeAll(async () => {
    model = await pixelModel('NCHW');
  });
  afterAll(() => model.dispose());

  async function expectInvalid(
    run: (model: Model) => Promise<unknown>,
    message: RegExp | string,
    code = 'INVALID_ARGUMENT',
  ) {
    let caught: unknown;
    try {
      await run(model);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SightlineError);
    expect((caught as SightlineError).code).toBe(code);
    if (typeof message === 'string') expect((caught as SightlineError).message).toBe(message);
    else expect((caught as SightlineError).message).toMatch(message);
  }
  const run =
    (options: DeletionInsertionOptions, over: Partial<Parameters<typeof deletionInsertion>[0]> = {}) =>
    (m: Model) =>
      deletionInsertion({ model: m, input, map: FIRST, target: 0, ...over }, options);

  it('a map of another size than the model input names both sizes', async () => {
    await expectInvalid(
      run({}, { map: map(new Float32Array(10 * SIZE), 10, SIZE) }),
      "Argument 'map' must be at the model's input resolution 12×12; got a 10×12 map (width×height).",
    );
  });

  it('NaN or Infinity in the map names the first position', async () => {
    const values = new Float32Array(PIXELS);
    values[7] = Number.NaN;
    values[9] = Number.POSITIVE_INFINITY;
    await expectInvalid(
      run({}, { map: map(values) }),
      "Argument 'map' must hold finite numbers; got 2 NaN or infinite values among its 144 positions " +
        '(the first at position 7, value NaN).',
    );
  });

  it('a malformed map', async () => {
    await expectInvalid(run({}, { map: { ...FIRST, data: new Float32Array(3) } }), /^Argument 'map.data'/);
  });

  it('a target out of range names the classes', async () => {
    await expectInvalid(
      run({}, { target: 2 }),
      "Argument 'target' must be a class index from 0 to 1; got 2.",
    );
    await expectInvalid(
      run({}, { target: -1 }),
      "Argument 'target' must be a class index (an integer ≥ 0); got -1.",
    );
    await expectInvalid(run({}, { target: 0.5 }), /^Argument 'target' must be a class index/);
  });

  it('an input not shaped as the spec', async () => {
    await expectInvalid(
      run({}, { input: { data: new Float32Array(3 * PIXELS), dims: [1, SIZE, SIZE, 3] } }),
      "Argument 'input' must be one preprocessed image shaped as the model's spec, [1, 3, 12, 12] (NCHW); " +
        'got [1, 12, 12, 3].',
    );
  });

  it('bad options', async () => {
    await expectInvalid(
      run({ steps: 4, stepPixels: 3 }),
      "Arguments 'steps' and 'stepPixels' both say how far each step goes; give one of them (got steps 4 " +
        'and stepPixels 3).',
    );
    await expectInvalid(
      run({ steps: 0 }),
      "Argument 'steps' must be an integer from 1 to the input's 144 pixels; got 0.",
    );
    await expectInvalid(
      run({ stepPixels: 1.5 }),
      "Argument 'stepPixels' must be an integer number of pixels ≥ 1; got 1.5.",
    );
    await expectInvalid(
      run({ baseline: 'white' as never }),
      'Argument \'baseline\' must be one of zero, black, blur; got "white".',
    );
    await expectInvalid(
      run({ blurKernel: 4 }),
      "Argument 'blurKernel' must be an odd number of pixels ≥ 1; got 4.",
    );
    await expectInvalid(
      run({ blurSigma: 0 }),
      "Argument 'blurSigma' must be a finite number of pixels > 0; got 0.",
    );
  });
});
