import { describe, expect, it } from 'vitest';
import { gaussianBlur } from '../../src/core/blur.js';
import { createRng } from '../../src/core/random.js';
import { drawOutline, smoothMap, topThreshold } from '../../src/render/outline.js';
import { renderOverlay } from '../../src/render/overlay.js';

/**
 * smoothMap is linear and separable (splat onto the grid, blur there, interpolate back; each step along x and y
 * separately), and so is the exact blur. Along one axis of n pixels both are n × n matrices, recovered column
 * by column from unit impulses on an n × 1 image; the largest row sum of |M − G| is the most the approximation
 * can differ from the exact blur on any signal with |values| ≤ 1 (an L∞ → L∞ operator norm).
 */
function axisBound(n: number, sigma: number): number {
  const approx: Float64Array[] = [];
  const exact: Float32Array[] = [];
  for (let q = 0; q < n; q++) {
    const impulse = new Float32Array(n);
    impulse[q] = 1;
    const smoothed = smoothMap(impulse, n, 1, sigma);
    approx.push(Float64Array.from({ length: n }, (_, p) => smoothed.at(p, 0)));
    exact.push(gaussianBlur(impulse, 1, n, 1, sigma));
  }
  let worst = 0;
  for (let p = 0; p < n; p++) {
    let row = 0;
    for (let q = 0; q < n; q++) row += Math.abs(approx[q][p] - exact[q][p]);
    worst = Math.max(worst, row);
  }
  return worst;
}

describe('smoothMap on a reduced grid against the exact Gaussian blur', () => {
  // For a 2-D separable pair, |Mx⊗My − Gx⊗Gy| ≤ |Mx − Gx|·|My| + |Gx|·|My − Gy| with rows of M and G summing to
  // 1: the 2-D bound is the sum of the two axes' bounds.
  const width = 640;
  const height = 480;
  const sigma = 9; // 1% smoothing of a 900-pixel side: cells 3 pixels apart
  const bound = axisBound(width, sigma) + axisBound(height, sigma);

  it('is provably within about a tenth of it', () => {
    // Cells σ / MIN_GRID_SIGMA = σ / 2 apart: 0.101 here (0.046 when cells were σ / 3 apart, which made a
    // 640-pixel overlay's outline cost 40 ms of its 50). The bilinear read-back's error scales as (cell / σ)².
    expect(bound).toBeLessThan(0.11);
    expect(bound).toBeGreaterThan(0.001);
  });

  for (const [name, make] of [
    ['noise', (rng: () => number) => () => rng()],
    ['blocks', () => (x: number, y: number) => ((x >> 5) + (y >> 5)) % 2],
    ['a soft blob', () => (x: number, y: number) => Math.exp(-((x - 200) ** 2 + (y - 300) ** 2) / 5000)],
  ] as const) {
    it(`stays within the computed bound on ${name}`, () => {
      const rng = createRng(5);
      const value = make(() => rng.next()) as (x: number, y: number) => number;
      const map = new Float32Array(width * height);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) map[y * width + x] = value(x, y);
      const smoothed = smoothMap(map, width, height, sigma);
      expect(smoothed.reduced).toBe(true);
      const exact = gaussianBlur(map, 1, width, height, sigma);
      let worst = 0;
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          worst = Math.max(worst, Math.abs(smoothed.at(x, y) - exact[y * width + x]));
      // Float32 rounding of the grid is the only slack.
      expect(worst).toBeLessThanOrEqual(bound + 1e-5);
    });
  }

  it('blurs small σ exactly', () => {
    const rng = createRng(9);
    const map = Float32Array.from({ length: 60 * 40 }, () => rng.next());
    const smoothed = smoothMap(map, 60, 40, 2);
    expect(smoothed.reduced).toBe(false);
    expect([...smoothed.grid]).toEqual([...gaussianBlur(map, 1, 60, 40, 2)]);
  });
});

describe('the outline of a CAM-like map at an overlay’s display size', () => {
  // What the audit draws: a 640 × 427 overlay (σ = 1% of 427 = 4.27 px, on the reduced grid) of a map that is an
  // 8 × 8 grid enlarged bilinearly, as a Grad-CAM on InceptionV3's last block is.
  const width = 640;
  const height = 427;
  const sigma = 0.01 * height;
  /** The pixels drawOutline paints, for a smoothed map and the top 20%. */
  const outline = (smoothed: ReturnType<typeof smoothMap>) => {
    const pixels = new Uint8Array(width * height * 3).fill(128);
    drawOutline(pixels, 3, smoothed, topThreshold(smoothed.grid, 0.2));
    return Uint8Array.from({ length: width * height }, (_, i) => (pixels[i * 3] === 128 ? 0 : 1));
  };
  for (const seed of [1, 2, 3]) {
    it(`lies within a pixel of the exactly blurred map’s outline (seed ${seed})`, () => {
      const rng = createRng(seed);
      const grid = Float32Array.from({ length: 64 }, () => Math.max(0, rng.next() - 0.3));
      const map = new Float32Array(width * height);
      const at = (n: number, p: number) => Math.min(7, Math.max(0, ((p + 0.5) * 8) / n - 0.5));
      for (let y = 0; y < height; y++) {
        const gy = at(height, y);
        const [y0, fy] = [Math.floor(gy), gy - Math.floor(gy)];
        const y1 = Math.min(7, y0 + 1);
        for (let x = 0; x < width; x++) {
          const gx = at(width, x);
          const [x0, fx] = [Math.floor(gx), gx - Math.floor(gx)];
          const x1 = Math.min(7, x0 + 1);
          const top = grid[y0 * 8 + x0] * (1 - fx) + grid[y0 * 8 + x1] * fx;
          const bottom = grid[y1 * 8 + x0] * (1 - fx) + grid[y1 * 8 + x1] * fx;
          map[y * width + x] = top * (1 - fy) + bottom * fy;
        }
      }
      const smoothed = smoothMap(map, width, height, sigma);
      expect(smoothed.reduced).toBe(true);
      const blurred = gaussianBlur(map, 1, width, height, sigma);
      const exact = outline({
        reduced: false,
        width,
        height,
        grid: blurred,
        gridWidth: width,
        gridHeight: height,
        xRuns: Int32Array.from({ length: width + 1 }, (_, i) => i),
        yRuns: Int32Array.from({ length: height + 1 }, (_, i) => i),
        at: (x, y) => blurred[y * width + x],
      });
      const got = outline(smoothed);
      const near = (line: Uint8Array, x: number, y: number) => {
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) if (line[(y + dy) * width + x + dx]) return true;
        return false;
      };
      let same = 0;
      let total = 0;
      let astray = 0;
      for (let y = 1; y < height - 1; y++) {
        for (let x = 1; x < width - 1; x++) {
          const i = y * width + x;
          if (exact[i]) total++;
          if (exact[i] && got[i]) same++;
          // Every outline pixel of either lies within one pixel (8-neighbourhood) of the other's outline.
          if ((got[i] && !near(exact, x, y)) || (exact[i] && !near(got, x, y))) astray++;
        }
      }
      expect(astray).toBe(0);
      expect(total).toBeGreaterThan(500);
      // Measured when written: 97.9-98.4% of the exact outline’s pixels are painted alike.
      expect(same / total).toBeGreaterThan(0.9);
    });
  }
});

describe('renderOverlay on a 12-megapixel photo', () => {
  it('outlines the top 20% where the smoothed map says, at the photo size', () => {
    // A round bump centred off the middle: the top 20% of any radially decreasing map, smoothed or not, is the
    // disc of area 0.2·W·H around its centre, so the outline is the circle of radius √(0.2·W·H / π) ≈ 874 px.
    const width = 4000;
    const height = 3000;
    const [cx, cy] = [1700, 1400];
    const map = new Float32Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        map[y * width + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 600 ** 2));
    const photo = { width, height, data: new Uint8Array(width * height * 3).fill(128) };
    const out = renderOverlay(photo, map, { opacity: 0 });
    expect([out.width, out.height, out.data.length]).toEqual([width, height, width * height * 4]);

    const radius = Math.sqrt((0.2 * width * height) / Math.PI);
    let white = 0;
    let black = 0;
    let worst = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = out.data[(y * width + x) * 4];
        if (v === 128) continue;
        const r = Math.hypot(x - cx, y - cy);
        worst = Math.max(worst, Math.abs(r - radius));
        if (v === 255) {
          white++;
          // White lines the inside of the region, black its outside.
          expect(r).toBeLessThan(radius + 8);
        } else {
          black++;
          expect(v).toBe(0);
          expect(r).toBeGreaterThan(radius - 8);
        }
      }
    }
    // Within the cells’ size (σ / 2 = 15 px) of the circle, and all the way round: the pixels of a digital disc
    // with a 4-neighbour outside it form an 8-connected ring of about 4√2·r pixels (r/√2 per octant), and so do
    // the outside pixels touching it.
    expect(worst).toBeLessThan(8);
    for (const n of [white, black]) {
      expect(n).toBeGreaterThan(0.95 * 4 * Math.SQRT2 * radius);
      expect(n).toBeLessThan(1.05 * 4 * Math.SQRT2 * radius);
    }
  });
});

describe('drawOutline on a reduced grid', () => {
  it('paints exactly the pixels whose smoothed membership differs from a 4-neighbour’s, checked pixel by pixel', () => {
    const [width, height] = [900, 700];
    const rng = createRng(9);
    const map = new Float32Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        map[y * width + x] =
          Math.exp(-((x - 300) ** 2 + (y - 250) ** 2) / 9000) +
          0.7 * Math.exp(-((x - 650) ** 2 + (y - 480) ** 2) / 4000) +
          0.3 * rng.next();
    const smoothed = smoothMap(map, width, height, 9);
    expect(smoothed.reduced).toBe(true);
    const threshold = topThreshold(smoothed.grid, 0.2);
    const pixels = new Uint8Array(width * height * 3).fill(128);
    drawOutline(pixels, 3, smoothed, threshold);
    const inside = (x: number, y: number) => {
      const v = smoothed.at(x, y);
      return v >= threshold && v > 0;
    };
    let painted = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const here = inside(x, y);
        const edge =
          (x > 0 && inside(x - 1, y) !== here) ||
          (x < width - 1 && inside(x + 1, y) !== here) ||
          (y > 0 && inside(x, y - 1) !== here) ||
          (y < height - 1 && inside(x, y + 1) !== here);
        const want = edge ? (here ? 255 : 0) : 128;
        const got = pixels[(y * width + x) * 3];
        if (got !== want) expect(got, `pixel ${x}, ${y}`).toBe(want);
        if (edge) painted++;
      }
    }
    expect(painted).toBeGreaterThan(1000);
  });
});
