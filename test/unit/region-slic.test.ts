import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { ModelSpec } from '../../src/core/model.js';
import { inputToRgb } from '../../src/core/pixels.js';
import { toModelLayout } from '../../src/core/preprocess.js';
import { createRng } from '../../src/core/random.js';
import { rgbToLab, type Segmentation, slic } from '../../src/methods/region/slic.js';
import { BLOCK, blockImage, blockOf, blockSpec, SIDE } from '../helpers/blocks.js';
import { expectInvalid } from '../helpers/errors.js';

/** An image whose pixel colours come from `colour(x, y)` with uniform noise of ± `noise`, seeded. */
function image(
  width: number,
  height: number,
  colour: (x: number, y: number) => readonly number[],
  noise: number,
  seed = 1,
): RgbImage {
  const rng = createRng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colour(x, y);
      for (let k = 0; k < 3; k++) {
        const v = Math.round(c[k] + (2 * rng.next() - 1) * noise);
        data[(y * width + x) * 3 + k] = Math.min(255, Math.max(0, v));
      }
    }
  }
  return { width, height, data };
}

/** The share of each segment's pixels that lie in its most common true region. */
function purities(seg: Segmentation, region: (x: number, y: number) => number): number[] {
  const counts = new Map<number, Map<number, number>>();
  for (let p = 0; p < seg.labels.length; p++) {
    const r = region(p % seg.width, Math.floor(p / seg.width));
    const byRegion = counts.get(seg.labels[p]) ?? new Map<number, number>();
    byRegion.set(r, (byRegion.get(r) ?? 0) + 1);
    counts.set(seg.labels[p], byRegion);
  }
  return [...counts.values()].map((byRegion) => {
    const all = [...byRegion.values()];
    return Math.max(...all) / all.reduce((a, b) => a + b, 0);
  });
}

/** Checks labels are exactly 0 … count − 1 and each one is a single 4-connected piece. */
function expectConnectedLabels(seg: Segmentation): void {
  const { width: w, height: h, labels } = seg;
  const sizes = new Array<number>(seg.count).fill(0);
  for (const l of labels) {
    expect(l).toBeGreaterThanOrEqual(0);
    expect(l).toBeLessThan(seg.count);
    sizes[l]++;
  }
  expect(sizes.every((s) => s > 0)).toBe(true);
  const seen = new Uint8Array(w * h);
  for (let l = 0; l < seg.count; l++) {
    const start = labels.indexOf(l);
    const stack = [start];
    seen[start] = 1;
    let reached = 0;
    while (stack.length > 0) {
      const p = stack.pop() as number;
      reached++;
      const x = p % w;
      for (const q of [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, p - w, p + w]) {
        if (q >= 0 && q < w * h && !seen[q] && labels[q] === l) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    expect(reached, `label ${l} is one connected piece`).toBe(sizes[l]);
  }
}

describe('CIELAB conversion', () => {
  it('matches published sRGB (D65) values', () => {
    // Reference values as tabulated by Bruce Lindbloom's calculator and colormine.org.
    const cases: [number[], number[]][] = [
      [
        [255, 255, 255],
        [100, 0, 0],
      ],
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      [
        [128, 128, 128],
        [53.585, 0, 0],
      ],
      [
        [255, 0, 0],
        [53.241, 80.092, 67.203],
      ],
      [
        [0, 255, 0],
        [87.735, -86.183, 83.179],
      ],
      [
        [0, 0, 255],
        [32.297, 79.188, -107.86],
      ],
    ];
    for (const [rgb, lab] of cases) {
      const got = rgbToLab(rgb[0], rgb[1], rgb[2]);
      for (let i = 0; i < 3; i++) expect(Math.abs(got[i] - lab[i]), `${rgb} → ${lab}`).toBeLessThan(0.01);
    }
  });
});

describe('SLIC', () => {
  it('splits four noisy colour quadrants without crossing their edges', () => {
    const colours = [
      [200, 40, 40],
      [40, 160, 60],
      [50, 60, 200],
      [220, 210, 80],
    ];
    // Edges at x = 19 and y = 29, off the 12-pixel seed grid, so a purely spatial split would cross them.
    const region = (x: number, y: number) => (y < 29 ? 0 : 2) + (x < 19 ? 0 : 1);
    const img = image(48, 48, (x, y) => colours[region(x, y)], 12);
    const seg = slic(img, { segments: 16, compactness: 10 });
    expectConnectedLabels(seg);
    for (const p of purities(seg, region)) expect(p).toBeGreaterThanOrEqual(0.99);
    // Stated range: between half and one and a half times the request.
    expect(seg.count).toBeGreaterThanOrEqual(8);
    expect(seg.count).toBeLessThanOrEqual(24);
  });

  it('follows the outline of a disc on a background', () => {
    const inside = (x: number, y: number) => ((x - 30.5) ** 2 + (y - 33.5) ** 2 < 15 ** 2 ? 1 : 0);
    const img = image(64, 64, (x, y) => (inside(x, y) ? [230, 120, 40] : [60, 90, 150]), 10);
    const seg = slic(img, { segments: 25, compactness: 10 });
    expectConnectedLabels(seg);
    for (const p of purities(seg, inside)) expect(p).toBeGreaterThanOrEqual(0.99);
    expect(seg.count).toBeGreaterThanOrEqual(12);
    expect(seg.count).toBeLessThanOrEqual(38);
  });

  it('finds flat blocks exactly, numbered in raster order', () => {
    const rgb = inputToRgb(blockImage(), blockSpec());
    const seg = slic(rgb, { segments: 9, compactness: 10 });
    expect(seg.count).toBe(9);
    for (let p = 0; p < SIDE * SIDE; p++) expect(seg.labels[p]).toBe(blockOf(p % SIDE, Math.floor(p / SIDE)));
    expect(BLOCK * 3).toBe(SIDE);
  });

  it('gives the same labels for the same input, and connected ones on a textured image', () => {
    const img = image(
      80,
      60,
      (x, y) => [128 + 100 * Math.sin(x / 6), 128 + 90 * Math.cos(y / 5), (x * y) % 256],
      25,
    );
    const a = slic(img, { segments: 30, compactness: 10 });
    const b = slic(img, { segments: 30, compactness: 10 });
    expect(b.labels).toEqual(a.labels);
    expectConnectedLabels(a);
    // Low compactness follows colour more than position: a different partition.
    expect(slic(img, { segments: 30, compactness: 1 }).labels).not.toEqual(a.labels);
  });

  it.each([
    [2, 100],
    [100, 2],
    [1, 60],
    [60, 1],
  ])('asks for K cells on a %i × %i strip too, not h / S rows of them', (w, h) => {
    const seg = slic(
      image(w, h, () => [128, 128, 128], 0),
      { segments: 10, compactness: 10 },
    );
    expect(seg.count).toBe(10);
    expectConnectedLabels(seg);
  });

  it('keeps one segment for a one-pixel image and checks its options', () => {
    const one = image(1, 1, () => [10, 20, 30], 0);
    expect(slic(one, { segments: 5, compactness: 10 })).toMatchObject({ count: 1, labels: Int32Array.of(0) });
    expectInvalid(
      () => slic(one, { segments: 0, compactness: 10 }),
      "Argument 'segments' must be a whole number of at least 1; got 0.",
    );
    expectInvalid(
      () => slic(one, { segments: 4, compactness: 0 }),
      "Argument 'compactness' must be a positive number; got 0.",
    );
  });
});

describe('inputToRgb', () => {
  const spec = (layout: 'NCHW' | 'NHWC', channelOrder: 'RGB' | 'BGR'): ModelSpec => ({
    ...blockSpec(layout),
    width: 5,
    height: 4,
    channelOrder,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  });

  it.each([
    ['NCHW', 'RGB'],
    ['NHWC', 'BGR'],
  ] as const)('inverts the preprocessing (%s, %s)', (layout, order) => {
    const pixels = image(5, 4, (x, y) => [x * 50, y * 60, 255 - x * y * 10], 0);
    const planes = new Float32Array(60);
    for (let p = 0; p < 20; p++) for (let c = 0; c < 3; c++) planes[c * 20 + p] = pixels.data[p * 3 + c];
    const back = inputToRgb(toModelLayout(planes, spec(layout, order)), spec(layout, order));
    expect(back).toEqual(pixels);
  });

  it('names a tensor that is not one 3-channel image', () => {
    expectInvalid(
      () => inputToRgb({ data: new Float32Array(32), dims: [2, 1, 4, 4] }, spec('NCHW', 'RGB')),
      'Argument \'input\' must be one image with 3 channels in NCHW layout; got "dims [2, 1, 4, 4]".',
    );
  });
});
