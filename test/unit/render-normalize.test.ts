import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { orderStatistic, percentile } from '../../src/core/values.js';
import { flatMapWords, normalizeMap } from '../../src/render/normalize.js';

const MAP = new Float32Array([-4, 2, 0, 1, -1]);

function close(got: Float32Array, want: number[]) {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    expect(got[i]).toBeCloseTo(w, 6);
  });
}

describe('normalizeMap modes (clipPercentile 100: the maximum is the top)', () => {
  it('absolute: |v| = [4, 2, 0, 1, 1], min 0, top 4', () => {
    close(normalizeMap(MAP, { mode: 'absolute', clipPercentile: 100 }), [1, 0.5, 0, 0.25, 0.25]);
  });

  it('positive: max(v, 0) = [0, 2, 0, 1, 0], top 2', () => {
    close(normalizeMap(MAP, { mode: 'positive', clipPercentile: 100 }), [0, 1, 0, 0.5, 0]);
  });

  it('negative: max(−v, 0) = [4, 0, 0, 0, 1], top 4', () => {
    close(normalizeMap(MAP, { mode: 'negative', clipPercentile: 100 }), [1, 0, 0, 0, 0.25]);
  });

  it('signed: v / max|v| keeps the sign and keeps 0 at 0', () => {
    close(normalizeMap(MAP, { mode: 'signed', clipPercentile: 100 }), [-1, 0.5, 0, 0.25, -0.25]);
  });

  it('defaults to absolute', () => {
    close(normalizeMap(new Float32Array([-2, 1, 0]), { clipPercentile: 100 }), [1, 0.5, 0]);
  });

  it('unsigned modes subtract the minimum, as PAIR saliency does', () => {
    // min 2, top 6: (x − 2) / 4.
    close(
      normalizeMap(new Float32Array([2, 3, 4, 6]), { mode: 'positive', clipPercentile: 100 }),
      [0, 0.25, 0.5, 1],
    );
  });
});

describe('normalizeMap percentile clipping', () => {
  it('uses the chosen percentile as the top and clips above it', () => {
    // Values 0..100: the 90th percentile is 90, so x / 90, capped at 1.
    const ramp = new Float32Array(101).map((_, i) => i);
    const out = normalizeMap(ramp, { clipPercentile: 90 });
    expect(out[45]).toBeCloseTo(0.5, 6);
    expect(out[90]).toBe(1);
    expect(out[100]).toBe(1);
  });

  it('defaults to the 99.5th percentile', () => {
    // Values 0..200: position 200 · 0.995 = 199, so the top is 199 and only 200 is clipped.
    const ramp = new Float32Array(201).map((_, i) => i);
    const out = normalizeMap(ramp);
    expect(out[100]).toBeCloseTo(100 / 199, 6);
    expect(out[199]).toBe(1);
    expect(out[200]).toBe(1);
  });

  it('scales by the maximum when the attention sits on fewer pixels than the clip leaves out', () => {
    // 4 of 4096 pixels (a 2 × 2 watermark in 64²): the 99.5th percentile is 0, the minimum, and the map was
    // drawn empty. Now those four are 2 / 2 and 1 / 2 of the way up, the rest 0.
    const sparse = new Float32Array(4096);
    sparse.set([2, 1, -2, 1], 2000);
    for (const mode of ['absolute', 'signed'] as const) {
      const out = normalizeMap(sparse, { mode });
      close(out.subarray(2000, 2004), mode === 'signed' ? [1, 0.5, -1, 0.5] : [1, 0.5, 1, 0.5]);
      expect(out.filter((v) => v !== 0).length).toBe(4);
    }
    // Positive mode: the two positive values, scaled by their maximum.
    close(normalizeMap(sparse, { mode: 'positive' }).subarray(2000, 2004), [1, 0.5, 0, 0.5]);
    // Negative mode: the one negative value.
    close(normalizeMap(sparse, { mode: 'negative' }).subarray(2000, 2004), [0, 0, 1, 0]);
    // Denser than the clip leaves out: the percentile stays the top (0.5% of 4096 is 20.5 pixels).
    const dense = new Float32Array(4096);
    for (let i = 0; i < 40; i++) dense[i] = i < 39 ? 1 : 100;
    expect(normalizeMap(dense)[0]).toBe(1);
  });

  it('signed: the percentile is taken over |v|', () => {
    // |v| = 0..4 and 10: the 80th percentile of six values sits at position 4 → 4.
    const out = normalizeMap(new Float32Array([0, -1, 2, -3, 4, -10]), {
      mode: 'signed',
      clipPercentile: 80,
    });
    close(out, [0, -0.25, 0.5, -0.75, 1, -1]);
  });
});

describe('flatMapWords', () => {
  const words = (values: number[], mode: 'absolute' | 'positive' | 'negative' | 'signed') =>
    flatMapWords(Float32Array.from(values), { mode }, 'cat');
  it('is silent on a map with an order, a sparse one included', () => {
    expect(words([0, 1, 2], 'absolute')).toBeUndefined();
    const sparse = new Array(4096).fill(0);
    sparse[7] = 1;
    expect(words(sparse, 'positive')).toBeUndefined();
  });
  it('says which way a flat map is flat', () => {
    expect(words([3, 3, 3], 'absolute')).toMatch(/^The map has the same value at every pixel: .*'cat'/);
    expect(words([-3, 3, -3], 'absolute')).toMatch(/^The map has the same value at every pixel/);
    expect(words([0, -1, -2], 'positive')).toMatch(
      /^Nothing in the photo raised the score of 'cat'.*\(the negative mode shows what lowered it\)\.$/,
    );
    expect(words([0, 1, 2], 'negative')).toMatch(/^Nothing in the photo lowered the score of 'cat'/);
    expect(words([0, 0], 'signed')).toMatch(
      /^The map is zero at every pixel: by this method nothing in the photo counts for 'cat'/,
    );
    expect(words([0, 0], 'absolute')).toMatch(/^The map is zero at every pixel/);
  });
});

describe('normalizeMap edge cases', () => {
  it('returns zeros for an all-zero or constant map', () => {
    for (const mode of ['absolute', 'positive', 'negative', 'signed'] as const) {
      expect([...normalizeMap(new Float32Array(4), { mode })]).toEqual([0, 0, 0, 0]);
    }
    expect([...normalizeMap(new Float32Array([3, 3, 3]))]).toEqual([0, 0, 0]);
    expect([...normalizeMap(new Float32Array([-3, -3]), { mode: 'positive' })]).toEqual([0, 0]);
  });

  it('accepts an empty map', () => {
    expect(normalizeMap(new Float32Array(0)).length).toBe(0);
  });

  it('rejects NaN and Infinity, saying how many and where', () => {
    const map = new Float32Array([0, Number.NaN, 1, Number.POSITIVE_INFINITY]);
    let error: unknown;
    try {
      normalizeMap(map);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('INVALID_ARGUMENT');
    expect((error as SightlineError).message).toBe(
      "Argument 'map' must hold finite numbers; got 2 NaN or infinite values among its 4 positions " +
        '(the first at position 1, value NaN).',
    );
    expect((error as SightlineError).details).toMatchObject({ nonFinite: 2, positions: 4, first: 1 });
  });

  it('rejects unknown modes and out-of-range percentiles', () => {
    const map = new Float32Array([1, 2]);
    expect(() => normalizeMap(map, { mode: 'abs' as never })).toThrow(
      `Argument 'mode' must be one of absolute, positive, negative, signed; got "abs".`,
    );
    for (const clip of [0, -1, 101, Number.NaN]) {
      expect(() => normalizeMap(map, { clipPercentile: clip })).toThrow("Argument 'clipPercentile' must be");
    }
  });
});

describe('percentile and orderStatistic', () => {
  it('interpolate linearly between order statistics, as numpy.percentile does', () => {
    const values = new Float32Array([30, 0, 20, 10]);
    expect(percentile(values, 50)).toBe(15);
    expect(percentile(values, 0)).toBe(0);
    expect(percentile(values, 100)).toBe(30);
    expect(percentile(values, 10)).toBeCloseTo(3, 5);
    expect([...values]).toEqual([30, 0, 20, 10]);
  });

  it('agree with sorting on random data full of ties', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(random() * 500);
      const values = new Float32Array(n).map(() => (random() < 0.6 ? 0 : Math.round(random() * 20)));
      const sorted = values.slice().sort();
      const k = Math.floor(random() * n);
      expect(orderStatistic(values, k)).toBe(sorted[k]);
      const p = random() * 100;
      const pos = ((n - 1) * p) / 100;
      const lo = Math.floor(pos);
      const want = sorted[lo] + (sorted[Math.min(n - 1, lo + 1)] - sorted[lo]) * (pos - lo);
      expect(percentile(values, p)).toBeCloseTo(want, 4);
    }
  });

  it('refuse an empty array or an index out of range', () => {
    expect(() => percentile(new Float32Array(0), 50)).toThrow(SightlineError);
    expect(() => orderStatistic(new Float32Array(3), 3)).toThrow(
      "Argument 'k' must be an integer index in [0, 2]",
    );
  });
});
