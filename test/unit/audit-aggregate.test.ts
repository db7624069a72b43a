import { describe, expect, it } from 'vitest';
import { borderAreaShare, borderShare, summarize, summaryGrid } from '../../src/audit/aggregate.js';
import { type AuditRow, type AuditVerdict, SUMMARY_GRID } from '../../src/audit/types.js';
import { expectInvalid } from '../helpers/errors.js';

function map(width: number, height: number, values: number[]) {
  return { width, height, data: Float32Array.from(values) };
}

/** Total 20; the 2×2 quadrants hold 10, 4, 4 and 2 (means 2.5, 1, 1, 0.5). */
// biome-ignore format: the map reads as its grid
const GRID = map(4, 4, [
  0, 1, 0, 0,
  1, 8, 4, 0,
  0, 4, 2, 0,
  0, 0, 0, 0,
]);

function expectCloseList(actual: readonly number[], expected: readonly number[]) {
  expect(actual).toHaveLength(expected.length);
  for (const [i, v] of actual.entries()) expect(v).toBeCloseTo(expected[i], 12);
}

describe('summaryGrid', () => {
  it('box-averages a 4×4 map onto a 2×2 grid and normalises to sum 1', () => {
    // Means 2.5, 1, 1, 0.5; sum 5.
    expectCloseList(summaryGrid(GRID, false, 2), [0.5, 0.2, 0.2, 0.1]);
  });

  it('on a 3×3 grid each cell averages the pixels whose centres fall in it', () => {
    // Columns (and rows) 0 | 1–2 | 3 go to cells 0 | 1 | 2: cell (1, 1) is the centre 2×2, mean (8+4+4+2)/4 = 4.5;
    // cell (0, 1) is row 0, columns 1–2: (1 + 0)/2; cell (1, 0) is column 0, rows 1–2: (1 + 0)/2. Sum 5.5.
    expectCloseList(summaryGrid(GRID, false, 3), [0, 1 / 11, 0, 1 / 11, 9 / 11, 0, 0, 0, 0]);
  });

  it('upscales a map smaller than the grid by nearest neighbour', () => {
    // 2×2 onto 3×3: pixel centres land in cells 0 and 2; the middle cell takes the pixel under its centre (1).
    // Rows [1, 2, 2], [3, 4, 4], [3, 4, 4]; sum 27.
    expectCloseList(
      summaryGrid(map(2, 2, [1, 2, 3, 4]), false, 3),
      [1, 2, 2, 3, 4, 4, 3, 4, 4].map((v) => v / 27),
    );
  });

  it('counts max(v, 0) for signed maps and |v| otherwise', () => {
    const m = map(2, 2, [-3, 1, 0, 1]);
    expectCloseList(summaryGrid(m, true, 2), [0, 0.5, 0, 0.5]);
    expectCloseList(summaryGrid(m, false, 2), [0.6, 0.2, 0, 0.2]);
  });

  it('defaults to SUMMARY_GRID² cells summing to 1', () => {
    const cells = summaryGrid(GRID, false);
    expect(cells).toHaveLength(SUMMARY_GRID * SUMMARY_GRID);
    expect(cells.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    // A 4×4 map onto 32×32: each pixel becomes an 8×8 block; the peak (1, 1) holds 8/20 spread over 64 cells.
    expect(cells[8 * SUMMARY_GRID + 8]).toBeCloseTo(8 / 20 / 64, 12);
  });

  it('refuses a map with no attention instead of inventing an even spread', () => {
    expectInvalid(() => summaryGrid(map(2, 2, [0, 0, 0, 0]), false), /no attention/);
    expectInvalid(() => summaryGrid(map(2, 2, [-1, -2, 0, 0]), true), /no value is above zero/);
    expectInvalid(() => summaryGrid(map(2, 2, [1, 2, 3]), false), /one value per pixel/);
    expectInvalid(() => summaryGrid(GRID, false, 0), /'grid' must be a positive integer/);
  });
});

describe('border share', () => {
  it('the band of a 10×10 image is the outer ring of pixels: 36% of the area', () => {
    expect(borderAreaShare(10, 10)).toBeCloseTo(0.36, 12);
    const even = map(10, 10, new Array(100).fill(1));
    expect(borderShare(even, false)).toBeCloseTo(0.36, 12);
  });

  it('counts pixels by their centres: 15 px wide with 10% is one column a side', () => {
    // Columns 0 and 14 (centres 0.5 < 1.5 and 14.5 > 13.5), rows 0 and 9: inner 13 × 8 of 150.
    expect(borderAreaShare(15, 10)).toBeCloseTo(1 - 104 / 150, 12);
    // A band narrower than half a pixel holds no centre.
    expect(borderAreaShare(4, 4)).toBe(0);
  });

  it('measures a hand-made map: 5 in a corner, 1 in the middle → 5/6', () => {
    const values = new Array(100).fill(0);
    values[0] = 5;
    values[5 * 10 + 5] = 1;
    expect(borderShare(map(10, 10, values), false)).toBeCloseTo(5 / 6, 12);
    values[0] = -5;
    expect(borderShare(map(10, 10, values), true)).toBe(0);
  });

  it('refuses a map without attention', () => {
    expectInvalid(() => borderShare(map(1, 1, [0]), false), /no attention/);
  });
});

/** A 2×2 map's summary: the corner with 1 gets a quarter of the grid. */
const TOP_LEFT = summaryGrid(map(2, 2, [1, 0, 0, 0]), false);
const BOTTOM_RIGHT = summaryGrid(map(2, 2, [0, 0, 0, 1]), false);

function row(
  file: string,
  summary: readonly number[],
  extra: { verdict?: AuditVerdict; share?: number; correct?: boolean; border?: number; width?: number },
): AuditRow {
  return {
    file,
    status: 'ok',
    width: extra.width ?? 10,
    height: 10,
    correct: extra.correct,
    label: extra.correct === undefined ? undefined : { text: 'cat', index: 1 },
    region:
      extra.verdict === undefined
        ? undefined
        : {
            share: extra.share ?? 0.5,
            areaShare: 0.2,
            concentration: (extra.share ?? 0.5) / 0.2,
            peakInside: true,
            tolerance: 15,
            verdict: extra.verdict,
          },
    borderShare: extra.border,
    summary,
  };
}

const ROWS: AuditRow[] = [
  row('d.jpg', BOTTOM_RIGHT, { verdict: 'partly', share: 0.3, correct: true, border: 0 }),
  row('a.jpg', TOP_LEFT, { verdict: 'object', share: 0.8, correct: true, border: 0.2 }),
  row('b.jpg', TOP_LEFT, { verdict: 'object', share: 0.6, correct: false, border: 0.4, width: 15 }),
  row('c.jpg', BOTTOM_RIGHT, { verdict: 'background', share: 0.1, correct: false, border: 0.6 }),
  { file: 'e.jpg', status: 'error', error: { code: 'IMAGE_DECODE', message: 'not an image' } },
  row('f.jpg', TOP_LEFT, { correct: true, border: 0.1 }),
];

describe('summarize', () => {
  const summary = summarize(ROWS, { clusters: 2 });

  it('counts images, errors and verdicts', () => {
    expect(summary.images).toBe(6);
    expect(summary.errors).toBe(1);
    expect(summary.verdicts).toEqual({ object: 2, partly: 1, background: 1 });
  });

  it('averages the ok rows’ maps: 3 top-left, 2 bottom-right', () => {
    const g = SUMMARY_GRID;
    const quadrant = (g / 2) ** 2;
    expect(summary.meanMap).toHaveLength(g * g);
    expect(summary.meanMap[0]).toBeCloseTo(3 / 5 / quadrant, 12);
    expect(summary.meanMap[g * g - 1]).toBeCloseTo(2 / 5 / quadrant, 12);
    expect(summary.meanMap[g - 1]).toBe(0);
    expect(summary.meanMap.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
  });

  it('averages border shares and the band’s area share over the same images', () => {
    expect(summary.borderShare).toBeCloseTo((0 + 0.2 + 0.4 + 0.6 + 0.1) / 5, 12);
    expect(summary.borderAreaShare).toBeCloseTo((4 * 0.36 + (1 - 104 / 150)) / 5, 12);
  });

  it('accuracy overall and per verdict, over labelled rows only', () => {
    expect(summary.accuracy).toBeCloseTo(3 / 5, 12); // a, d, f of a, b, c, d, f
    expect(summary.accuracyByVerdict).toEqual({ object: 0.5, partly: 1, background: 0 });
    const unlabelled = summarize([row('x.jpg', TOP_LEFT, { verdict: 'object' })]);
    expect(unlabelled.accuracy).toBeNull();
    expect(unlabelled.accuracyByVerdict).toEqual({ object: null, partly: null, background: null });
  });

  it('clusters the two obvious groups, largest first, members by name', () => {
    expect(summary.clusters.map((c) => c.members)).toEqual([
      ['a.jpg', 'b.jpg', 'f.jpg'],
      ['c.jpg', 'd.jpg'],
    ]);
    expectCloseList(summary.clusters[0].mean, TOP_LEFT);
    expectCloseList(summary.clusters[1].mean, BOTTOM_RIGHT);
  });

  it('stops adding centres once every map coincides with one (default k = 3 here, two distinct maps)', () => {
    expect(summarize(ROWS).clusters.map((c) => c.members.length)).toEqual([3, 2]);
  });

  it('separates noisy groups for every seed, reproducibly and whatever the row order', () => {
    const noisy: AuditRow[] = [];
    for (let i = 0; i < 6; i++) {
      noisy.push(row(`tl-${i}.jpg`, summaryGrid(map(2, 2, [1, 0.05 * i, 0.1, 0.02 * i]), false), {}));
      noisy.push(row(`br-${i}.jpg`, summaryGrid(map(2, 2, [0.03 * i, 0.1, 0.04 * i, 1]), false), {}));
    }
    const names = (prefix: string) => Array.from({ length: 6 }, (_, i) => `${prefix}-${i}.jpg`);
    for (let seed = 0; seed < 10; seed++) {
      const clusters = summarize(noisy, { clusters: 2, seed }).clusters;
      expect(clusters.map((c) => c.members).sort()).toEqual([names('br'), names('tl')]);
    }
    const once = summarize(noisy, { seed: 7 });
    expect(summarize(noisy, { seed: 7 })).toEqual(once);
    expect(summarize([...noisy].reverse(), { seed: 7 })).toEqual(once);
  });

  it('never makes more clusters than maps', () => {
    expect(summarize(ROWS.slice(0, 2), { clusters: 10 }).clusters).toHaveLength(2);
  });

  it('summarises an audit with no map', () => {
    const empty = summarize([ROWS[4]]);
    expect(empty.images).toBe(1);
    expect(empty.errors).toBe(1);
    expect(empty.meanMap).toEqual([]);
    expect(empty.borderShare).toBeNaN();
    expect(empty.clusters).toEqual([]);
    expect(summarize([]).images).toBe(0);
  });

  it('refuses malformed rows and options', () => {
    expectInvalid(() => summarize([row('x.jpg', [0.5, 0.5], {})]), /rows\["x.jpg"\]\.summary/);
    expectInvalid(
      () => summarize([{ ...row('x.jpg', TOP_LEFT, {}), borderShare: 1.5 }]),
      /borderShare' must be a number in \[0, 1\]/,
    );
    expectInvalid(() => summarize(ROWS, { clusters: 0 }), /options.clusters/);
    expectInvalid(() => summarize(ROWS, { seed: 0.5 }), /options.seed/);
  });
});
