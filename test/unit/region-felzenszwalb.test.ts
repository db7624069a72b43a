import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { type ColourImage, felzenszwalb, felzenszwalbScales } from '../../src/methods/region/felzenszwalb.js';
import { expectInvalid } from '../helpers/errors.js';

/** A 1 × n strip whose pixels are pure red of the given values: edge weights are |Δred|. */
function redStrip(values: number[]): ColourImage {
  return { width: values.length, height: 1, data: values.flatMap((v) => [v, 0, 0]) };
}

const SIDE = 48;
const COLOURS = [
  [200, 40, 40],
  [40, 160, 60],
  [50, 60, 210],
  [220, 210, 80],
];
/** The block (quadrant of a SIDE × SIDE image) a pixel belongs to. */
const blockOf = (p: number) => (Math.floor(p / SIDE) < SIDE / 2 ? 0 : 2) + (p % SIDE < SIDE / 2 ? 0 : 1);

/** Four flat quadrants of well-separated colours plus seeded uniform noise of ±`noise`. */
function blocks(noise: number, seed = 1): ColourImage {
  const rng = createRng(seed);
  const data = new Float32Array(SIDE * SIDE * 3);
  for (let p = 0; p < SIDE * SIDE; p++) {
    const colour = COLOURS[blockOf(p)];
    for (let c = 0; c < 3; c++) data[p * 3 + c] = colour[c] + noise * (2 * rng.next() - 1);
  }
  return { width: SIDE, height: SIDE, data };
}

function segmentSizes(labels: Int32Array, count: number): number[] {
  const sizes = new Array<number>(count).fill(0);
  for (const l of labels) sizes[l]++;
  return sizes;
}

describe('Felzenszwalb–Huttenlocher segmentation', () => {
  // Strip red values 0, 10, 40, 45: edges e01 = 10, e12 = 30, e23 = 5, visited as e23, e01, e12.
  // e23 merges when 5 ≤ k (both singletons, Int 0); e01 when 10 ≤ k; e12 joins {0,1} (Int 10) and {2,3}
  // (Int 5) when 30 ≤ min(10 + k/2, 5 + k/2), i.e. k ≥ 50.
  it.each([
    [4.99, [0, 1, 2, 3]],
    [5, [0, 1, 2, 2]],
    [9.99, [0, 1, 2, 2]],
    [10, [0, 0, 1, 1]],
    [49.99, [0, 0, 1, 1]],
    [50, [0, 0, 0, 0]],
  ])('merges by τ(C) = k/|C| on a hand-worked strip (k = %s)', (k, expected) => {
    const s = felzenszwalb(redStrip([0, 10, 40, 45]), { scale: k, sigma: 0, minSize: 0 });
    expect(Array.from(s.labels)).toEqual(expected);
    expect(s.count).toBe(new Set(expected).size);
  });

  it('joins diagonal neighbours: the grid is 8-connected', () => {
    // [[0, 100], [100, 0]]: the two 0s touch only diagonally (down-right edge, weight 0), the two 100s
    // likewise (up-right edge); 4-connectivity would leave four singletons.
    const s = felzenszwalb(
      { width: 2, height: 2, data: [0, 0, 0, 100, 0, 0, 100, 0, 0, 0, 0, 0] },
      {
        scale: 1,
        sigma: 0,
        minSize: 0,
      },
    );
    expect(Array.from(s.labels)).toEqual([0, 1, 1, 0]);
  });

  it('min_size merges a small component across its cheapest edge, after the main pass', () => {
    // At k = 5 the segments are {0}, {1}, {2,3}; with min size 2 the post-pass walks e23 (same segment),
    // then e01 (both singletons, merged), then e12 (both now of size 2, kept apart).
    const s = felzenszwalb(redStrip([0, 10, 40, 45]), { scale: 5, sigma: 0, minSize: 2 });
    expect(Array.from(s.labels)).toEqual([0, 0, 1, 1]);
  });

  /** The blocks each segment holds pixels of, counting only pixels for which `counts(p)` is true. */
  function blocksPerSegment(labels: Int32Array, count: number, counts: (p: number) => boolean): number[] {
    const homes = Array.from({ length: count }, () => new Set<number>());
    labels.forEach((l, p) => {
      if (counts(p)) homes[l].add(blockOf(p));
    });
    return homes.map((h) => h.size);
  }

  it('never lets a segment straddle a block boundary of a noisy four-block image', () => {
    for (const scale of [20, 100, 300, 1000]) {
      for (const minSize of [1, 30]) {
        const s = felzenszwalb(blocks(8), { scale, sigma: 0, minSize });
        const spans = blocksPerSegment(s.labels, s.count, () => true);
        expect(Math.max(...spans), `k = ${scale}, min size ${minSize}`).toBe(1);
        // Noise of ±8 is far below k/|C| + Int(C) once k ≥ 100, so each block is found whole.
        if (scale >= 100 && minSize === 30) expect(s.count).toBe(4);
      }
    }
  });

  it('with σ = 0.8 smoothing, no segment joins the interiors of two blocks', () => {
    // Smoothing makes the pixels beside a boundary a 3:1 blend of the two colours; such seams are uniform
    // along the boundary, so they become thin segments of their own (as in the reference code), and at the
    // centre, where four colours blend, a small seam segment (k/|C| large) can take in pixels a step further
    // out. Pixels more than 2 px from a boundary, nearly pure (98%), never share a segment across blocks.
    const interior = (p: number) =>
      Math.abs((p % SIDE) - 23.5) > 2 && Math.abs(Math.floor(p / SIDE) - 23.5) > 2;
    for (const scale of [20, 100, 300, 1000]) {
      for (const minSize of [1, 30]) {
        const s = felzenszwalb(blocks(8), { scale, sigma: 0.8, minSize });
        const spans = blocksPerSegment(s.labels, s.count, interior);
        expect(Math.max(...spans), `k = ${scale}, min size ${minSize}`).toBe(1);
      }
    }
  });

  it('gives fewer segments at a larger scale', () => {
    const counts = felzenszwalbScales(blocks(30, 2), [2, 10, 50, 200], { sigma: 0.8, minSize: 1 }).map(
      (s) => s.count,
    );
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThan(counts[i - 1]);
    expect(counts[0]).toBeGreaterThan(50);
  });

  it('respects min_size: every segment has at least that many pixels, unless the image is smaller', () => {
    const noisy = blocks(40, 3);
    const loose = felzenszwalb(noisy, { scale: 5, sigma: 0.8, minSize: 1 });
    expect(Math.min(...segmentSizes(loose.labels, loose.count))).toBeLessThan(25);
    for (const minSize of [25, 100, 500]) {
      const s = felzenszwalb(noisy, { scale: 5, sigma: 0.8, minSize });
      expect(Math.min(...segmentSizes(s.labels, s.count))).toBeGreaterThanOrEqual(minSize);
    }
    const tiny = felzenszwalb(redStrip([0, 100, 200]), { scale: 1, sigma: 0, minSize: 10 });
    expect([tiny.count, ...tiny.labels]).toEqual([1, 0, 0, 0]);
  });

  it('labels 0..count − 1 in raster order of first appearance; same input, same labels', () => {
    const image = blocks(8);
    const a = felzenszwalb(image, { scale: 100, sigma: 0, minSize: 20 });
    // Raster order meets the top-left block first, then the top-right, bottom-left, bottom-right.
    expect(Array.from(a.labels, (l, p) => l - blockOf(p)).every((d) => d === 0)).toBe(true);
    const b = felzenszwalb(image, { scale: 20, minSize: 1 });
    const firsts: number[] = [];
    for (const l of b.labels) if (!firsts.includes(l)) firsts.push(l);
    expect(firsts).toEqual(Array.from({ length: b.count }, (_, i) => i));
    expect(Array.from(felzenszwalb(image, { scale: 20, minSize: 1 }).labels)).toEqual(Array.from(b.labels));
  });

  it('names a bad image or option', () => {
    expectInvalid(() => felzenszwalb({ width: 2, height: 2, data: [1, 2, 3] }, { scale: 1 }), /12 values/);
    expectInvalid(() => felzenszwalb(redStrip([1, 2]), { scale: -1 }), /'scale' must be a finite number/);
    expectInvalid(() => felzenszwalb(redStrip([1, 2]), { scale: 1, minSize: 1.5 }), /'minSize'/);
    expectInvalid(() => felzenszwalb(redStrip([1, 2]), { scale: 1, sigma: Number.NaN }), /'sigma'/);
  });
});
