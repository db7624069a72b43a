import { describe, expect, it } from 'vitest';
import type { AttributionMap } from '../../src/core/attribution.js';
import { createRng } from '../../src/core/random.js';
import { boxAverage, compareMaps, mapAgreement, RANK_GRID_SIZE } from '../../src/metrics/agreement.js';
import { expectInvalid } from '../helpers/errors.js';

function map(width: number, height: number, values: ArrayLike<number>, signed = false): AttributionMap {
  return { width, height, data: Float32Array.from(values), signed };
}

/** A 10 × 1 map, so the top 20% is exactly 2 pixels. */
function row(values: number[], signed = false): AttributionMap {
  return map(values.length, 1, values, signed);
}

/** Written apart from the library: ranks from a sort, ties averaged, then Pearson's r of the ranks. */
function referenceSpearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const rank = (v: ArrayLike<number>) => {
    const sorted = Array.from(v).sort((p, q) => p - q);
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    sorted.forEach((value, k) => {
      if (!first.has(value)) first.set(value, k + 1);
      last.set(value, k + 1);
    });
    return Array.from(v, (value) => (first.get(value)! + last.get(value)!) / 2);
  };
  const rx = rank(x);
  const ry = rank(y);
  const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
  const mx = mean(rx);
  const my = mean(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  rx.forEach((_, i) => {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('mapAgreement', () => {
  it('identical maps: overlap 1, ρ 1', () => {
    const a = row([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]);
    const r = mapAgreement(a, a);
    expect(r.topOverlap).toBe(1);
    expect(r.rankCorrelation).toBeCloseTo(1, 12);
    expect(r.topFraction).toBe(0.2);
  });

  it('reversed ranks: overlap 0, ρ −1', () => {
    const up = row([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const down = row([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const r = mapAgreement(up, down);
    expect(r.topOverlap).toBe(0);
    expect(r.rankCorrelation).toBeCloseTo(-1, 12);
  });

  it('tops {0, 1} and {0, 2} share one of three pixels: IoU 1/3; ρ by hand 0.5', () => {
    // Ranks with ties averaged: a = [10, 9, 4.5 × 8], b = [10, 4.5, 9, 4.5 × 7], both with mean 5.5.
    // Deviations a = [4.5, 3.5, −1 × 8], b = [4.5, −1, 3.5, −1 × 7]:
    // Σ da·db = 20.25 − 3.5 − 3.5 + 7 = 20.25; Σ da² = Σ db² = 20.25 + 12.25 + 8 = 40.5; ρ = 0.5.
    const a = row([9, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    const b = row([9, 0, 8, 0, 0, 0, 0, 0, 0, 0]);
    const r = mapAgreement(a, b);
    expect(r.topOverlap).toBeCloseTo(1 / 3, 12);
    expect(r.rankCorrelation).toBeCloseTo(0.5, 12);
  });

  it('takes exactly round(topFraction · N) pixels, breaking ties at the cut-off by index', () => {
    // Five tied pixels each: a's top two are 0 and 1, b's are 2 and 3, so no overlap. Counting all tied
    // pixels would give 3 shared of 7.
    const a = row([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    const b = row([0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(mapAgreement(a, b).topOverlap).toBe(0);
    // topFraction 0.3 → 3 pixels each: {0, 1, 2} and {2, 3, 4} share one of five.
    const r = mapAgreement(a, b, { topFraction: 0.3 });
    expect(r.topOverlap).toBeCloseTo(1 / 5, 12);
    expect(r.topFraction).toBe(0.3);
    // A top fraction of everything is every pixel with any attention: {0 … 4} and {2 … 6} share three of seven.
    expect(mapAgreement(a, b, { topFraction: 1 }).topOverlap).toBeCloseTo(3 / 7, 12);
  });

  it('never counts pixels without attention among the strongest', () => {
    // Top 20% = 2 pixels, but a has attention on one pixel only: its region is {5}, not {5, 0}; b's is {5, 7}.
    // Padding a's region with the zero pixel 0 would give 1/3 and depend on where zeros sit.
    const a = row([0, 0, 0, 0, 0, 3, 0, 0, 0, 0]);
    const b = row([0, 0, 0, 0, 0, 3, 0, 1, 0, 0]);
    expect(mapAgreement(a, b).topOverlap).toBeCloseTo(1 / 2, 12);
  });

  it('measures a signed map by max(v, 0) and an unsigned one by |v|', () => {
    // Signed a: positive mass [0, 1, 2, 0 …], top {1, 2}. Unsigned b: |v| = [9, 1, 2, 0 …], top {0, 2}.
    const a = row([-9, 1, 2, 0, 0, 0, 0, 0, 0, 0], true);
    const b = row([9, 1, 2, 0, 0, 0, 0, 0, 0, 0]);
    expect(mapAgreement(a, b).topOverlap).toBeCloseTo(1 / 3, 12);
    expect(mapAgreement({ ...a, signed: false }, b).topOverlap).toBe(1);
  });

  it('ρ matches an independent Spearman on random maps, with and without ties', () => {
    const rng = createRng(7);
    for (const levels of [0, 3, 6]) {
      for (let trial = 0; trial < 5; trial++) {
        // levels 0: continuous values; otherwise values from a few levels, so ties are everywhere.
        const draw = () => (levels === 0 ? rng.next() : Math.floor(rng.next() * levels)) + 0.5;
        const a = Float32Array.from({ length: 20 * 15 }, draw);
        const b = a.map((v) => (rng.next() < 0.5 ? v : draw()));
        const r = mapAgreement(map(20, 15, a), map(20, 15, b));
        expect(r.rankCorrelation).toBeCloseTo(referenceSpearman(a, b), 10);
      }
    }
  });

  it('ρ is NaN when a map is the same everywhere, since a constant has no order', () => {
    const flat = row([2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    const r = mapAgreement(flat, row([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(r.rankCorrelation).toBeNaN();
    expect(r.topOverlap).toBeCloseTo(0, 12); // flat's top by index {0, 1}; the other's {8, 9}
  });
});

describe('rank correlation on the 64 × 64 grid', () => {
  it('box-averages blocks of ceil(side / 64), narrower at a ragged edge', () => {
    // 5 × 3 into at most 2 × 2: blocks of 3 × 2 pixels; the last column and row blocks are narrower.
    // biome-ignore format: the map reads as its grid
    const values = Float32Array.from([
      0, 1, 2, 3, 4,
      5, 6, 7, 8, 9,
      10, 11, 12, 13, 14,
    ]);
    const out = boxAverage(values, 5, 3, 2);
    expect(out.width).toBe(2);
    expect(out.height).toBe(2);
    // (0+1+2+5+6+7)/6, (3+4+8+9)/4, (10+11+12)/3, (13+14)/2
    expect(Array.from(out.data)).toEqual([3.5, 6, 11, 13.5]);
    expect(boxAverage(new Float32Array(130 * 100), 130, 100, RANK_GRID_SIZE)).toMatchObject({
      width: 44,
      height: 50,
    });
    const small = boxAverage(values, 5, 3, RANK_GRID_SIZE);
    expect(Array.from(small.data)).toEqual(Array.from(values));
  });

  it('a 128 × 128 map: pixel-level texture that cancels within 2 × 2 blocks does not count', () => {
    // b is a coarse ramp, one value per 2 × 2 block. a adds a large texture +3, +1, −1, −3 (× 5000) inside each
    // block: pixel by pixel a's order is mostly the texture, but each block's mean is 20000 + b's value.
    const side = 128;
    const texture = [3, 1, -1, -3];
    const a = new Float32Array(side * side);
    const b = new Float32Array(side * side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const coarse = 1 + (x >> 1) + 64 * (y >> 1);
        b[y * side + x] = coarse;
        a[y * side + x] = 20000 + coarse + 5000 * texture[(y % 2) * 2 + (x % 2)];
      }
    }
    const r = mapAgreement(map(side, side, a), map(side, side, b));
    expect(r.rankCorrelation).toBeCloseTo(1, 12);
    // At full resolution the two maps' orders have little in common.
    expect(referenceSpearman(a, b)).toBeLessThan(0.4);
  });

  it('matches an independent Spearman of independently averaged 2 × 2 blocks on a random 128 × 128 pair', () => {
    const rng = createRng(11);
    const side = 128;
    const a = Float32Array.from({ length: side * side }, () => rng.next());
    const b = a.map((v, i) => v + (i % side) / side + rng.next());
    const blocks = (v: Float32Array) => {
      const out: number[] = [];
      for (let y = 0; y < side; y += 2) {
        for (let x = 0; x < side; x += 2) {
          const i = y * side + x;
          out.push((v[i] + v[i + 1] + v[i + side] + v[i + side + 1]) / 4);
        }
      }
      return out;
    };
    const r = mapAgreement(map(side, side, a), map(side, side, b));
    expect(r.rankCorrelation).toBeCloseTo(referenceSpearman(blocks(a), blocks(b)), 10);
  });
});

describe('compareMaps', () => {
  const maps = {
    'Grad-CAM': row([9, 8, 0, 0, 0, 0, 0, 0, 0, 0]),
    RISE: row([9, 0, 8, 0, 0, 0, 0, 0, 0, 0]),
    Occlusion: row([0, 0, 0, 0, 0, 0, 0, 0, 8, 9]),
  };

  it('gives every pair once, in key order, each equal to mapAgreement', () => {
    const pairs = compareMaps(maps);
    expect(pairs.map((p) => [p.a, p.b])).toEqual([
      ['Grad-CAM', 'RISE'],
      ['Grad-CAM', 'Occlusion'],
      ['RISE', 'Occlusion'],
    ]);
    for (const p of pairs) {
      expect(p).toEqual({ a: p.a, b: p.b, ...mapAgreement(maps[p.a as 'RISE'], maps[p.b as 'RISE']) });
    }
    expect(pairs[0].topOverlap).toBeCloseTo(1 / 3, 12);
    expect(pairs[1].topOverlap).toBe(0);
  });

  it('passes topFraction on', () => {
    const pairs = compareMaps(maps, { topFraction: 0.1 });
    expect(pairs[0]).toMatchObject({ topOverlap: 1, topFraction: 0.1 });
  });

  it('needs two maps of one size', () => {
    expectInvalid(
      () => compareMaps({ only: maps.RISE }),
      'Argument \'maps\' must be a record of at least two named maps; got ["only"].',
    );
    expectInvalid(
      () => compareMaps({ ...maps, Big: map(5, 2, new Array(10).fill(1)) }),
      'Maps "Grad-CAM" and "Big" must be maps of the same size; got 10×1 and 5×2 (width×height).',
    );
    expectInvalid(
      () => compareMaps({ ...maps, Empty: row(new Array(10).fill(0)) }),
      'Argument \'maps["Empty"]\' has no attention to measure: every value is zero.',
    );
  });
});

describe('mapAgreement errors', () => {
  const a = row([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  it('maps of different sizes, naming both sizes', () => {
    expectInvalid(
      () => mapAgreement(map(4, 4, new Array(16).fill(1)), map(8, 4, new Array(32).fill(1))),
      "Arguments 'a' and 'b' must be maps of the same size; got 4×4 and 8×4 (width×height).",
    );
  });

  it('a map without attention or with NaN, naming which', () => {
    expectInvalid(
      () => mapAgreement(a, row(new Array(10).fill(0))),
      "Argument 'b' has no attention to measure: every value is zero.",
    );
    expectInvalid(
      () => mapAgreement(row([1, 2, Number.NaN, 4, 5, 6, 7, 8, 9, 10]), a),
      /^Argument 'a' must hold finite numbers; .*position 2, value NaN/,
    );
  });

  it('a topFraction outside (0, 1] or too small for the map', () => {
    expectInvalid(
      () => mapAgreement(a, a, { topFraction: 0 }),
      "Argument 'topFraction' must be a fraction in (0, 1]; got 0.",
    );
    expectInvalid(() => mapAgreement(a, a, { topFraction: 1.5 }), /fraction in \(0, 1\]; got 1.5/);
    expectInvalid(
      () => mapAgreement(a, a, { topFraction: 0.01 }),
      "Argument 'topFraction' must be large enough to select at least one of the map's 10 pixels " +
        '(round(topFraction · 10) ≥ 1); got 0.01.',
    );
  });
});
