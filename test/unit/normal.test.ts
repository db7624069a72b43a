/**
 * The seeded normal draws (core/normal.ts) against the normal distribution itself, whose bin probabilities and
 * tail moments are integrated here by Simpson's rule from the density, independently of the generator's
 * tables. 8M draws: a χ² test over 38 bins (edges at the ziggurat's tail start ±R among them) at p = 1e-4,
 * moments within 5 standard errors, and the tail beyond R (drawn by its own method) by its share and mean.
 */
import { describe, expect, it } from 'vitest';
import { fillNormal, normalStream } from '../../src/core/normal.js';

const R = 3.6541528853610088;
const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
/** ∫ g over [a, b] by Simpson's rule (2000 panels: exact to ~1e-14 for these smooth integrands). */
function simpson(g: (x: number) => number, a: number, b: number): number {
  const m = 2000;
  const h = (b - a) / m;
  let s = g(a) + g(b);
  for (let i = 1; i < m; i++) s += (i % 2 ? 4 : 2) * g(a + i * h);
  return (s * h) / 3;
}
/** P(a ≤ X < b) for X ~ N(0, 1); the density is below 1e-31 past 12. */
const probability = (a: number, b: number) => simpson(phi, Math.max(a, -12), Math.min(b, 12));

/** The χ² quantile for k degrees of freedom at a normal deviate z (Wilson–Hilferty; z = 3.719: p = 1e-4). */
const chiSquareQuantile = (k: number, z: number) => k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;

const N = 8_000_000;
const draws = (seed: number, n = N) => {
  const out = new Float64Array(n);
  fillNormal(out, normalStream(seed));
  return out;
};

describe('fillNormal', () => {
  it('draws the standard normal: χ² over bins, the tails beyond the ziggurat base included', () => {
    const inner: number[] = [];
    for (let e = -4; e <= 4 + 1e-9; e += 0.25) inner.push(Number(e.toFixed(2)));
    const edges = [Number.NEGATIVE_INFINITY, -4.5, ...inner, 4.5, Number.POSITIVE_INFINITY];
    edges.splice(edges.indexOf(-3.5), 0, -R);
    edges.splice(edges.indexOf(3.75), 0, R);
    const p = edges.slice(1).map((b, j) => probability(edges[j], b));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const seed of [0, 7]) {
      const x = draws(seed);
      const counts = new Float64Array(p.length);
      for (const v of x) {
        let lo = 0;
        let hi = edges.length - 1;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (v >= edges[mid]) lo = mid;
          else hi = mid;
        }
        counts[lo]++;
      }
      let chi2 = 0;
      for (let j = 0; j < p.length; j++) chi2 += (counts[j] - N * p[j]) ** 2 / (N * p[j]);
      expect(chi2).toBeLessThan(chiSquareQuantile(p.length - 1, 3.719));
    }
  });

  it('has mean 0, variance 1, skewness 0 and kurtosis 3 within 5 standard errors', () => {
    const x = draws(3);
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of x) {
      m1 += v;
      m2 += v * v;
      m3 += v * v * v;
      m4 += v * v * v * v;
    }
    // Standard errors of the raw moments of N(0, 1) over N draws: √(Var Xᵏ / N), Var = E X²ᵏ − (E Xᵏ)².
    const se = (variance: number) => 5 * Math.sqrt(variance / N);
    expect(Math.abs(m1 / N)).toBeLessThan(se(1));
    expect(Math.abs(m2 / N - 1)).toBeLessThan(se(3 - 1));
    expect(Math.abs(m3 / N)).toBeLessThan(se(15));
    expect(Math.abs(m4 / N - 3)).toBeLessThan(se(105 - 9));
  });

  it('draws the tail beyond R in its share and with its mean', () => {
    const x = draws(11);
    const share = 2 * probability(R, 12);
    const excess = simpson((v) => (v - R) * phi(v), R, 12) / probability(R, 12);
    let count = 0;
    let sum = 0;
    let negative = 0;
    for (const v of x)
      if (Math.abs(v) > R) {
        count++;
        sum += Math.abs(v) - R;
        if (v < 0) negative++;
      }
    // Binomial counts: ≈ 2060 expected, 5σ ≈ 230.
    expect(Math.abs(count - N * share)).toBeLessThan(5 * Math.sqrt(N * share));
    expect(Math.abs(negative - count / 2)).toBeLessThan(5 * Math.sqrt(count / 4));
    // E[|X| − R | |X| > R] ≈ 0.25; its standard error over ≈ 2000 draws is about 0.005.
    expect(Math.abs(sum / count - excess)).toBeLessThan(0.03);
  });

  it('gives the same numbers for the same seed, other numbers for another, however the fills are cut', () => {
    const once = draws(42, 100_000);
    expect(draws(42, 100_000)).toEqual(once);
    const other = draws(43, 100_000);
    expect(other.filter((v, i) => v === once[i]).length).toBeLessThan(10);
    // Cut into uneven fills, the stream carried: the same numbers as one fill.
    const stream = normalStream(42);
    const pieces: number[] = [];
    for (const size of [1, 7, 0, 3000, 12345, 84647]) {
      const part = new Float64Array(size);
      fillNormal(part, stream);
      pieces.push(...part);
    }
    expect(new Float64Array(pieces)).toEqual(once);
  });

  it('starts from any 32-bit seed, 0 and 2³² − 1 included, and fills float32 arrays with the rounded draws', () => {
    for (const seed of [0, 0xffffffff]) {
      const x = draws(seed, 10_000);
      expect(x.every(Number.isFinite)).toBe(true);
      expect(new Set(x).size).toBe(10_000);
    }
    const single = new Float32Array(1000);
    fillNormal(single, normalStream(5));
    expect(single).toEqual(Float32Array.from(draws(5, 1000)));
  });
});
