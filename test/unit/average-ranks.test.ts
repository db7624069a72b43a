/**
 * averageRanks (metrics/agreement.ts), behind every Spearman correlation (sanity checks, method agreement):
 * scipy.stats.rankdata's examples, and random values with many ties against the definition itself, rank =
 * #{smaller} + (#{equal} + 1) / 2, counted pair by pair.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { averageRanks } from '../../src/metrics/agreement.js';

/** The definition, O(n²). */
function byDefinition(values: Float64Array): Float64Array {
  return Float64Array.from(values, (v) => {
    let smaller = 0;
    let equal = 0;
    for (const w of values) {
      if (w < v) smaller++;
      else if (w === v) equal++;
    }
    return smaller + (equal + 1) / 2;
  });
}

describe('averageRanks', () => {
  it("gives scipy's rankdata answers", () => {
    // scipy.stats.rankdata([0, 2, 3, 2]) and rankdata([0, 2, 3, 2, 0, 0]), method 'average'.
    expect(Array.from(averageRanks(Float64Array.of(0, 2, 3, 2)))).toEqual([1, 2.5, 4, 2.5]);
    expect(Array.from(averageRanks(Float64Array.of(0, 2, 3, 2, 0, 0)))).toEqual([2, 4.5, 6, 4.5, 2, 2]);
    expect(Array.from(averageRanks(new Float64Array(0)))).toEqual([]);
    expect(Array.from(averageRanks(Float64Array.of(7)))).toEqual([1]);
  });

  // Values that are float32 numbers (the first two sets, as every map's) take one path, other doubles (the third
  // set) another.
  it('equals the definition on random values with many ties, −0 beside 0 and infinities', () => {
    const rng = createRng(3);
    for (const [n, levels] of [
      [2000, 7],
      [1500, 300],
      [1000, 1e9],
    ]) {
      const values = Float64Array.from({ length: n }, () => Math.round((rng.next() - 0.5) * levels) / 4);
      values[0] = -0;
      values[1] = 0;
      values[2] = Number.POSITIVE_INFINITY;
      values[3] = Number.NEGATIVE_INFINITY;
      values[4] = Number.POSITIVE_INFINITY;
      expect(averageRanks(values)).toEqual(byDefinition(values));
    }
  });

  it('gives NaN a rank of NaN and ranks the other values among themselves', () => {
    const ranks = averageRanks(Float64Array.of(3, Number.NaN, 1, 3, -Number.NaN, 2));
    expect(Array.from(ranks)).toEqual([3.5, Number.NaN, 1, 3.5, Number.NaN, 2]);
    // The same with values that are not float32 numbers.
    const doubles = averageRanks(Float64Array.of(0.1, Number.NaN, 0.3, 0.1, 0.2));
    expect(Array.from(doubles)).toEqual([1.5, Number.NaN, 4, 1.5, 3]);
  });
});
