// Issue 13's first two "done when" lines on models exported by Debian's torch (scripts/golden/task_models.py):
// scorers and a two-label tagger whose outputs read known patches, opened with no flag about their task.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { outputValues, targetValues } from '../../src/core/scores.js';
import { explain } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { riseMaskSet } from '../../src/methods/perturbation/rise.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import { massInside, sigmoid } from '../helpers/task-models.js';

const DIR = join(import.meta.dirname, '../fixtures/tasks');

interface Fixture {
  size: number;
  patch: [number, number, number, number];
  tag_patches: [[number, number, number, number], [number, number, number, number]];
  models: Record<string, { file: string; output_shape: number[]; outputs: Record<string, number[]> }>;
}

const meta: Fixture = JSON.parse(await readFile(join(DIR, 'tasks.json'), 'utf8'));
const S = meta.size;
const box = ([x0, y0, x1, y1]: readonly number[]): Patch => ({ x0, y0, x1, y1 });
const PATCH = box(meta.patch);
const TAG0 = box(meta.tag_patches[0]);
/** A white photo: with mean 0 and std 1 every input value is 1, so the luma plane is 1 and each patch mean 1. */
const WHITE = { width: S, height: S, data: new Uint8Array(S * S * 3).fill(255) };
const photo = await decodeImage(join(DIR, 'astronaut64.png'));
const torchOut = (name: string, input: 'white' | 'astronaut64.png') => meta.models[name].outputs[input];

const open = async (name: string, hints = {}) =>
  openOnnxModel(await readFile(join(DIR, `${name}.onnx`)), { mean: [0], std: [1], ...hints });

// Float32 arithmetic on either side: a 1×1 convolution and the mean of 1024 values in [0, 1] round at about
// 1e-7 relative, so predictions agree with torch's to well under 1e-6.
const TORCH_TOL = 1e-6;

describe.each([
  ['scorer_sigmoid', 'sigmoid(mean of the patch)'],
  ['scorer_raw', 'the raw mean of the patch'],
])('%s: a torch scorer whose one output is %s', (name) => {
  let model: Model;
  beforeAll(async () => {
    model = await open(name);
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('is a score with no flag, read raw: no softmax over its one output', () => {
    expect([model.spec.task, model.spec.outputs]).toEqual(['score', 'logits']);
    const [value] = torchOut(name, 'astronaut64.png');
    // A softmax over one value would give 1 whatever the value.
    expect(Array.from(outputValues([value], model.spec))).toEqual([value]);
    const scores = { data: Float32Array.of(value, 0.25), dims: [2, 1] };
    expect(Array.from(targetValues(scores, model.spec, 0))).toEqual([Math.fround(value), 0.25]);
  });

  it.each([['white'], ['astronaut64.png']] as const)(
    'predicts torch’s output on %s, as a score',
    async (input) => {
      const image = input === 'white' ? WHITE : photo;
      const result = await explain({ model, image, method: 'occlusion' });
      const [expected] = torchOut(name, input);
      expect(result.predictions).toHaveLength(1);
      expect(result.predictions[0].label).toBe('score 0');
      expect(Math.abs(result.predictions[0].score - expected)).toBeLessThanOrEqual(TORCH_TOL);
    },
  );

  it.each([
    ['occlusion', 0.8],
    ['gradient', 0.8],
    // RISE misses issue 13's 0.8 on this quarter-image patch, and no setting of its options reaches it at a
    // practical cost. Its expected map (infinitely many masks) is the patch blurred by the mask cells'
    // covariance, which keeps 0.71 inside at the default 7 cells per side (0.82 at 12, 0.88 at 16; exact for
    // the raw scorer, scripts/golden/rise_bound.py); on top of that, zero-mean Monte Carlo noise over the
    // three quarters outside becomes mass once the minimum (a noise trough) is subtracted. Measured (seed 0
    // unless said): defaults 0.603; 128,000 masks at 7 cells 0.690; 16 cells with 64,000 masks 0.771,
    // 128,000 masks 0.799 (seed 1: 0.807); 20 cells with 128,000 masks 0.812, 0.798, 0.796 (seeds 0–2).
    // The keep probability does not help (14 cells, 32,000 masks: p = 0.25, 0.5, 0.75, 0.9 → 0.730, 0.752,
    // 0.716, 0.750). Pure mask noise keeps 0.25.
    ['rise', 0.55],
  ] as const)('%s puts ≥ %s of the map’s mass above its minimum in the patch', async (method, share) => {
    const r = await explain({ model, image: WHITE, method });
    expect(massInside(r.inputMap.data, S, PATCH)).toBeGreaterThanOrEqual(share);
  });
});

describe('a torch two-label tagger whose labels read two patches', () => {
  let tagger: Model;
  let changed: Model;
  beforeAll(async () => {
    tagger = await open('tagger');
    // Label 1's head redrawn, its weight on patch 0 included: label 1 now reads label 0's patch too.
    changed = await open('tagger_changed');
  });
  afterAll(async () => {
    await tagger.dispose();
    await changed.dispose();
  });

  it('is multilabel with no flag; its predictions are torch’s two sigmoids, uncoupled', async () => {
    for (const m of [tagger, changed])
      expect([m.spec.task, m.spec.outputs]).toEqual(['multilabel', 'probabilities']);
    for (const [model, name] of [
      [tagger, 'tagger'],
      [changed, 'tagger_changed'],
    ] as const) {
      const result = await explain({ model, image: photo, method: 'occlusion', target: 0 });
      const byIndex = [...result.predictions].sort((a, b) => a.index - b.index).map((p) => p.score);
      const expected = torchOut(name, 'astronaut64.png');
      expect(byIndex).toHaveLength(2);
      for (const [i, v] of expected.entries())
        expect(Math.abs(byIndex[i] - v)).toBeLessThanOrEqual(TORCH_TOL);
    }
    // Label 0's probability is the same in both models; a softmax would have moved it with label 1.
    expect(torchOut('tagger', 'white')[0]).toBe(torchOut('tagger_changed', 'white')[0]);
    expect(torchOut('tagger', 'white')[1]).not.toBeCloseTo(torchOut('tagger_changed', 'white')[1], 2);
  });

  it('RISE on a tag is eq. 6 with the coverage term at its expectation: f̄ + Σ (f_i − f̄) M_i / (p N)', async () => {
    const options = { masks: 300, gridSize: 4, keepProbability: 0.5, seed: 3, baseline: 0 };
    const r = await explain({ model: tagger, image: WHITE, method: 'rise', options, target: 0 });
    expect(r.inputMap.signed).toBe(false);
    // On the white photo a masked input is the mask itself, and so is its luma plane: label 0 is
    // sigmoid(2 · mean of the mask over patch 0 − 0.5), computed here in float64.
    const plane = S * S;
    const masks = riseMaskSet(options, S, S).render(0, options.masks);
    const f = new Float64Array(options.masks);
    for (let i = 0; i < options.masks; i++) {
      let sum = 0;
      for (let y = TAG0.y0; y < TAG0.y1; y++)
        for (let x = TAG0.x0; x < TAG0.x1; x++) sum += masks[i * plane + y * S + x];
      f[i] = sigmoid((2 * sum) / ((TAG0.x1 - TAG0.x0) * (TAG0.y1 - TAG0.y0)) - 0.5);
    }
    const mean = f.reduce((a, b) => a + b, 0) / options.masks;
    let worst = 0;
    for (let j = 0; j < plane; j++) {
      let v = 0;
      for (let i = 0; i < options.masks; i++) v += (f[i] - mean) * masks[i * plane + j];
      worst = Math.max(worst, Math.abs(mean + v / (options.masks * 0.5) - r.inputMap.data[j]));
    }
    // Float32 model outputs (about 6e-8 each) summed over 300 masks and divided by 150: well under 1e-5.
    expect(worst).toBeLessThan(1e-5);
  });

  it.each([
    ['occlusion', {}],
    ['gradient', {}],
    ['rise', {}],
  ] as const)(
    '%s %j: label 0’s map is in patch 0 and identical when label 1’s head changes',
    async (method, options) => {
      const a = await explain({ model: tagger, image: WHITE, method, options, target: 0 });
      const b = await explain({ model: changed, image: WHITE, method, options, target: 0 });
      // RISE's cells blur across the patch's two inner edges and its Monte Carlo noise covers the rest:
      // 0.68 at the defaults (uncentred, as eq. 6 is published: 0.29; pure noise: 0.25).
      const share = massInside(a.inputMap.data, S, TAG0);
      expect(share).toBeGreaterThanOrEqual(method === 'rise' ? 0.6 : 0.8);
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
});

// torch exports `.mean(dim)[:, 0]` as a rank-1 [N] output. At batch 1 the black-box methods read it as
// [1, 1]; larger batches ([16] for occlusion) and the gradient's seed (made [1, 1], ONNX Runtime wants [1])
// were refused; the rank-1 work of issue 13 reads [N] as [N, 1] and gives the gradient graph its seed as [N].
describe('a torch scorer with a rank-1 [N] output, one image per batch', () => {
  let model: Model;
  beforeAll(async () => {
    model = await open('scorer_rank1', { maxBatch: 1 });
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('is a score that predicts torch’s value; occlusion and RISE find the patch', async () => {
    expect(meta.models.scorer_rank1.output_shape).toEqual([1]);
    expect(model.spec.task).toBe('score');
    const r = await explain({ model, image: photo, method: 'occlusion' });
    expect(
      Math.abs(r.predictions[0].score - torchOut('scorer_rank1', 'astronaut64.png')[0]),
    ).toBeLessThanOrEqual(TORCH_TOL);
    expect(massInside(r.inputMap.data, S, PATCH)).toBeGreaterThanOrEqual(0.8);
    const w = await explain({ model, image: WHITE, method: 'occlusion' });
    expect(massInside(w.inputMap.data, S, PATCH)).toBeGreaterThanOrEqual(0.8);
    const rise = await explain({ model, image: WHITE, method: 'rise', options: { masks: 500 } });
    expect(rise.inputMap.signed).toBe(true);
  });

  it('the vanilla gradient finds the patch (the [N, 1] seed is given to the graph as [N])', async () => {
    const r = await explain({ model, image: WHITE, method: 'gradient' });
    expect(massInside(r.inputMap.data, S, PATCH)).toBeGreaterThanOrEqual(0.8);
  });
});
