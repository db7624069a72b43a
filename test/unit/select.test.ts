import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { orderStatistic, percentile } from '../../src/core/values.js';
import { mapScaling } from '../../src/render/normalize.js';

/** numpy.percentile's default, from a full sort: the reference. */
function sortedPercentile(values: Float32Array, p: number): number {
  const sorted = Float32Array.from(values).sort();
  const position = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(position);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}

function data(name: string, n: number): Float32Array {
  const rng = createRng(n);
  const r = () => rng.next();
  switch (name) {
    case 'uniform':
      return Float32Array.from({ length: n }, () => r() * 2 - 1);
    case 'mostly zeros':
      return Float32Array.from({ length: n }, () => (r() < 0.97 ? 0 : r()));
    case 'ties':
      return Float32Array.from({ length: n }, () => Math.round(r() * 5) - 2);
    case 'constant':
      return new Float32Array(n).fill(-0.5);
    case 'signed zeros and extremes':
      return Float32Array.from({ length: n }, (_, i) =>
        i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : i % 7 === 0 ? -3.4e38 : 1e-40 * i,
      );
    // Sorted data with a period matching the sample stride defeats the evenly spread sample: the exact
    // fallback must still answer.
    case 'adversarial':
      return Float32Array.from({ length: n }, (_, i) => (i % Math.floor(n / 4096) === 0 ? 1 : i / n));
    default:
      throw new Error(name);
  }
}

describe('percentile and orderStatistic agree with a full sort', () => {
  const names = ['uniform', 'mostly zeros', 'ties', 'constant', 'signed zeros and extremes', 'adversarial'];
  for (const name of names) {
    for (const n of [1, 7, 5000, 200_003]) {
      it(`${name}, ${n} values`, () => {
        const values = data(name, n);
        const sorted = Float32Array.from(values).sort();
        for (const p of [0, 1, 37.5, 50, 99, 99.5, 99.99, 100]) {
          // Float32 values, interpolated in float64 the same way: equal up to −0 versus +0.
          expect(percentile(values, p) + 0, `p ${p}`).toBe(sortedPercentile(values, p) + 0);
        }
        for (const k of [0, Math.floor(n / 3), Math.floor(n * 0.995), n - 1]) {
          expect(orderStatistic(values, k) + 0, `k ${k}`).toBe(sorted[k] + 0);
        }
      });
    }
  }

  it('leave the data as they were', () => {
    const values = data('uniform', 10_000);
    const copy = values.slice();
    percentile(values, 99.5);
    orderStatistic(values, 17);
    expect(values).toEqual(copy);
  });
});

describe('mapScaling', () => {
  it('finds the minimum and the clip percentile of the chosen values', () => {
    const map = data('uniform', 300_000);
    const abs = map.map(Math.abs);
    const scaling = mapScaling(map, { mode: 'absolute' });
    expect(scaling.low).toBe(abs.reduce((a, b) => Math.min(a, b)));
    expect(scaling.top).toBe(sortedPercentile(abs, 99.5));
    const negative = map.map((v) => Math.max(0, -v));
    expect(mapScaling(map, { mode: 'negative', clipPercentile: 90 }).top).toBe(
      sortedPercentile(negative, 90),
    );
    expect(mapScaling(map, { mode: 'signed' }).top).toBe(sortedPercentile(abs, 99.5));
  });
});
