import { gaussianBlur, gaussianBlurXY } from '../core/blur.js';
import { orderStatistic } from '../core/values.js';

/**
 * σ measured in cells of the reduced grid the outline is smoothed on: cells are about σ / MIN_GRID_SIGMA pixels
 * apart, so the blur costs the same at 48 megapixels as at 1 (a direct blur with σ = 1% of a 6000-pixel side
 * took half a minute). When cells would be under 1.5 pixels apart (σ < 3) the map is blurred as it is.
 * test/unit/render-outline.test.ts computes the largest difference the grid can make to the smoothed map
 * (0.10 on a map in [0, 1]; it grows as 1 / MIN_GRID_SIGMA²) and checks a CAM-like map's outline at an
 * overlay's display size against the exact blur's (every pixel within one of it, 98% the same). At 2 rather
 * than 3, the audit's 640-pixel overlays (σ 3–6.4) are smoothed on a grid with a fifth of the cells instead of
 * pixel by pixel: drawOverlay 52 → 22 ms of CPU.
 */
export const MIN_GRID_SIGMA = 2;
const MIN_CELL = 1.5;

/**
 * The map blurred with a Gaussian of standard deviation `sigma` (full-resolution pixels), readable at any
 * full-resolution pixel. `grid` is what was blurred: the map itself or its cell averages.
 */
export interface SmoothedMap {
  /** Whether `grid` is a reduced grid (otherwise it is the blurred map itself). */
  readonly reduced: boolean;
  readonly width: number;
  readonly height: number;
  readonly grid: Float32Array;
  readonly gridWidth: number;
  readonly gridHeight: number;
  /**
   * Pixel columns xRuns[j] … xRuns[j + 1] − 1 read grid columns j and j + 1 (rows likewise); on an unreduced
   * grid run j is pixel j.
   */
  readonly xRuns: Int32Array;
  readonly yRuns: Int32Array;
  at(x: number, y: number): number;
}

export function smoothMap(values: Float32Array, width: number, height: number, sigma: number): SmoothedMap {
  const smoother = new MapSmoother(width, height, sigma);
  for (let y = 0; y < height; y++) smoother.addRow(y, values.subarray(y * width, (y + 1) * width));
  return smoother.finish();
}

/**
 * smoothMap fed one row at a time, so that renderOverlay can smooth the normalised map while it colours it,
 * without a second photo-sized array: on a reduced grid a row only adds to its cells' sums.
 */
export class MapSmoother {
  readonly #width: number;
  readonly #height: number;
  readonly #sigma: number;
  readonly #xs: Axis | undefined;
  readonly #ys: Axis | undefined;
  /** The rows themselves (no reduction), or the weighted sums of each grid cell. */
  readonly #sums: Float32Array | Float64Array;
  /** One row's share of each grid column. */
  readonly #line: Float64Array;

  constructor(width: number, height: number, sigma: number) {
    this.#width = width;
    this.#height = height;
    this.#sigma = sigma;
    const step = sigma / MIN_GRID_SIGMA;
    if (step < MIN_CELL) {
      this.#sums = new Float32Array(width * height);
      this.#line = new Float64Array(0);
      return;
    }
    this.#xs = axis(width, Math.ceil(width / step));
    this.#ys = axis(height, Math.ceil(height / step));
    this.#sums = new Float64Array(this.#xs.cells * this.#ys.cells);
    this.#line = new Float64Array(this.#xs.cells);
  }

  addRow(y: number, row: Float32Array): void {
    const sums = this.#sums;
    const xs = this.#xs;
    const ys = this.#ys;
    if (!xs || !ys) {
      sums.set(row, y * this.#width);
      return;
    }
    // Each pixel is shared between the two cells whose centres surround it, by the same weights that read it
    // back (splatting, the transpose of the bilinear interpolation): a pixel's mass keeps its position, where
    // plain block averages would move it to its block's centre.
    const line = this.#line;
    line.fill(0);
    for (let j = 0; j < xs.cells; j++) {
      let whole = 0;
      let share = 0;
      for (let x = xs.runs[j]; x < xs.runs[j + 1]; x++) {
        whole += row[x];
        share += xs.fraction[x] * row[x];
      }
      line[j] += whole - share;
      line[Math.min(xs.cells - 1, j + 1)] += share;
    }
    const fy = ys.fraction[y];
    const top = ys.lower[y] * xs.cells;
    const bottom = ys.upper[y] * xs.cells;
    for (let gx = 0; gx < xs.cells; gx++) {
      sums[top + gx] += (1 - fy) * line[gx];
      sums[bottom + gx] += fy * line[gx];
    }
  }

  finish(): SmoothedMap {
    const width = this.#width;
    const height = this.#height;
    const xs = this.#xs;
    const ys = this.#ys;
    if (!xs || !ys) {
      const values = this.#sums as Float32Array;
      const grid = this.#sigma > 0 ? gaussianBlur(values, 1, width, height, this.#sigma) : values;
      return {
        reduced: false,
        width,
        height,
        grid,
        gridWidth: width,
        gridHeight: height,
        xRuns: Int32Array.from({ length: width + 1 }, (_, i) => i),
        yRuns: Int32Array.from({ length: height + 1 }, (_, i) => i),
        at: (x, y) => grid[y * width + x],
      };
    }
    const gridWidth = xs.cells;
    const gridHeight = ys.cells;
    const averages = new Float32Array(gridWidth * gridHeight);
    for (let gy = 0; gy < gridHeight; gy++) {
      for (let gx = 0; gx < gridWidth; gx++) {
        const i = gy * gridWidth + gx;
        averages[i] = this.#sums[i] / (xs.mass[gx] * ys.mass[gy]);
      }
    }
    // Cells are span pixels apart, so σ in cells is σ / span.
    const grid = gaussianBlurXY(
      averages,
      1,
      gridWidth,
      gridHeight,
      this.#sigma / xs.span,
      this.#sigma / ys.span,
    );
    const at = (x: number, y: number) => {
      const top = ys.lower[y] * gridWidth;
      const bottom = ys.upper[y] * gridWidth;
      const fx = xs.fraction[x];
      const upper = grid[top + xs.lower[x]] * (1 - fx) + grid[top + xs.upper[x]] * fx;
      const lower = grid[bottom + xs.lower[x]] * (1 - fx) + grid[bottom + xs.upper[x]] * fx;
      return upper * (1 - ys.fraction[y]) + lower * ys.fraction[y];
    };
    return {
      reduced: true,
      width,
      height,
      grid,
      gridWidth,
      gridHeight,
      xRuns: xs.runs,
      yRuns: ys.runs,
      at,
    };
  }
}

/**
 * One axis of n pixels and a grid of `cells` cells, span = n / cells pixels apart, cell i centred on pixel
 * position (i + 0.5)·span − 0.5. Pixel p lies between the centres of cells lower[p] and upper[p], `fraction` of
 * the way (clamped at the ends, as core/resample enlarges: there upper = lower and fraction = 0); mass[i] is
 * the total weight of the pixels on cell i.
 */
interface Axis {
  readonly cells: number;
  readonly span: number;
  readonly lower: Int32Array;
  readonly upper: Int32Array;
  readonly fraction: Float32Array;
  readonly mass: Float64Array;
  /** The pixels with lower = j are runs[j] … runs[j + 1] − 1 (lower never decreases along the axis). */
  readonly runs: Int32Array;
}

function axis(n: number, cells: number): Axis {
  const span = n / cells;
  const lower = new Int32Array(n);
  const upper = new Int32Array(n);
  const fraction = new Float32Array(n);
  const mass = new Float64Array(cells);
  for (let p = 0; p < n; p++) {
    const centre = Math.min(cells - 1, Math.max(0, (p + 0.5) / span - 0.5));
    lower[p] = Math.floor(centre);
    upper[p] = Math.min(cells - 1, lower[p] + 1);
    fraction[p] = centre - lower[p];
    mass[lower[p]] += 1 - fraction[p];
    mass[upper[p]] += fraction[p];
  }
  const runs = new Int32Array(cells + 1);
  for (let j = 0, p = 0; j <= cells; j++) {
    while (p < n && lower[p] < j) p++;
    runs[j] = p;
  }
  return { cells, span, lower, upper, fraction, mass, runs };
}

/**
 * The threshold of the top `fraction` of the smoothed map (counted on its grid, whose cells stand for equal
 * areas): a pixel is in the region when its smoothed value is at least this and above zero.
 */
export function topThreshold(grid: Float32Array, fraction: number): number {
  const count = Math.ceil(fraction * grid.length);
  if (count === 0) return Number.POSITIVE_INFINITY;
  return orderStatistic(grid, grid.length - count);
}

/**
 * Draws the outline of the region { smoothed ≥ threshold, > 0 } into RGB or RGBA pixels: white on region pixels that
 * touch a pixel outside it, black on outside pixels that touch the region (4-neighbourhood; the image border
 * does not count). On a reduced grid only cells whose corners disagree can hold the boundary (a bilinear value
 * lies between its corners), so only they and a one-pixel margin around them are visited.
 */
export function drawOutline(
  pixels: Uint8Array | Uint8ClampedArray,
  channels: 3 | 4,
  smoothed: SmoothedMap,
  threshold: number,
): void {
  const { width, height, grid, gridWidth, gridHeight } = smoothed;
  const inside = (x: number, y: number): boolean => {
    const v = smoothed.at(x, y);
    return v >= threshold && v > 0;
  };
  // Membership of a block and its one-pixel rim, decided once per pixel rather than once per neighbour (the
  // bilinear read is most of the cost: 48 MP, 0.10 → 0.04 s).
  let mask = new Uint8Array(0);
  const paint = (x0: number, x1: number, y0: number, y1: number) => {
    const mx0 = Math.max(0, x0 - 1);
    const my0 = Math.max(0, y0 - 1);
    const mw = Math.min(width, x1 + 1) - mx0;
    const mh = Math.min(height, y1 + 1) - my0;
    if (mask.length < mw * mh) mask = new Uint8Array(mw * mh);
    for (let y = 0; y < mh; y++)
      for (let x = 0; x < mw; x++) mask[y * mw + x] = inside(mx0 + x, my0 + y) ? 1 : 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y - my0) * mw + (x - mx0);
        const here = mask[i];
        const differs =
          (x > 0 && mask[i - 1] !== here) ||
          (x < width - 1 && mask[i + 1] !== here) ||
          (y > 0 && mask[i - mw] !== here) ||
          (y < height - 1 && mask[i + mw] !== here);
        if (differs) pixels.fill(here ? 255 : 0, (y * width + x) * channels, (y * width + x) * channels + 3);
      }
    }
  };
  if (!smoothed.reduced) {
    // Every pixel is visited: decide membership once per pixel, not once per neighbour.
    const region = new Uint8Array(width * height);
    for (let i = 0; i < region.length; i++) region[i] = grid[i] >= threshold && grid[i] > 0 ? 1 : 0;
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        const here = region[i];
        const differs =
          (x > 0 && region[i - 1] !== here) ||
          (x < width - 1 && region[i + 1] !== here) ||
          (y > 0 && region[i - width] !== here) ||
          (y < height - 1 && region[i + width] !== here);
        if (differs) pixels.fill(here ? 255 : 0, i * channels, i * channels + 3);
      }
    }
    return;
  }
  const xs = smoothed.xRuns;
  const ys = smoothed.yRuns;
  const gridInside = (gx: number, gy: number) => {
    const v = grid[gy * gridWidth + gx];
    return v >= threshold && v > 0;
  };
  for (let gy = 0; gy < gridHeight; gy++) {
    if (ys[gy] === ys[gy + 1]) continue;
    const gy1 = Math.min(gridHeight - 1, gy + 1);
    for (let gx = 0; gx < gridWidth; gx++) {
      if (xs[gx] === xs[gx + 1]) continue;
      const gx1 = Math.min(gridWidth - 1, gx + 1);
      const a = gridInside(gx, gy);
      if (a === gridInside(gx1, gy) && a === gridInside(gx, gy1) && a === gridInside(gx1, gy1)) continue;
      paint(
        Math.max(0, xs[gx] - 1),
        Math.min(width, xs[gx + 1] + 1),
        Math.max(0, ys[gy] - 1),
        Math.min(height, ys[gy + 1] + 1),
      );
    }
  }
}
