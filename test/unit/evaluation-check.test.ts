// evaluation.json entries and queue results are untrusted: checkEvaluation keeps a real entry as it was written
// (NaN through JSON's null included) and refuses, naming the field, what evaluate.ts never writes.
import { describe, expect, it } from 'vitest';
import type { ImageEvaluation } from '../../src/evaluate/evaluate.js';
import { checkEvaluation } from '../../src/evaluate/evaluation-check.js';

const real: ImageEvaluation = {
  file: 'photos/cat.png',
  target: {
    index: 3,
    label: 'cat',
    description: { kind: 'detection', detection: 0, class: 3, score: 0.9, box: [1, 2, 30, 40] },
  },
  methods: [
    {
      method: 'gradient',
      values: { deletion: 0.25, insertion: 0.75, randomization: Number.NaN },
      curves: { deletion: [1, 0.5, 0], insertion: [0, 0.5, 1] },
      seconds: 0.5,
    },
    { method: 'rise', values: {}, seconds: 0, error: 'no masks' },
  ],
  randomization: {
    gradient: [{ layer: 'fc', weights: 2, spearmanAbs: Number.NaN, spearman: 0.5, ssim: 0.25 }],
  },
  agreement: [{ a: 'gradient', b: 'rise', rankCorrelation: -0.5, topOverlap: 0.25 }],
};

// biome-ignore lint/suspicious/noExplicitAny: the edits reach into JSON of any shape, as a hand edit would.
type Json = Record<string, any>;

const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const problem = (edit: (e: Json) => void): string => {
  const e = roundTrip(real) as Json;
  edit(e);
  const checked = checkEvaluation(e);
  return 'problem' in checked ? checked.problem : 'accepted';
};

describe('checkEvaluation', () => {
  it('keeps an entry as evaluate wrote it, NaN read back from null as NaN', () => {
    const checked = checkEvaluation(roundTrip(real));
    expect(checked).toEqual({ evaluation: real });
    if (!('evaluation' in checked)) throw new Error('refused');
    expect(checked.evaluation.methods[0].values.randomization).toBeNaN();
    expect(checked.evaluation.randomization?.gradient[0].spearmanAbs).toBeNaN();
  });

  it('drops fields evaluate does not write', () => {
    const checked = checkEvaluation({ ...(roundTrip(real) as object), html: '<script>' });
    expect(checked).toEqual({ evaluation: real });
  });

  it.each([
    [
      'not an object',
      (e: Json) => Object.assign(e, { file: undefined }),
      "'file' is not a text of at most 4096 characters",
    ],
    ['an empty name', (e: Json) => (e.file = ''), "'file' is empty"],
    ['methods not a list', (e: Json) => (e.methods = { 0: {} }), "'methods' is not a list of up to 1000"],
    [
      'a metric it does not know',
      (e: Json) => (e.methods[0].values.speed = 1),
      "'methods[0].values' has 'speed', not a metric",
    ],
    [
      'a value that is text',
      (e: Json) => (e.methods[0].values.deletion = '0.2'),
      "'methods[0].values.deletion' is not a finite number",
    ],
    [
      'a curve point that is null',
      (e: Json) => (e.methods[0].curves.insertion[1] = null),
      "'methods[0].curves.insertion[1]' is not a finite number",
    ],
    [
      'negative seconds',
      (e: Json) => (e.methods[0].seconds = -1),
      "'methods[0].seconds' is not a finite number in [0, Infinity]",
    ],
    [
      'a description of another kind',
      (e: Json) => (e.target.description = { kind: 'poem' }),
      "'target.description.kind' is not 'segment', 'similarity' or 'detection'",
    ],
    [
      'a box of three corners',
      (e: Json) => e.target.description.box.pop(),
      "'target.description.box' is not a box [x0, y0, x1, y1]",
    ],
    [
      'a step without weights',
      (e: Json) => delete e.randomization.gradient[0].weights,
      "'randomization.gradient[0].weights' is not a whole number from 0",
    ],
    [
      'an agreement pair without a name',
      (e: Json) => (e.agreement[0].b = 7),
      "'agreement[0].b' is not a text of at most 4096 characters",
    ],
  ])('refuses %s', (_, edit, expected) => {
    expect(problem(edit)).toBe(expected);
  });

  it('refuses a whole number past the exact ones (1e300 is an integer to JavaScript)', () => {
    expect(problem((e) => (e.target.index = 1e300))).toBe(
      "'target.index' is not a whole number from 0 to 100000000",
    );
    expect(problem((e) => (e.randomization.gradient[0].weights = 1e300))).toBe(
      "'randomization.gradient[0].weights' is not a whole number from 0",
    );
  });

  it('refuses a value that is not a record at all', () => {
    expect(checkEvaluation(null)).toEqual({ problem: "'the image' is not an object" });
    expect(checkEvaluation([real])).toEqual({ problem: "'the image' is not an object" });
  });
});
