import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { normalizedAbs, spearman, ssim } from '../../src/metrics/similarity.js';

/** Spearman from its definition, written independently: rank = #smaller + (#equal + 1) / 2, then Pearson. */
function naiveSpearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (v: ArrayLike<number>) =>
    Array.from(v, (x) => {
      let less = 0;
      let equal = 0;
      for (let j = 0; j < v.length; j++) {
        if (v[j] < x) less++;
        else if (v[j] === x) equal++;
      }
      return less + (equal + 1) / 2;
    });
  const ra = rank(a);
  const rb = rank(b);
  const mean = (r: number[]) => r.reduce((s, x) => s + x, 0) / r.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('spearman', () => {
  it('is 1 for the same order, −1 for the reverse, and NaN for a constant', () => {
    expect(spearman(Float32Array.of(1, 5, 2, 9), Float32Array.of(10, 50, 20, 90))).toBe(1);
    expect(spearman(Float32Array.of(1, 2, 3), Float32Array.of(3, 2, 1))).toBe(-1);
    expect(spearman(Float32Array.of(2, 2, 2), Float32Array.of(1, 2, 3))).toBeNaN();
  });

  it('gives ties their average rank: [1, 2, 2, 3] vs [1, 2, 3, 4] → ρ = 0.9487 (scipy.stats.spearmanr)', () => {
    // Ranks 1, 2.5, 2.5, 4 against 1, 2, 3, 4: r = 4.5 / √(4.5 · 5) = 0.948683…
    expect(spearman(Float32Array.of(1, 2, 2, 3), Float32Array.of(1, 2, 3, 4))).toBeCloseTo(
      4.5 / Math.sqrt(4.5 * 5),
      12,
    );
  });

  it('matches an independent implementation on random data with ties', () => {
    const rng = createRng(7);
    const a = Float32Array.from({ length: 400 }, () => Math.round(rng.next() * 30));
    const b = Float32Array.from(a, (v) => v + Math.round(rng.next() * 40) - 20);
    expect(spearman(a, b)).toBeCloseTo(naiveSpearman(a, b), 12);
  });

  it('rejects arrays of different lengths and non-finite values, naming the argument', () => {
    expect(() => spearman(Float32Array.of(1, 2), Float32Array.of(1))).toThrow(/Argument 'a, b'/);
    expect(() => spearman(Float32Array.of(1, Number.NaN), Float32Array.of(1, 2))).toThrow(
      /Argument 'a' must be finite values; got "NaN at index 1"/,
    );
  });
});

describe('ssim', () => {
  it('is 1 for identical maps and for a constant against itself', () => {
    const rng = createRng(3);
    const a = Float32Array.from({ length: 12 * 9 }, () => rng.next() * 2 - 1);
    expect(ssim(a, a, 12, 9)).toBeCloseTo(1, 12);
    const c = new Float32Array(8 * 8).fill(0.3);
    expect(ssim(c, c, 8, 8)).toBe(1);
    expect(ssim(new Float32Array(64), new Float32Array(64), 8, 8)).toBe(1);
  });

  it("normalises |v| by the map's own maximum, so sign and scale do not matter by default", () => {
    const rng = createRng(4);
    const a = Float32Array.from({ length: 100 }, () => rng.next());
    const b = Float32Array.from(a, (v) => -3 * v);
    expect(ssim(a, b, 10, 10)).toBeCloseTo(1, 12);
    expect(ssim(a, b, 10, 10, { normalize: false })).toBeLessThan(0.5);
    expect(Array.from(normalizedAbs(Float32Array.of(-2, 1, 0)))).toEqual([1, 0.5, 0]);
  });

  it('matches a hand computation on one 7 × 7 window: a ramp against the reversed ramp', () => {
    // a = i / 48 and b = (48 − i) / 48 for i = 0 … 48: both already in [0, 1] with max 1, so normalisation
    // keeps them. L = 1, μa = μb = 1/2, sample variances σ² = (49² − 1)/12 · 49/48 / 48², σab = −σ².
    const a = Float32Array.from({ length: 49 }, (_, i) => i / 48);
    const b = Float32Array.from({ length: 49 }, (_, i) => (48 - i) / 48);
    const variance = (((49 * 49 - 1) / 12) * (49 / 48)) / (48 * 48);
    const c1 = 0.01 ** 2;
    const c2 = 0.03 ** 2;
    const expected = ((2 * 0.25 + c1) * (-2 * variance + c2)) / ((0.5 + c1) * (2 * variance + c2));
    expect(expected).toBeCloseTo(-0.98992, 4);
    expect(ssim(a, b, 7, 7)).toBeCloseTo(expected, 6);
  });

  it('averages the windows that fit: a 7 × 8 map has two, each computed like a single 7 × 7 map', () => {
    // With normalize: false and the same data range, the mean of the two windows' values is the answer.
    const rng = createRng(11);
    const a = Float32Array.from({ length: 7 * 8 }, () => rng.next());
    const b = Float32Array.from({ length: 7 * 8 }, () => rng.next());
    a[0] = 0;
    a[1] = 1; // range [0, 1] over both maps and over each window pair below
    a[7] = 0;
    a[8] = 1;
    const window = (v: Float32Array, top: number) => v.slice(top * 7, top * 7 + 49);
    const [w0a, w0b, w1a, w1b] = [window(a, 0), window(b, 0), window(a, 1), window(b, 1)];
    const both = ssim(a, b, 7, 8, { normalize: false });
    const first = ssim(w0a, w0b, 7, 7, { normalize: false });
    const second = ssim(w1a, w1b, 7, 7, { normalize: false });
    expect(both).toBeCloseTo((first + second) / 2, 12);
  });

  it('rejects sizes that do not fit and maps smaller than the window', () => {
    expect(() => ssim(new Float32Array(49), new Float32Array(49), 7, 6)).toThrow(/Argument 'width, height'/);
    expect(() => ssim(new Float32Array(36), new Float32Array(36), 6, 6)).toThrow(
      /at least the window size 7/,
    );
    expect(() => ssim(new Float32Array(49), new Float32Array(49), 7, 7, { windowSize: 4 })).toThrow(
      /Argument 'windowSize' must be an odd whole number/,
    );
  });
});
