import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { explain, prepare } from '../../src/explain.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import {
  embedderProto,
  GRID,
  photo,
  positiveInside,
  SIZE,
  segmenterProto,
  toPixels,
} from '../helpers/target-models.js';
import { massInside } from '../helpers/task-models.js';

const PLAIN = { mean: [0], std: [1] };
const WHITE = { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(255) };

/** In grid cells: class 1 reads READ1 (56% of the photo) and is given the cells of OWN1, far from it. */
const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };

describe('a segmenter whose class-1 scores read one patch', () => {
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])), {
      ...PLAIN,
      labels: ['background', 'cat', 'dog'],
    });
  });
  afterAll(async () => model.dispose());

  it('is a segmenter with no flag; its predictions are pixel shares; the default class is the largest', async () => {
    expect([model.spec.task, model.spec.outputShape]).toEqual(['segment', [3, GRID, GRID]]);
    const prepared = await prepare({ model, image: WHITE });
    try {
      // 4 of 64 cells each for cat and dog; the rest is background.
      expect(prepared.predictions.map((p) => [p.label, p.score])).toEqual([
        ['background', 56 / 64],
        ['cat', 4 / 64],
        ['dog', 4 / 64],
      ]);
      expect(prepared.target.label).toBe('background');
      expect(prepared.target.description).toEqual({
        kind: 'segment',
        class: 0,
        region: 'class pixels',
        pixels: 56,
        gridWidth: GRID,
        gridHeight: GRID,
      });
    } finally {
      await prepared.model?.dispose();
    }
  });

  it('the target is the class’s scores summed over its own cells: 4 × (mean + 5) on a white photo', async () => {
    const prepared = await prepare({ model, image: WHITE, target: 'cat' });
    try {
      expect(prepared.classes).toBe(1);
      expect(prepared.scores.data[0]).toBeCloseTo(4 * (1 + 5), 5);
      expect(prepared.target.description).toMatchObject({ class: 1, pixels: 4 });
    } finally {
      await prepared.model?.dispose();
    }
  });

  // The default region (OWN1) is far from what class 1 reads (READ1): a map in READ1 shows the cause.
  it.each([
    ['gradient', 0.8],
    ['grad-cam', 0.8],
    ['occlusion', 0.8],
    ['rise', 0.8],
  ])(
    '%s: the map for cat over its default region puts ≥ %s of its mass in the patch it reads',
    async (method, share) => {
      const r = await explain({ model, image: WHITE, method, target: 'cat' });
      expect(massInside(r.inputMap.data, SIZE, toPixels(READ1))).toBeGreaterThanOrEqual(share);
    },
  );

  it('Grad-CAM reads the feature map before the class scores, not the scores themselves', async () => {
    // On the class scores (the last spatial map) Grad-CAM would draw OWN1's cells, the class's own logits.
    const r = await explain({ model, image: WHITE, method: 'grad-cam', target: 'cat' });
    expect(massInside(r.inputMap.data, SIZE, toPixels(OWN1))).toBeLessThan(0.05);
  });

  it('a box region in photo pixels: the same target over the cells it holds', async () => {
    // The box holds the centres of cells (6..7, 6..7) and (6..7, 5): 6 cells, as the class's own 4 plus 2.
    const box = { x0: 24, y0: 20, x1: 32, y1: 32 };
    const prepared = await prepare({ model, image: WHITE, target: 1, region: box });
    try {
      expect(prepared.target.description).toMatchObject({ region: 'box', pixels: 6 });
      // Cells outside OWN1 score mean − 5 = −4 for cat.
      expect(prepared.scores.data[0]).toBeCloseTo(4 * 6 + 2 * -4, 5);
    } finally {
      await prepared.model?.dispose();
    }
  });

  it('a class with no pixels of its own and no region is refused in words; so is an empty region', async () => {
    const grey = { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(128) };
    const noCells = segmenterProto([READ1, READ2], [OWN1, { x0: 0, y0: 0, x1: 0, y1: 0 }]);
    const other = await openOnnxModel(encodeModel(noCells), PLAIN);
    try {
      const error = await prepare({ model: other, image: grey, target: 2 }).catch((e) => e);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toBe(
        "The model gives 'class 2' (2) none of the 8 × 8 output pixels of this photo, so it has no region of its own; pass a region (--region x0,y0,x1,y1 or a mask PNG) to explain it there.",
      );
    } finally {
      await other.dispose();
    }
    // A one-pixel box between cell centres holds none of them.
    const empty = await prepare({ model, image: WHITE, region: { x0: 0, y0: 0, x1: 1, y1: 1 } }).catch(
      (e) => e,
    );
    expect(empty.message).toMatch(/The region covers no pixel of the model's 8 × 8 output grid/);
  });
});

/** In input pixels: the patch both photos share, and what each has of its own. */
const SHARED: Patch = { x0: 4, y0: 12, x1: 20, y1: 28 };
const OWN_A: Patch = { x0: 20, y0: 0, x1: 32, y1: 12 };
const OWN_B: Patch = { x0: 0, y0: 0, x1: 12, y1: 8 };
const GREEN = [0, 255, 0] as const;
// A has red of its own, B blue, over different dark noise; both have the same green patch in the same place.
const A = photo(1, [
  { patch: SHARED, rgb: GREEN },
  { patch: OWN_A, rgb: [255, 0, 0] },
]);
const B = photo(2, [
  { patch: SHARED, rgb: GREEN },
  { patch: OWN_B, rgb: [0, 0, 255] },
]);

describe('an embedding model and two photos sharing one pasted patch', () => {
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(embedderProto()), { ...PLAIN, task: 'embed' });
  });
  afterAll(async () => model.dispose());

  it('is classify unless asked (an [N, D] output reads as logits); asked, it predicts the cosine', async () => {
    const unasked = await openOnnxModel(encodeModel(embedderProto()), PLAIN);
    expect(unasked.spec.task).toBe('classify');
    await unasked.dispose();
    const prepared = await prepare({ model, image: A, reference: B });
    try {
      // Per cell, green gives 0.5 in both; A's red and B's blue lie in cells the other does not light:
      // cos = 16 · 0.25 / (√(16 · 0.25 + 9 · 0.25) · √(16 · 0.25 + 6 · 0.25)).
      const cosine = 4 / (Math.sqrt(4 + 2.25) * Math.sqrt(4 + 1.5));
      expect(prepared.predictions).toEqual([
        { index: 0, label: 'similarity to the reference', score: expect.closeTo(cosine, 5) },
      ]);
      expect(prepared.target.description).toEqual({
        kind: 'similarity',
        reference: 'image',
        dimensions: 3 * GRID * GRID,
        cosine: expect.closeTo(cosine, 5),
      });
    } finally {
      await prepared.model?.dispose();
    }
  });

  // The cosine is blind to the embedding's length, so the gradient on A's own red (less red: more similar)
  // is as large as on the shared green; the maps' positive part, the evidence for the similarity, is what
  // must lie in the shared patch. Grad-CAM's ReLU keeps only that part.
  it.each([
    ['grad-cam', 0.8],
    ['gradient-x-input', 0.8],
    ['occlusion', 0.8],
    ['rise', 0.6],
  ])('%s: ≥ %s of the similarity map’s positive mass lies in the shared patch', async (method, share) => {
    const r = await explain({ model, image: A, method, reference: B });
    expect(positiveInside(r.inputMap.data, SIZE, SHARED)).toBeGreaterThanOrEqual(share);
  });

  it('the plain gradient splits evenly between the shared green and A’s own red, as the cosine implies', async () => {
    // e_A = g + u (green cells g, red cells u, disjoint, each cell v), r̂ ∝ g + blue. The cosine's gradient
    // (r̂ − cos ê)/|e_A| is ∝ v·|u|² on a green cell and ∝ −v·|g|² on a red one, with |u|² = n_u·v² and
    // |g|² = n_g·v²: the two masses n_g·v·n_u·v² and n_u·v·n_g·v² are equal, whatever the patches' sizes.
    const r = await explain({ model, image: A, method: 'gradient', reference: B });
    expect(massInside(r.inputMap.data, SIZE, SHARED)).toBeCloseTo(0.5, 2);
  });

  it('a reference vector: the same target as the reference photo’s embedding', async () => {
    const embedding = await model.predict(
      (await import('../../src/core/preprocess.js')).preprocess(B, model.spec).tensor,
    );
    const a = await explain({ model, image: A, method: 'gradient', reference: embedding.data });
    const b = await explain({ model, image: A, method: 'gradient', reference: B });
    expect(a.target.description).toMatchObject({ reference: 'vector' });
    expect(Array.from(a.inputMap.data)).toEqual(Array.from(b.inputMap.data));
  });

  it('is refused without a reference, or with one of the wrong length', async () => {
    const none = await prepare({ model, image: A }).catch((e) => e);
    expect(none.message).toBe(
      'An embedding model needs a reference to compare with: --reference other.jpg (a photo, embedded by the same model) or --reference vector.npy (192 numbers, e.g. a text embedding).',
    );
    const short = await prepare({ model, image: A, reference: new Float32Array(10) }).catch((e) => e);
    expect(short.message).toBe("The reference vector has 10 numbers; this model's embedding has 192.");
  });
});
