import { describe, expect, it } from 'vitest';
import type { AttributionMap } from '../../src/core/attribution.js';
import type { SightlineError } from '../../src/core/errors.js';
import { boxMask, polygonMask, shapesMask } from '../../src/core/regions/mask.js';
import type { Box } from '../../src/core/regions/shapes.js';
import { maskAttention, regionAttention, topRegionIoU } from '../../src/metrics/region.js';
import { expectInvalid } from '../helpers/errors.js';

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

  it('a box away from the peak: share 4/20 in the top-right 2×2 (the 4 at (2, 1)), peak outside', () => {
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

/** A mask as rows of 0/1 digits, for reading at a glance. */
function grid(mask: Uint8Array, width: number): string[] {
  return Array.from({ length: mask.length / width }, (_, i) =>
    mask.subarray(i * width, (i + 1) * width).join(''),
  );
}

describe('polygonMask: even-odd at pixel centres', () => {
  it('a triangle on a 6×6 grid: (3, 0), (6, 6), (0, 6)', () => {
    // Row i's centre line y = i + 0.5 meets the sides at x = 3 ∓ (i + 0.5)/2; a pixel is in when its centre
    // j + 0.5 lies in [left, right). Row 0: [2.75, 3.25) holds no centre; row 5: [0.25, 5.75) holds all six.
    expect(grid(polygonMask([3, 0, 6, 6, 0, 6], 6, 6), 6)).toEqual([
      '000000',
      '001100',
      '001100',
      '011110',
      '011110',
      '111111',
    ]);
  });

  it('a rectangle drawn as a polygon is exactly its box, in either winding, fractional edges included', () => {
    const rectangles: Box[] = [
      { x: 1, y: 1, width: 3, height: 2 },
      { x: 0.6, y: 1.4, width: 2.9, height: 3.2 },
      { x: -2, y: -2, width: 4, height: 4 }, // clipped to columns 0–1, rows 0–1
    ];
    for (const { x, y, width, height } of rectangles) {
      const box = boxMask([{ x, y, width, height }], 6, 5);
      const corners = [x, y, x + width, y, x + width, y + height, x, y + height];
      expect(polygonMask(corners, 6, 5)).toEqual(box);
      const reversed = [x, y + height, x + width, y + height, x + width, y, x, y];
      expect(polygonMask(reversed, 6, 5)).toEqual(box);
    }
  });

  it('a concave chevron whose notch vertex sits on a row of centres', () => {
    // (0, 0) → (3, 2.5) → (6, 0) → (6, 6) → (0, 6). Row 0 (y 0.5): the notch's sides cross at x 0.6 and 5.4,
    // so [0, 0.6) and [5.4, 6) are in; row 1 (y 1.5): [0, 1.8) and [4.2, 6); row 2 runs through the notch
    // vertex (2.5), which counts once on neither side (half-open in y), so the row is whole.
    expect(grid(polygonMask([0, 0, 3, 2.5, 6, 0, 6, 6, 0, 6], 6, 6), 6)).toEqual([
      '100001',
      '110011',
      '111111',
      '111111',
      '111111',
      '111111',
    ]);
  });

  it('a self-crossing bow tie: two triangles meeting at (2, 1)', () => {
    // (0, 0) → (4, 2) → (4, 0) → (0, 2). Row 0 (y 0.5): sides cross at x 0, 1, 3, 4 → [0, 1) and [3, 4);
    // row 1 (y 1.5) likewise.
    expect(grid(polygonMask([0, 0, 4, 2, 4, 0, 0, 2], 4, 2), 4)).toEqual(['1001', '1001']);
  });

  it('a square with a square hole, traced as one path through a doubled bridge (even-odd makes the hole)', () => {
    // Outer (0, 0)–(6, 6), then along the bridge to the inner (2, 2)–(4, 4) and back. Rows 2–3 cross x 0, 2,
    // 4, 6 → columns 0–1 and 4–5; row 1 crosses the bridge twice at x 1.5, which leaves no gap.
    const keyhole = [0, 0, 6, 0, 6, 6, 0, 6, 0, 0, 2, 2, 2, 4, 4, 4, 4, 2, 2, 2];
    expect(grid(polygonMask(keyhole, 6, 6), 6)).toEqual([
      '111111',
      '111111',
      '110011',
      '110011',
      '111111',
      '111111',
    ]);
  });

  it('a polygon outside the image or between centres gives an empty mask', () => {
    expect(polygonMask([10, 10, 12, 10, 11, 12], 4, 4).every((v) => v === 0)).toBe(true);
    expect(polygonMask([0.6, 0.6, 1.4, 0.6, 1, 1.4], 4, 4).every((v) => v === 0)).toBe(true);
  });

  it('agrees with a per-pixel even-odd test on random polygons, vertices on pixel centres included', () => {
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let t = 0; t < 200; t++) {
      const n = 3 + Math.floor(random() * 8);
      // Half the polygons on the half-pixel grid, where centres fall on vertices and edges.
      const at = (limit: number) =>
        t % 2 ? Math.floor(random() * limit * 2) / 2 : random() * (limit + 4) - 2;
      const points = Array.from({ length: n }, () => [at(9), at(7)]).flat();
      const expected = Uint8Array.from({ length: 9 * 7 }, (_, p) => {
        const xc = (p % 9) + 0.5;
        const yc = Math.floor(p / 9) + 0.5;
        let inside = false;
        for (let k = 0, prev = n - 1; k < n; prev = k++) {
          const [xa, ya, xb, yb] = [points[2 * prev], points[2 * prev + 1], points[2 * k], points[2 * k + 1]];
          // Strictly left of the crossing is inside, so a centre on a left edge counts and one on a right does not.
          if (ya <= yc !== yb <= yc && xc >= xa + ((yc - ya) * (xb - xa)) / (yb - ya)) inside = !inside;
        }
        return inside ? 1 : 0;
      });
      expect(polygonMask(points, 9, 7), `polygon ${points.join(', ')}`).toEqual(expected);
    }
  });

  it('a polygon of a million points fills a 12-megapixel mask in bounded time', () => {
    // Before: every row tested every edge (26 to 32 s here for this polygon, a 20 MB COCO file).
    const n = 1_000_000;
    const points: number[] = [];
    for (let k = 0; k < n; k++) {
      const a = (2 * Math.PI * k) / n;
      points.push(2000 + 1900 * Math.cos(a), 1500 + 1400 * Math.sin(a));
    }
    const started = Date.now();
    const mask = polygonMask(points, 4000, 3000);
    expect(Date.now() - started).toBeLessThan(10_000);
    const area = mask.reduce((sum, v) => sum + v, 0);
    expect(Math.abs(area / (Math.PI * 1900 * 1400) - 1)).toBeLessThan(1e-3);
  });

  it('refuses too few points, an odd count and non-finite numbers', () => {
    expectInvalid(
      () => polygonMask([0, 0, 1, 1], 4, 4),
      "Argument 'points' must be a list x0, y0, x1, y1, … of at least 3 points (an even count ≥ 6); got [0, 0, 1, 1].",
    );
    expectInvalid(() => polygonMask([0, 0, 1, 1, 2, 2, 3], 4, 4), /an even count ≥ 6/);
    expectInvalid(
      () => polygonMask([0, 0, 1, Number.NaN, 2, 2], 4, 4),
      "Argument 'points[3]' must be a finite number; got NaN.",
    );
  });
});

describe('shapesMask', () => {
  it('the union of a box and a polygon', () => {
    const mask = shapesMask(
      [
        { type: 'box', x: 0, y: 0, width: 2, height: 1 },
        { type: 'polygon', points: [3, 0, 6, 6, 0, 6] },
      ],
      6,
      6,
    );
    expect(grid(mask, 6)).toEqual(['110000', '001100', '001100', '011110', '011110', '111111']);
  });

  it('names the shape that marks nothing, and why', () => {
    let caught: SightlineError | undefined;
    try {
      shapesMask(
        [
          { type: 'box', x: 0, y: 0, width: 2, height: 1 },
          { type: 'polygon', points: [10, 0, 12, 0, 11, 3] },
        ],
        6,
        6,
      );
    } catch (error) {
      caught = error as SightlineError;
    }
    expect(caught?.message).toBe(
      "Argument 'shapes[1]' lies entirely outside the 6×6 image; got the polygon [10, 0, 12, 0, 11, 3].",
    );
    expect(caught?.details).toMatchObject({ index: 1, reason: 'outside' });
    expectInvalid(
      () => shapesMask([{ type: 'polygon', points: [0.6, 0.6, 1.4, 0.6, 1, 1.4] }], 6, 6),
      "Argument 'shapes[0]' contains no pixel centre of the 6×6 image (a pixel counts when its centre is " +
        'inside the polygon), so it marks nothing; got the polygon [0.6, 0.6, 1.4, 0.6, 1, 1.4].',
    );
    expectInvalid(
      () => shapesMask([{ type: 'box', x: 7, y: 0, width: 1, height: 1 }], 6, 6),
      "Argument 'shapes[0]' lies entirely outside the 6×6 image; got {x: 7, y: 0, width: 1, height: 1}.",
    );
  });

  it('refuses an empty list, an unknown type and a malformed polygon', () => {
    expectInvalid(() => shapesMask([], 6, 6), /^Argument 'shapes' must be a non-empty list of shapes/);
    expectInvalid(
      // @ts-expect-error: checking the run-time guard
      () => shapesMask([{ type: 'circle', x: 1, y: 1, r: 1 }], 6, 6),
      "Argument 'shapes[0].type' must be 'box' or 'polygon'; got \"circle\".",
    );
    expectInvalid(
      () => shapesMask([{ type: 'polygon', points: [0, 0, 1, 1] }], 6, 6),
      /^Argument 'shapes\[0\]\.points' must be a list/,
    );
  });
});

describe('maskAttention', () => {
  it('agrees with regionAttention on the same box', () => {
    const box = { x: 1, y: 1, width: 2, height: 2 };
    expect(maskAttention(GRID, boxMask([box], 4, 4))).toEqual(regionAttention(GRID, [box]));
  });

  it('counts any non-zero mask value as inside', () => {
    // The 8 and the 2 of GRID: 10/20 of the mass on 2/16 of the area.
    const mask = new Uint8Array(16);
    mask[5] = 255;
    mask[10] = 3;
    const r = maskAttention(GRID, mask);
    expect(r.share).toBeCloseTo(0.5, 12);
    expect(r.areaShare).toBe(2 / 16);
    expect(r.concentration).toBeCloseTo(4, 12);
    expect(r.peakInside).toBe(true);
  });

  it('tolerance: a peak 2 pixels from the region is a miss at 0 and 1.99, a hit at 2', () => {
    // GRID's peak is (1, 1); the mask is pixel (3, 1) only, 2 pixels to its right.
    const mask = new Uint8Array(16);
    mask[1 * 4 + 3] = 1;
    expect(maskAttention(GRID, mask).peakInside).toBe(false);
    expect(maskAttention(GRID, mask, { tolerance: 1.99 }).peakInside).toBe(false);
    expect(maskAttention(GRID, mask, { tolerance: 2 }).peakInside).toBe(true);
    expect(maskAttention(GRID, mask, { tolerance: 2 }).share).toBe(0);
  });

  it('tolerance is Euclidean: the diagonal neighbour is √2 away', () => {
    const mask = new Uint8Array(16);
    mask[2 * 4 + 2] = 1;
    expect(maskAttention(GRID, mask, { tolerance: 1 }).peakInside).toBe(false);
    expect(maskAttention(GRID, mask, { tolerance: 1.5 }).peakInside).toBe(true);
    // regionAttention takes the same option.
    const box = [{ x: 2, y: 2, width: 1, height: 1 }];
    expect(regionAttention(GRID, box, { tolerance: 1.5 }).peakInside).toBe(true);
    expect(regionAttention(GRID, box, { tolerance: 1 }).peakInside).toBe(false);
  });

  it('a mask that covers no pixel, or is the wrong size', () => {
    expectInvalid(
      () => maskAttention(GRID, new Uint8Array(16)),
      "Argument 'mask' covers no pixel of the 4×4 map (every value is zero); expected a non-zero value at " +
        'each pixel inside the region.',
    );
    expectInvalid(
      () => maskAttention(GRID, new Uint8Array(15)),
      "Argument 'mask' must be a Uint8Array with one value per pixel of the map, 4×4 = 16; got Uint8Array of length 15.",
    );
    expectInvalid(
      // @ts-expect-error: checking the run-time guard
      () => maskAttention(GRID, Array(16).fill(1)),
      /^Argument 'mask' must be a Uint8Array/,
    );
  });

  it('a negative or non-finite tolerance', () => {
    const mask = boxMask([{ x: 0, y: 0, width: 1, height: 1 }], 4, 4);
    expectInvalid(
      () => maskAttention(GRID, mask, { tolerance: -1 }),
      "Argument 'tolerance' must be a finite number of pixels ≥ 0; got -1.",
    );
    expectInvalid(() => maskAttention(GRID, mask, { tolerance: Infinity }), /'tolerance' must be/);
  });
});

describe('topRegionIoU on the hand-computed 4×4 map', () => {
  /** 1 at the given pixel indices of the 4×4 grid. */
  function mask(indices: number[]): Uint8Array {
    const m = new Uint8Array(16);
    for (const i of indices) m[i] = 1;
    return m;
  }
  const CENTRE = mask([5, 6, 9, 10]);

  it('fraction 0.2: the top round(3.2) = 3 pixels 8, 4, 4 against the centre 2×2 → 3 / 4', () => {
    expect(topRegionIoU(GRID, CENTRE)).toBe(0.75);
  });

  it('against the top-left 2×2 (0, 1, 4, 5): only the peak is shared → 1 / (3 + 4 − 1)', () => {
    expect(topRegionIoU(GRID, mask([0, 1, 4, 5]))).toBeCloseTo(1 / 6, 12);
  });

  it('never takes a pixel with no mass: fraction 0.5 asks 8 pixels, 6 have mass → 4 / 6', () => {
    expect(topRegionIoU(GRID, CENTRE, { fraction: 0.5 })).toBeCloseTo(4 / 6, 12);
  });

  it('the region exactly the mask → 1; disjoint → 0', () => {
    expect(topRegionIoU(GRID, mask([5, 6, 9]))).toBe(1);
    expect(topRegionIoU(GRID, mask([15]))).toBe(0);
  });

  it("modes on a signed map: 'positive' (default) ignores −10, 'absolute' takes it first", () => {
    const values = Array.from(GRID.data);
    values[15] = -10;
    const signed = map(4, 4, values, true);
    expect(topRegionIoU(signed, CENTRE)).toBe(0.75); // {5, 6, 9}
    // |−10|, 8, then the first 4 by index: {15, 5, 6}; shared with the centre {5, 6} → 2 / 5.
    expect(topRegionIoU(signed, CENTRE, { mode: 'absolute' })).toBeCloseTo(0.4, 12);
  });

  it('errors: an empty mask as maskAttention says, a bad fraction, a map with no attention', () => {
    const empty = new Uint8Array(16);
    expectInvalid(
      () => topRegionIoU(GRID, empty),
      "Argument 'mask' covers no pixel of the 4×4 map (every value is zero); expected a non-zero value at " +
        'each pixel inside the region.',
    );
    expectInvalid(() => maskAttention(GRID, empty), /^Argument 'mask' covers no pixel of the 4×4 map/);
    expectInvalid(() => topRegionIoU(GRID, new Uint8Array(15)), /^Argument 'mask' must be a Uint8Array/);
    expectInvalid(
      () => topRegionIoU(GRID, CENTRE, { fraction: 0 }),
      "Argument 'fraction' must be a fraction in (0, 1]; got 0.",
    );
    expectInvalid(
      () => topRegionIoU(GRID, CENTRE, { fraction: 0.01 }),
      "Argument 'fraction' must be large enough to select at least one of the map's 16 pixels " +
        '(round(fraction · 16) ≥ 1); got 0.01.',
    );
    expectInvalid(
      () => topRegionIoU(map(4, 4, new Array(16).fill(0)), CENTRE),
      "Argument 'map' has no attention to measure: every value is zero.",
    );
    expectInvalid(
      () => topRegionIoU(GRID, CENTRE, { mode: 'both' as never }),
      /^Argument 'mode' must be one of/,
    );
  });
});
