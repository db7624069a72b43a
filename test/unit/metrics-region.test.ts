import { describe, expect, it } from 'vitest';
import type { AttributionMap } from '../../src/core/attribution.js';
import { SightlineError } from '../../src/core/errors.js';
import { type Box, regionAttention } from '../../src/metrics/region.js';

function map(width: number, height: number, values: number[], signed = false): AttributionMap {
  return { width, height, data: Float32Array.from(values), signed };
}

/** Total mass 20; the centre 2×2 (columns 1–2, rows 1–2) holds 8 + 4 + 4 + 2 = 18 of it, the peak 8 at (1, 1). */
// biome-ignore format: the map reads as its grid
const GRID = map(4, 4, [
  0, 1, 0, 0,
  1, 8, 4, 0,
  0, 4, 2, 0,
  0, 0, 0, 0,
]);

function expectInvalid(run: () => unknown, message: RegExp | string) {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SightlineError);
  expect((caught as SightlineError).code).toBe('INVALID_ARGUMENT');
  if (typeof message === 'string') expect((caught as SightlineError).message).toBe(message);
  else expect((caught as SightlineError).message).toMatch(message);
}

describe('regionAttention on a hand-computed 4×4 map', () => {
  it('a 2×2 box: share 18/20, area 4/16, concentration 3.6, peak inside at (1, 1)', () => {
    const r = regionAttention(GRID, [{ x: 1, y: 1, width: 2, height: 2 }]);
    expect(r.share).toBeCloseTo(0.9, 12);
    expect(r.areaShare).toBe(0.25);
    expect(r.concentration).toBeCloseTo(3.6, 12);
    expect(r.peakInside).toBe(true);
    expect(r.peak).toEqual({ x: 1, y: 1 });
    expect(r.mode).toBe('absolute');
  });

  it('a box away from the peak: share 1/20 in the top-right 2×2, peak outside', () => {
    const r = regionAttention(GRID, [{ x: 2, y: 0, width: 2, height: 2 }]);
    expect(r.share).toBeCloseTo(4 / 20, 12); // 0, 0, 4, 0
    expect(r.areaShare).toBe(0.25);
    expect(r.concentration).toBeCloseTo(0.8, 12);
    expect(r.peakInside).toBe(false);
  });

  it('counts overlapping boxes once', () => {
    // The second box adds row 1, columns 2–3: only (3, 1), value 0, is new. Union 5 pixels, mass 18.
    const boxes: Box[] = [
      { x: 1, y: 1, width: 2, height: 2 },
      { x: 2, y: 1, width: 2, height: 1 },
    ];
    const r = regionAttention(GRID, boxes);
    expect(r.share).toBeCloseTo(0.9, 12);
    expect(r.areaShare).toBe(5 / 16);
    expect(r.concentration).toBeCloseTo(0.9 / (5 / 16), 12);
  });

  it('the same box twice is the box once', () => {
    const box = { x: 1, y: 1, width: 2, height: 2 };
    expect(regionAttention(GRID, [box, box])).toEqual(regionAttention(GRID, [box]));
  });

  it('clips a box that reaches beyond the image', () => {
    // Covers columns 0–1, rows 0–1 inside the image: 0 + 1 + 1 + 8 = 10.
    const r = regionAttention(GRID, [{ x: -2, y: -2, width: 4, height: 4 }]);
    expect(r.share).toBeCloseTo(0.5, 12);
    expect(r.areaShare).toBe(0.25);
    const whole = regionAttention(GRID, [{ x: -10, y: -10, width: 100, height: 100 }]);
    expect(whole.share).toBeCloseTo(1, 12);
    expect(whole.areaShare).toBe(1);
    expect(whole.concentration).toBeCloseTo(1, 12);
  });

  it('counts a pixel when its centre is inside: fractional edges', () => {
    // Columns with centre in [0.6, 1.6): only 1 (centre 1.5). Rows with centre in [1.4, 2.6): 1 and 2.
    const r = regionAttention(GRID, [{ x: 0.6, y: 1.4, width: 1, height: 1.2 }]);
    expect(r.areaShare).toBe(2 / 16);
    expect(r.share).toBeCloseTo(12 / 20, 12); // 8 + 4
  });

  it('a centre on the box edge is inside at the start and outside at the end (half-open)', () => {
    // [0.5, 1.5) × [0.5, 1.5) holds the centre (0.5, 0.5) of pixel (0, 0) only, not (1.5, 1.5).
    const r = regionAttention(GRID, [{ x: 0.5, y: 0.5, width: 1, height: 1 }]);
    expect(r.areaShare).toBe(1 / 16);
    expect(r.share).toBe(0);
    expect(r.concentration).toBe(0);
  });

  it('puts the peak at the first pixel in row-major order on ties', () => {
    const flat = map(3, 2, [1, 2, 0, 0, 2, 2]);
    const r = regionAttention(flat, [{ x: 1, y: 1, width: 2, height: 1 }]);
    expect(r.peak).toEqual({ x: 1, y: 0 });
    expect(r.peakInside).toBe(false);
  });
});

describe('regionAttention modes on a signed map', () => {
  // Positive mass [0, 1, 2, 0] (total 3); absolute mass [3, 1, 2, 4] (total 10). The box is column 0.
  const SIGNED = map(2, 2, [-3, 1, 2, -4], true);
  const LEFT: Box[] = [{ x: 0, y: 0, width: 1, height: 2 }];

  it("defaults to 'positive' for a signed map: share 2/3, peak the 2 at (0, 1)", () => {
    const r = regionAttention(SIGNED, LEFT);
    expect(r.mode).toBe('positive');
    expect(r.share).toBeCloseTo(2 / 3, 12);
    expect(r.areaShare).toBe(0.5);
    expect(r.concentration).toBeCloseTo(4 / 3, 12);
    expect(r.peak).toEqual({ x: 0, y: 1 });
    expect(r.peakInside).toBe(true);
  });

  it("'absolute' counts evidence against the class too: share (3 + 2)/10, peak the −4 at (1, 1)", () => {
    const r = regionAttention(SIGNED, LEFT, { mode: 'absolute' });
    expect(r.mode).toBe('absolute');
    expect(r.share).toBeCloseTo(0.5, 12);
    expect(r.concentration).toBeCloseTo(1, 12);
    expect(r.peak).toEqual({ x: 1, y: 1 });
    expect(r.peakInside).toBe(false);
  });

  it("defaults to 'absolute' for an unsigned map", () => {
    const r = regionAttention({ ...SIGNED, signed: false }, LEFT);
    expect(r.mode).toBe('absolute');
    expect(r.share).toBeCloseTo(0.5, 12);
  });
});

describe('regionAttention errors', () => {
  const BOX: Box[] = [{ x: 0, y: 0, width: 2, height: 2 }];

  it('a map with no attention', () => {
    expectInvalid(
      () => regionAttention(map(2, 2, [0, 0, 0, 0]), BOX),
      "Argument 'map' has no attention to measure: every value is zero.",
    );
    expectInvalid(
      () => regionAttention(map(2, 2, [-1, 0, -2, 0], true), BOX),
      /^Argument 'map' has no attention to measure: no value is above zero \(mode 'positive' counts only evidence for the class; mode 'absolute' would count evidence against it too\)\.$/,
    );
  });

  it('a map holding NaN or Infinity, with the position', () => {
    expectInvalid(
      () => regionAttention(map(2, 2, [1, 2, Number.NaN, 3]), BOX),
      "Argument 'map' must hold finite numbers; got 1 NaN or infinite value among its 4 positions " +
        '(the first at position 2, value NaN).',
    );
    expectInvalid(() => regionAttention(map(2, 2, [1, Infinity, 0, 3]), BOX), /position 1, value Infinity/);
  });

  it('a malformed map', () => {
    expectInvalid(
      () => regionAttention(map(2, 2, [1, 2, 3]), BOX),
      "Argument 'map.data' must be one value per pixel, 2×2 = 4; got Float32Array of length 3.",
    );
    expectInvalid(() => regionAttention(map(0, 2, []), BOX), /'map.width\/height' must be positive integers/);
  });

  it('an empty or missing list of boxes', () => {
    expectInvalid(
      () => regionAttention(GRID, []),
      "Argument 'boxes' must be a non-empty list of boxes {x, y, width, height}; got [].",
    );
  });

  it('a box with NaN or a negative size, naming the box and field', () => {
    expectInvalid(
      () => regionAttention(GRID, [BOX[0], { x: Number.NaN, y: 0, width: 1, height: 1 }]),
      "Argument 'boxes[1].x' must be a finite number; got NaN.",
    );
    expectInvalid(
      () => regionAttention(GRID, [{ x: 0, y: 0, width: -1, height: 1 }]),
      "Argument 'boxes[0].width' must be a number ≥ 0; got -1.",
    );
    expectInvalid(
      () => regionAttention(GRID, [{ x: 0, y: 0, width: 1, height: -2 }]),
      "Argument 'boxes[0].height' must be a number ≥ 0; got -2.",
    );
  });

  it('a box entirely outside the image', () => {
    expectInvalid(
      () => regionAttention(GRID, [BOX[0], { x: 4, y: 0, width: 3, height: 3 }]),
      "Argument 'boxes[1]' lies entirely outside the 4×4 image; got {x: 4, y: 0, width: 3, height: 3}.",
    );
    expectInvalid(
      () => regionAttention(GRID, [{ x: -5, y: -5, width: 5, height: 10 }]),
      /'boxes\[0\]' lies entirely outside/,
    );
  });

  it('a box inside the image that holds no pixel centre', () => {
    expectInvalid(
      () => regionAttention(GRID, [{ x: 0.6, y: 0.6, width: 0.5, height: 0.5 }]),
      "Argument 'boxes[0]' contains no pixel centre of the 4×4 image (a pixel counts when its centre is " +
        'inside the box), so it marks nothing; got {x: 0.6, y: 0.6, width: 0.5, height: 0.5}.',
    );
    expectInvalid(() => regionAttention(GRID, [{ x: 1, y: 1, width: 0, height: 2 }]), /no pixel centre/);
  });

  it('an unknown mode', () => {
    expectInvalid(
      // @ts-expect-error: checking the run-time guard
      () => regionAttention(GRID, BOX, { mode: 'negative' }),
      'Argument \'mode\' must be one of absolute, positive; got "negative".',
    );
  });
});
