import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { Tensor } from '../../src/core/tensor.js';
import { dilateSegments, rankRegions, xrai } from '../../src/methods/region/xrai.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { functionModel } from '../helpers/function-model.js';

describe('XRAI greedy region selection (hand-computed gains)', () => {
  // Eight pixels in a row and four overlapping masks: M0 {0,1,2} (gain 9/3 = 3), M1 {2,3,4} (0),
  // M2 {5,6,7} (2/3), M3 {0,6} (7/2 = 3.5).
  const attribution = Float32Array.from([4, 4, 1, 1, -2, 0, 3, -1]);
  const masks = [
    [0, 1, 2],
    [2, 3, 4],
    [5, 6, 7],
    [0, 6],
  ].map((m) => Int32Array.from(m));

  it('takes the highest density over the pixels not yet covered, step by step', () => {
    // 1: M3 (3.5) covers 0 and 6. Left: M0 {1,2} = 5/2 = 2.5, M1 {2,3,4} = 0, M2 {5,7} = −1/2.
    // 2: M0 (2.5) covers 1 and 2. Left: M1 {3,4} = −1/2, M2 {5,7} = −1/2.
    // 3: M1 and M2 tie at −0.5; the first listed (M1) goes first. 4: M2.
    const r = rankRegions(attribution, masks);
    expect(r.order).toEqual([3, 0, 1, 2]);
    expect(r.gains).toEqual([3.5, 2.5, -0.5, -0.5]);
    expect(Array.from(r.map)).toEqual([3.5, 2.5, 2.5, -0.5, -0.5, -0.5, 3.5, -0.5]);
  });

  it('drops masks that would add fewer than minNewPixels, and gives uncovered pixels their mean', () => {
    // With 3 new pixels required, M3 (2 pixels) never counts. 1: M0 (3) covers 0, 1, 2, leaving M1 two
    // new pixels (dropped). 2: M2 (2/3) covers 5, 6, 7. Pixels 3 and 4 stay uncovered: (1 − 2) / 2.
    const r = rankRegions(attribution, masks, 3);
    expect(r.order).toEqual([0, 2]);
    expect(Array.from(r.map)).toEqual(
      [3, 3, 3, -0.5, -0.5, 2 / 3, 2 / 3, 2 / 3].map((v) => expect.closeTo(v, 6)),
    );
  });

  it('dilates each segment by a disk (x² + y² ≤ r²)', () => {
    // 3 × 3 labels, label 1 at the centre only: with r = 1 it grows to the plus shape, and label 0 (the
    // ring) grows over the centre.
    const masks = dilateSegments(
      { width: 3, height: 3, labels: Int32Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]), count: 2 },
      1,
    );
    expect(Array.from(masks[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(masks[1])).toEqual([1, 3, 4, 5, 7]);
  });
});

// A 48 × 48 photo: two flat background halves and a flat 12 × 12 block at x 28..39, y 8..19.
const SIDE = 48;
const inBlock = (x: number, y: number) => x >= 28 && x < 40 && y >= 8 && y < 20;
const BLOCK = [230, 200, 40];
function photo(): Tensor {
  const plane = SIDE * SIDE;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const colour = inBlock(x, y) ? BLOCK : x < 24 ? [60, 90, 140] : [150, 150, 150];
      for (let c = 0; c < 3; c++) data[c * plane + y * SIDE + x] = colour[c];
    }
  }
  return { data, dims: [1, 3, SIDE, SIDE] };
}

/** f = Σ over the block's pixels and channels of x: linear, so IG is exact. */
function blockModel(maxBatch = 8) {
  const w = new Float32Array(3 * SIDE * SIDE);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) if (inBlock(x, y)) w[c * SIDE * SIDE + y * SIDE + x] = 1;
  return functionModel(
    {
      f: (x) => x.reduce((acc, v, i) => acc + w[i] * v, 0),
      grad: () => w,
    },
    [1, 3, SIDE, SIDE],
    maxBatch,
  );
}

describe('XRAI (Kapishnikov et al. 2019) on a model that looks at one block', () => {
  it('ranks the dilated block first and highest, with the gain computed by hand', async () => {
    const model = blockModel();
    const map = await xrai.attribute(
      { model, input: photo(), target: 0, classes: 1 },
      resolveOptions(xrai, { steps: 4 }),
    );
    // IG of a linear f is exact: w ⊙ (x − x′). The black (0) and white (255) baselines average to
    // x − 127.5 per channel, so a block pixel's channels hold 102.5, 72.5 and −87.5, of which the largest
    // counts: 102.5; all else is 0. Felzenszwalb finds the three flat regions at every scale (18 segments);
    // the block dilated by a disk of radius 5 covers 12² + 4 · 12 · 5 + 4 · 15 = 444 pixels, so its gain is
    // 144 · 102.5 / 444, and the rest gains 0, the lowest.
    const gain = (144 * 102.5) / 444;
    expect(map.details).toEqual({ segments: 18, regions: expect.any(Number), lowestGain: 0 });
    expect(map.signed).toBe(false);
    let top = 0;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const v = map.data[y * SIDE + x];
        const dx = Math.max(28 - x, 0, x - 39);
        const dy = Math.max(8 - y, 0, y - 19);
        const inDilated = dx * dx + dy * dy <= 25;
        expect(v, `pixel (${x}, ${y})`).toBeCloseTo(inDilated ? gain : 0, 4);
        if (inDilated) top++;
      }
    }
    expect(top).toBe(444);
    // Two baselines × (4 path points + the two end points), in batches of at most 8.
    expect(model.batches).toEqual([6, 6]);
    expect(xrai.passes(resolveOptions(xrai, { steps: 4 }), { width: SIDE, height: SIDE })).toBe(12);
  });

  it('reports progress over both baselines and honours an abort', async () => {
    const progress: number[][] = [];
    await xrai.attribute(
      {
        model: blockModel(4),
        input: photo(),
        target: 0,
        classes: 1,
        onProgress: (p) => progress.push([p.done, p.total]),
      },
      resolveOptions(xrai, { steps: 4 }),
    );
    expect(progress).toEqual([
      [0, 12],
      [4, 12],
      [6, 12],
      [6, 12],
      [10, 12],
      [12, 12],
    ]);
    const controller = new AbortController();
    controller.abort();
    await expect(
      xrai.attribute(
        { model: blockModel(), input: photo(), target: 0, classes: 1, signal: controller.signal },
        resolveOptions(xrai, { steps: 4 }),
      ),
    ).rejects.toSatisfy((e) => e instanceof SightlineError && e.code === 'ABORTED');
  });
});
