import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { outputValues, targetValues } from '../../src/core/scores.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { explain } from '../../src/explain.js';
import { convertTfliteModel, openConvertedTflite, openOnnxModel } from '../../src/models/open.js';
import { checkTask, finalOp, guessTask, outputWidth, specFromIo } from '../../src/models/spec.js';
import type { Patch } from '../helpers/analytic.js';
import { expectInvalid } from '../helpers/errors.js';
import { massInside, scorerProto, sigmoid, taggerProto } from '../helpers/task-models.js';
import { fullyConnectedOptions, reshapeOptions, writeTflite } from '../helpers/tflite-builder.js';

const S = 32;
/** A white photo at the input size: with mean 0 and std 1 every input value is 1, so a patch's mean is 1. */
const WHITE = { width: S, height: S, data: new Uint8Array(S * S * 3).fill(255) };
const PLAIN = { mean: [0], std: [1] };
const open = (proto: Parameters<typeof encodeModel>[0], hints = {}) =>
  openOnnxModel(encodeModel(proto), { ...PLAIN, ...hints });

describe('the task is read from the end of the graph', () => {
  it.each([
    ['Softmax', 1000, 'classify'],
    ['Gemm', 1000, 'classify'],
    [undefined, undefined, 'classify'],
    ['Sigmoid', 5, 'multilabel'],
    // One output is a score whatever makes it: a softmax over one value is always 1.
    ['Sigmoid', 1, 'score'],
    ['Softmax', 1, 'score'],
    ['Gemm', 1, 'score'],
    // A width the graph does not fix cannot say "one output".
    ['Sigmoid', undefined, 'multilabel'],
  ] as const)('%s with %s outputs → %s', (op, width, task) => {
    expect(guessTask(op, width)).toBe(task);
  });

  it('reads the output width from fixed dims only', () => {
    expect(outputWidth(['N', 1])).toBe(1);
    expect(outputWidth([1, 5])).toBe(5);
    expect(outputWidth(['N', 2, 3])).toBe(6);
    expect(outputWidth(['N', 'K'])).toBeUndefined();
    expect(outputWidth([])).toBeUndefined();
  });

  it('looks through reshapes to the operation that makes the output', () => {
    const proto = taggerProto([P0, P1], HEAD, S);
    expect(finalOp(proto)).toBe('Sigmoid');
    const graph = proto.graph!;
    const flattened = {
      ...proto,
      graph: {
        ...graph,
        node: [
          ...graph.node!.map((n) => (n.opType === 'Sigmoid' ? { ...n, output: ['probs'] } : n)),
          { opType: 'Flatten', input: ['probs'], output: ['tags'] },
        ],
      },
    };
    expect(finalOp(flattened)).toBe('Sigmoid');
  });

  it('checks a task from a flag or a sidecar and names the choices', () => {
    expect(checkTask('score')).toBe('score');
    expect(checkTask(undefined)).toBeUndefined();
    expectInvalid(
      () => checkTask('regression'),
      `Argument 'task' must be one of classify, multilabel, score, segment, embed, detect; got "regression".`,
    );
    expectInvalid(() => checkTask(3), /one of classify, multilabel, score, segment, embed, detect; got 3/);
  });
});

describe('every engine path gives its spec a task', () => {
  /** A TFLite head: input [1, 2, 2, 3] → RESHAPE [1, 12] → FULLY_CONNECTED [1, k] (→ LOGISTIC). */
  const tflite = (k: number, logistic: boolean) => {
    const tensor = (name: string, shape: number[], data?: Float32Array) => ({ name, shape, data });
    return writeTflite({
      tensors: [
        tensor('input', [1, 2, 2, 3]),
        tensor('flat', [1, 12]),
        tensor('w', [k, 12], new Float32Array(12 * k).fill(0.1)),
        tensor('b', [k], new Float32Array(k)),
        tensor('logits', [1, k]),
        tensor('probs', [1, k]),
      ],
      operators: [
        { op: 'RESHAPE', inputs: [0], outputs: [1], options: reshapeOptions([1, 12]) },
        { op: 'FULLY_CONNECTED', inputs: [1, 2, 3], outputs: [4], options: fullyConnectedOptions() },
        ...(logistic ? [{ op: 'LOGISTIC', inputs: [4], outputs: [5] }] : []),
      ],
      inputs: [0],
      outputs: [logistic ? 5 : 4],
    });
  };

  it.each([
    [1, true, 'score', 'logits'],
    [1, false, 'score', 'logits'],
    [3, true, 'multilabel', 'probabilities'],
    [3, false, 'classify', 'logits'],
  ] as const)('TFLite: %s outputs, LOGISTIC %s → %s', async (k, logistic, task, outputs) => {
    const model = await openConvertedTflite(convertTfliteModel(tflite(k, logistic)), {});
    try {
      expect([model.spec.task, model.spec.outputs]).toEqual([task, outputs]);
    } finally {
      await model.dispose();
    }
  });

  it('a model read from its inputs and outputs alone (TF.js on TF.js) is a score when one output wide', () => {
    const io = (k: number | string) => ({
      inputs: [{ name: 'x', dims: ['N', 8, 8, 3] }],
      outputs: [{ name: 'y', dims: ['N', k] }],
    });
    const hints = { labels: [], outputs: 'logits' as const };
    expect(specFromIo(io(1), hints).task).toBe('score');
    expect(specFromIo(io(5), hints).task).toBe('classify');
    expect(specFromIo(io('K'), hints).task).toBe('classify');
    // Told its one output is a probability, a classifier gets no softmax; over one logit it would be 100%.
    expect(specFromIo(io(1), { ...hints, task: 'classify', outputs: 'probabilities' }).task).toBe('classify');
    expect(() => specFromIo(io(1), { ...hints, task: 'classify' })).toThrow(/always 100%/);
    expect(() => specFromIo(io(1), { ...hints, task: 'segmentation' as never })).toThrow(
      /Argument 'task' must be one of classify, multilabel, score, segment, embed, detect; got "segmentation"/,
    );
  });
});

describe('scores are read in the task’s words', () => {
  const row = [2, 0, -1];
  it('classify: a softmax over logits, probabilities as they are', () => {
    const e = [Math.exp(2), 1, Math.exp(-1)];
    const sum = e[0] + e[1] + e[2];
    expectClose(outputValues(row, { task: 'classify', outputs: 'logits' }), [
      e[0] / sum,
      1 / sum,
      e[2] / sum,
    ]);
    expectClose(outputValues([0.7, 0.3], { task: 'classify', outputs: 'probabilities' }), [0.7, 0.3]);
  });

  it('multilabel: each logit through its own sigmoid; probabilities as they are', () => {
    expectClose(outputValues(row, { task: 'multilabel', outputs: 'logits' }), row.map(sigmoid));
    expectClose(outputValues([0.9, 0.8], { task: 'multilabel', outputs: 'probabilities' }), [0.9, 0.8]);
  });

  it('score: raw, whatever the outputs say', () => {
    expectClose(outputValues(row, { task: 'score', outputs: 'logits' }), row);
    expectClose(outputValues([1.5], { task: 'score', outputs: 'probabilities' }), [1.5]);
  });

  it('a tag’s target value does not depend on the other tags; a class’s does', () => {
    const a = { data: Float32Array.of(1, 0, 1, 5), dims: [2, 2] };
    const tags = targetValues(a, { task: 'multilabel', outputs: 'logits' }, 0);
    expect(Array.from(tags)).toEqual([Math.fround(sigmoid(1)), Math.fround(sigmoid(1))]);
    const classes = targetValues(a, { task: 'classify', outputs: 'logits' }, 0);
    expect(classes[0]).not.toBeCloseTo(classes[1], 3);
    const score = targetValues(
      { data: Float32Array.of(-2.5, 7), dims: [2, 1] },
      { task: 'score', outputs: 'logits' },
      0,
    );
    expect(Array.from(score)).toEqual([-2.5, 7]);
  });
});

/** Where the scorers and the tagger look (input pixels; the photo is the input's size). */
const BIG: Patch = { x0: 8, y0: 0, x1: 32, y1: 24 };
const SMALL: Patch = { x0: 12, y0: 4, x1: 28, y1: 20 };
const P0: Patch = { x0: 0, y0: 0, x1: 16, y1: 16 };
const P1: Patch = { x0: 16, y0: 16, x1: 32, y1: 32 };
const HEAD = { scale: [2, 1.5], bias: [-0.5, -1] } as const;

describe.each([
  ['sigmoid(mean of a patch)', true],
  ['the raw mean of a patch', false],
])('a scorer whose one output is %s', (_, withSigmoid) => {
  const models = new Map<Patch, Model>();
  beforeAll(async () => {
    for (const patch of [BIG, SMALL]) models.set(patch, await open(scorerProto(patch, S, withSigmoid)));
  });
  afterAll(async () => {
    for (const m of models.values()) await m.dispose();
  });

  it('is a score with no flag, predicted as its value, no softmax', async () => {
    const model = models.get(BIG)!;
    expect(model.spec.task).toBe('score');
    const result = await explain({ model, image: WHITE, method: 'gradient' });
    // The patch's mean is 1 on a white photo.
    expect(result.predictions).toHaveLength(1);
    expect(result.predictions[0].score).toBeCloseTo(withSigmoid ? sigmoid(1) : 1, 6);
    expect(result.predictions[0].label).toBe('score 0');
  });

  it.each([
    ['occlusion', 0.8],
    ['rise', 0.8],
    ['gradient', 0.8],
  ])(
    '%s puts at least %s of the map’s mass above its minimum in a patch of 56% of the image',
    async (method, share) => {
      const r = await explain({ model: models.get(BIG)!, image: WHITE, method });
      expect(massInside(r.inputMap.data, S, BIG)).toBeGreaterThanOrEqual(share);
    },
  );

  // RISE's masks are coarse cells blurred together (7 per side by default), so a patch's evidence spreads a
  // cell's width around it, and its Monte Carlo noise covers the rest of the image: a quarter-image patch
  // keeps about 60% of the mass. Pure mask noise, what a softmax over one value gave, keeps about 25%.
  it.each([
    ['occlusion', 0.8],
    ['rise', 0.55],
    ['gradient', 0.8],
  ])('%s puts at least %s of the mass in a patch of a quarter of the image', async (method, share) => {
    const r = await explain({ model: models.get(SMALL)!, image: WHITE, method });
    expect(massInside(r.inputMap.data, S, SMALL)).toBeGreaterThanOrEqual(share);
  });

  it('RISE explains the score signed: centred on its mean, so the map is not mask-count noise', async () => {
    const r = await explain({ model: models.get(SMALL)!, image: WHITE, method: 'rise' });
    expect(r.inputMap.signed).toBe(true);
    let inside = 0;
    let outside = 0;
    r.inputMap.data.forEach((v, i) => {
      const [x, y] = [i % S, Math.floor(i / S)];
      if (x >= SMALL.x0 && x < SMALL.x1 && y >= SMALL.y0 && y < SMALL.y1) inside += v;
      else outside += v;
    });
    expect(inside / 256).toBeGreaterThan(0);
    // Keeping a pixel outside the patch neither raises nor lowers the score: its mean is near 0 (a cell's
    // blur around the patch aside), where uncentred it would be the mean score, as high as the patch's.
    expect(Math.abs(outside / (S * S - 256))).toBeLessThan((0.25 * inside) / 256);
  });
});

describe('a two-tag sigmoid tagger whose tags read two patches', () => {
  let tagger: Model;
  let changed: Model;
  beforeAll(async () => {
    tagger = await open(taggerProto([P0, P1], HEAD, S));
    // Tag 1's head changed; tag 0's untouched.
    changed = await open(taggerProto([P0, P1], { scale: [2, -4], bias: [-0.5, 3] }, S));
  });
  afterAll(async () => {
    await tagger.dispose();
    await changed.dispose();
  });

  it('is multilabel with no flag, and its predictions are the two sigmoids, uncoupled', async () => {
    expect([tagger.spec.task, tagger.spec.outputs]).toEqual(['multilabel', 'probabilities']);
    const result = await explain({ model: tagger, image: WHITE, method: 'gradient' });
    expect(result.predictions.map((p) => p.index)).toEqual([0, 1]);
    expect(result.predictions[0].score).toBeCloseTo(sigmoid(2 - 0.5), 6);
    expect(result.predictions[1].score).toBeCloseTo(sigmoid(1.5 - 1), 6);
    expect(result.predictions[0].label).toBe('tag 0');
  });

  it('a logits graph (no final Sigmoid) told it is multilabel gets the same probabilities', async () => {
    const logits = await open(taggerProto([P0, P1], HEAD, S, false), { task: 'multilabel' });
    try {
      expect(logits.spec.outputs).toBe('logits');
      const result = await explain({ model: logits, image: WHITE, method: 'gradient' });
      expect(result.predictions.map((p) => p.score)).toEqual(
        [sigmoid(1.5), sigmoid(0.5)].map((v) => expect.closeTo(v, 6)),
      );
    } finally {
      await logits.dispose();
    }
  });

  it.each([['occlusion'], ['rise'], ['gradient']])(
    '%s: tag 0’s map is in patch 0 and does not change when tag 1’s head does',
    async (method) => {
      const a = await explain({ model: tagger, image: WHITE, method, target: 0 });
      const b = await explain({ model: changed, image: WHITE, method, target: 0 });
      // RISE on a probability keeps eq. 6's offset (the mean probability times how often each pixel was
      // kept), so only its peak is checked; the other two put nearly all their mass in the patch.
      if (method === 'rise') expect(inPatch(argmax(a.inputMap.data), P0)).toBe(true);
      else expect(massInside(a.inputMap.data, S, P0)).toBeGreaterThanOrEqual(0.8);
      let max = 0;
      let diff = 0;
      for (let i = 0; i < a.inputMap.data.length; i++) {
        max = Math.max(max, Math.abs(a.inputMap.data[i]));
        diff = Math.max(diff, Math.abs(a.inputMap.data[i] - b.inputMap.data[i]));
      }
      expect(max).toBeGreaterThan(0);
      expect(diff).toBeLessThanOrEqual(1e-6 * max);
    },
  );

  it('told it is a classifier, it is read as one (a softmax over its outputs, as before tasks)', async () => {
    const forced = await open(taggerProto([P0, P1], HEAD, S), { task: 'classify' });
    try {
      expect([forced.spec.task, forced.spec.outputs]).toEqual(['classify', 'logits']);
      const result = await explain({ model: forced, image: WHITE, method: 'gradient' });
      const [a, b] = [Math.exp(sigmoid(1.5)), Math.exp(sigmoid(0.5))];
      expect(result.predictions[0].score).toBeCloseTo(a / (a + b), 6);
    } finally {
      await forced.dispose();
    }
  });
});

function expectClose(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(Array.from(actual)).toHaveLength(expected.length);
  for (const [i, v] of expected.entries()) expect(actual[i]).toBeCloseTo(v, 9);
}

function argmax(data: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i] > data[best]) best = i;
  return best;
}

const inPatch = (i: number, p: Patch) => {
  const [x, y] = [i % S, Math.floor(i / S)];
  return x >= p.x0 && x < p.x1 && y >= p.y0 && y < p.y1;
};
