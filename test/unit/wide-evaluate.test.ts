// evaluate on segment and similarity targets (issue 13): the metrics read the target's own model, so the
// deletion and insertion curves follow the target's scalar (a class's scores summed over its region, the
// cosine to a reference), checked here against values computed from the analytic models' definitions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { evaluateImage } from '../../src/evaluate/evaluate.js';
import { disposePrepared, prepare } from '../../src/explain.js';
import { deletionInsertion } from '../../src/metrics/deletion-insertion.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import {
  cosine,
  embedderProto,
  embedding,
  photo,
  SIZE,
  segmenterProto,
  toPixels,
} from '../helpers/target-models.js';

const PLAIN = { mean: [0], std: [1] };
// In grid cells: class 1 ('cat') reads READ1 and owns OWN1; class 2 reads READ2 and owns OWN2.
const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };
// READ1 white over dark noise: cat's grey mean there is exactly 1.
const PHOTO = photo(7, [{ patch: toPixels(READ1), rgb: [255, 255, 255] }]);
const READ1_PIXELS = 24 * 24;

describe('evaluate on a segmenter', () => {
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])), {
      ...PLAIN,
      labels: ['background', 'cat', 'dog'],
    });
  });
  afterAll(async () => model.dispose());

  it("deletion follows cat's scores summed over its 4 cells: 4 × (grey mean of READ1 + 5), step by step", async () => {
    const result = await evaluateImage({
      model,
      file: 'photo.png',
      image: PHOTO,
      methods: ['gradient'],
      metrics: ['deletion', 'insertion'],
      target: 'cat',
    });
    const [gradient] = result.methods;
    expect(gradient.error).toBeUndefined();
    expect(result.target).toMatchObject({
      index: 0,
      label: 'cat',
      description: { kind: 'segment', class: 1, region: 'class pixels', pixels: 4 },
    });
    // The gradient is uniform on READ1 and 0 elsewhere, so deletion (a 32-pixel row per step, to 0) removes
    // READ1 first: after step i its grey mean is 1 − 32i/576, down to 0 (the score 4 × 5) at step 18.
    const curve = gradient.curves?.deletion ?? [];
    expect(curve).toHaveLength(SIZE + 1);
    const expected = curve.map((_, i) => 4 * (Math.max(0, 1 - (32 * i) / READ1_PIXELS) + 5));
    for (const [i, v] of curve.entries()) expect(v).toBeCloseTo(expected[i], 4);
  });

  it('the labels metric does not apply to a one-output target and leaves the other metrics standing', async () => {
    const result = await evaluateImage({
      model,
      file: 'photo.png',
      image: PHOTO,
      methods: ['gradient'],
      metrics: ['deletion', 'labels'],
      target: 'cat',
    });
    const [gradient] = result.methods;
    expect(gradient.error).toBeUndefined();
    expect(gradient.values.labels).toBeUndefined();
    expect(gradient.values.deletion).toBeCloseTo(20 + 4 * (0.5625 / 2), 1);
  });

  it("the gradient's deletion AUC is below that of the inverted map, which deletes READ1 last", async () => {
    const prepared = await prepare({ model, image: PHOTO, target: 'cat' });
    try {
      const result = await evaluateImage({
        model,
        file: 'photo.png',
        image: PHOTO,
        methods: ['gradient'],
        metrics: ['deletion'],
        target: 'cat',
      });
      const inside = (i: number) => {
        const [x, y] = [i % SIZE, Math.floor(i / SIZE)];
        return x < 24 && y < 24;
      };
      const inverted = Float32Array.from({ length: SIZE * SIZE }, (_, i) => (inside(i) ? 0 : 1));
      const curve = await deletionInsertion({
        model: prepared.model ?? model,
        input: prepared.input,
        map: { width: SIZE, height: SIZE, data: inverted, signed: false },
        target: 0,
      });
      const auc = result.methods[0].values.deletion ?? Number.NaN;
      // Normalised to the curve's span (24 → 20): the gradient's curve falls over the first 56% of the
      // pixels (AUC ≈ 20 + 4 · 0.56 / 2), the inverted map's only after the other 44% (≈ 20 + 4 · (0.44 + 0.28)).
      expect(auc).toBeCloseTo(20 + 4 * (0.5625 / 2), 1);
      expect(curve.deletion.auc).toBeCloseTo(20 + 4 * (0.4375 + 0.5625 / 2), 1);
      expect(auc).toBeLessThan(curve.deletion.auc - 1);
    } finally {
      await disposePrepared(prepared);
    }
  });

  /** The model, counting how often the target models it makes are released (a Proxy keeps its own fields). */
  function counting(): { model: Model; made: () => number; released: () => number } {
    let made = 0;
    let released = 0;
    const wrap = <T extends object>(target: T, override: Record<string, unknown>): T =>
      new Proxy(target, {
        get: (t, prop) => {
          if (typeof prop === 'string' && prop in override) return override[prop];
          const v = Reflect.get(t, prop, t);
          return typeof v === 'function' ? v.bind(t) : v;
        },
      });
    const withTargetHead = model.withTargetHead?.bind(model);
    const counted = wrap(model, {
      withTargetHead: async (...args: Parameters<NonNullable<Model['withTargetHead']>>) => {
        const headed = await (withTargetHead as NonNullable<Model['withTargetHead']>)(...args);
        made++;
        return wrap(headed, {
          dispose: async () => {
            released++;
            await headed.dispose();
          },
        });
      },
    });
    return { model: counted, made: () => made, released: () => released };
  }

  it('releases the target’s model once, after success and after an interruption', async () => {
    const ok = counting();
    await evaluateImage({
      model: ok.model,
      file: 'photo.png',
      image: PHOTO,
      methods: ['gradient', 'occlusion'],
      metrics: ['deletion'],
      target: 'cat',
    });
    expect([ok.made(), ok.released()]).toEqual([1, 1]);
    const stopped = counting();
    const controller = new AbortController();
    const error = await evaluateImage({
      model: stopped.model,
      file: 'photo.png',
      image: PHOTO,
      methods: ['gradient', 'occlusion'],
      metrics: ['deletion'],
      target: 'cat',
      signal: controller.signal,
      onMethod: (_, done) => {
        if (done === 1) controller.abort();
      },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect([stopped.made(), stopped.released()]).toEqual([1, 1]);
  });
});

describe('evaluate on an embedding model', () => {
  const SHARED: Patch = { x0: 4, y0: 12, x1: 20, y1: 28 };
  const A = photo(1, [
    { patch: SHARED, rgb: [0, 255, 0] },
    { patch: { x0: 20, y0: 0, x1: 32, y1: 12 }, rgb: [255, 0, 0] },
  ]);
  const B = photo(2, [
    { patch: SHARED, rgb: [0, 255, 0] },
    { patch: { x0: 0, y0: 0, x1: 12, y1: 8 }, rgb: [0, 0, 255] },
  ]);
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(embedderProto()), { ...PLAIN, task: 'embed' });
  });
  afterAll(async () => model.dispose());

  it('the curves follow the cosine to the reference, from its value on the photo to 0 on an empty one', async () => {
    const result = await evaluateImage({
      model,
      file: 'a.png',
      image: A,
      methods: ['grad-cam', 'occlusion'],
      metrics: ['deletion', 'insertion'],
      reference: B,
    });
    const expected = cosine(embedding(A), embedding(B));
    expect(expected).toBeCloseTo(0.6822, 3);
    expect(result.target.description).toMatchObject({ kind: 'similarity', reference: 'image' });
    for (const m of result.methods) {
      expect(m.error).toBeUndefined();
      const deletion = m.curves?.deletion ?? [];
      expect(deletion[0]).toBeCloseTo(expected, 4);
      // Everything deleted is an all-zero input: no detector fires, the embedding is 0 and so is the cosine.
      expect(deletion[deletion.length - 1]).toBeCloseTo(0, 6);
      expect(m.values.deletion).toBeLessThan(expected / 2);
    }
  });

  it('refuses in words without a reference, for every method', async () => {
    const error = await evaluateImage({
      model,
      file: 'a.png',
      image: A,
      methods: ['gradient'],
      metrics: ['deletion'],
    }).catch((e) => e);
    // The image's preparation says what is missing (not "no method works", which blamed the methods).
    expect(error.message).toMatch(
      /^An embedding model needs a reference to compare with: --reference other\.jpg/,
    );
  });
});
