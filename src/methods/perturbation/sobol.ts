import type { AttributionMap } from '../../core/attribution.js';
import { runBatched } from '../../core/batch.js';
import { SightlineError } from '../../core/errors.js';
import { imageView } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { resamplePlanes } from '../../core/resample.js';
import { targetValues } from '../../core/scores.js';
import { batchLike } from '../../core/tensor.js';
import { applyMasks } from './masking.js';
import { SOBOL_MAX_DIMS } from './sobol-directions.js';
import { sobolPoints } from './sobol-sequence.js';

export interface SobolOptions extends MethodOptions {
  /** Cells per side of the mask grid: one Sobol variable per cell. */
  gridSize: number;
  /** Points N of each of the two quasi-Monte Carlo designs A and B. */
  designs: number;
  /** Value masked-out pixels take, in normalised input space (0 = the dataset mean). */
  baseline: number;
}

/** Two designs of grid² variables each must fit the direction numbers kept (sobol-directions.ts). */
const MAX_GRID = Math.floor(Math.sqrt(SOBOL_MAX_DIMS / 2));

/**
 * Sobol attribution (Fel, Cadène, Chalvidal, Cord, Vigouroux & Serre, "Look at the Variance! Efficient
 * Black-box Explanations with Sobol-based Sensitivity Analysis", NeurIPS 2021, as xplique's
 * SobolAttributionMethod computes it with its defaults). Each cell i of a grid × grid mask is a variable
 * M_i in [0, 1]; the photo is shown through the mask upsampled to its size (nearest cell), x·M + baseline·(1 −
 * M), and the target's value f (a class's probability, a score's raw value, as RISE's) is read. The map is
 * each cell's total Sobol index, the share of f's variance that involves M_i, by Jansen's estimator over
 * the quasi-Monte Carlo design of Saltelli: two matrices A and B of N points each (the first and last
 * grid² coordinates of the first N points of the unscrambled Sobol sequence in 2 · grid² dimensions,
 * sobol-sequence.ts, as scipy's and xplique's default sampler), and for each i the matrix C_i, A with its
 * column i taken from B:
 *   ST_i = Σ_j (f(A_j) − f(C_i,j))² / (2 N · Var f(A)),  Var with N − 1 in the denominator.
 * The grid of indices is upsampled bilinearly to the input size. A model whose value does not vary over the
 * designs has no variance to apportion: its map is 0 and `details.variance` says 0.
 * Defaults as xplique's: grid 8, N = 32, baseline 0. Output: H × W, non-negative (each index ≥ 0; they sum
 * to ≥ 1, more when cells interact). Cost: N · (grid² + 2) model passes, batched (2112 with the defaults).
 */
export const sobol: AttributionMethod<SobolOptions> = {
  id: 'sobol',
  title: 'Sobol attribution',
  description: 'Shares out the variance of the score over quasi-random masks among grid cells (black-box).',
  requires: ['predict'],
  random: false,
  defaults: { gridSize: 8, designs: 32, baseline: 0 },
  options: {
    gridSize: { type: 'int', min: 2, max: MAX_GRID, description: 'cells per side of the mask grid' },
    designs: {
      type: 'int',
      min: 2,
      max: 4096,
      description: 'quasi-random points per design (a power of 2 keeps the sequence balanced)',
    },
    baseline: { type: 'number', description: 'fill value for masked pixels in normalised input space' },
  },
  passes: (o) => o.designs * (o.gridSize * o.gridSize + 2),
  async attribute(input: MethodInput, options: SobolOptions): Promise<AttributionMap> {
    const { gridSize: grid, designs: n } = options;
    const s = imageView(input.input.dims, input.model.spec.layout);
    if (grid > s.width || grid > s.height) {
      throw new SightlineError(
        'INVALID_ARGUMENT',
        `Sobol attribution's ${grid} × ${grid} grid is finer than the ${s.width} × ${s.height} input, so some cells would cover no pixel; use a grid of at most ${Math.min(s.width, s.height)}.`,
        { grid, width: s.width, height: s.height },
      );
    }
    const d = grid * grid;
    const points = sobolPoints(n, 2 * d);
    // Row r of the design: A_j (r < N), B_j (N ≤ r < 2N), then C_i,j = A_j with column i from B_j.
    const row = (r: number, out: Float32Array) => {
      const j = r % n;
      const block = Math.floor(r / n);
      const from = j * 2 * d;
      for (let i = 0; i < d; i++) out[i] = points[from + (block === 1 ? d + i : i)];
      if (block >= 2) out[block - 2] = points[from + d + block - 2];
    };
    const cellOfX = Int32Array.from({ length: s.width }, (_, x) => Math.floor(((x + 0.5) * grid) / s.width));
    const cellOfY = Int32Array.from({ length: s.height }, (_, y) =>
      Math.floor(((y + 0.5) * grid) / s.height),
    );
    const values = new Float64Array(n * (d + 2));
    const cells = new Float32Array(d);
    await runBatched(input.model, {
      total: values.length,
      signal: input.signal,
      onProgress: input.onProgress,
      build(start, end) {
        const count = end - start;
        const masks = new Float32Array(count * s.plane);
        for (let r = start; r < end; r++) {
          row(r, cells);
          const m = masks.subarray((r - start) * s.plane, (r - start + 1) * s.plane);
          for (let y = 0; y < s.height; y++)
            for (let x = 0; x < s.width; x++) m[y * s.width + x] = cells[cellOfY[y] * grid + cellOfX[x]];
        }
        const batch = batchLike(input.input, count);
        applyMasks(input.input.data, s, masks, count, options.baseline, batch.data);
        return batch;
      },
      consume(result, start) {
        values.set(targetValues(result, input.model.spec, input.target), start);
      },
    });
    const { indices, variance } = jansenTotalIndices(values, n, d);
    return {
      width: s.width,
      height: s.height,
      data: resamplePlanes(Float32Array.from(indices), 1, grid, grid, s.width, s.height),
      signed: false,
      details: { variance, gridSize: grid, designs: n },
    };
  },
};

/**
 * Jansen's estimator of the total Sobol indices from f over the design [A; B; C_1; …; C_d] (N rows each):
 * ST_i = Σ_j (f(A_j) − f(C_i,j))² / (2N · Var f(A)), Var with N − 1 in the denominator (xplique's
 * JansenEstimator). All zeros when f does not vary over A.
 */
export function jansenTotalIndices(
  values: Float64Array,
  n: number,
  d: number,
): { indices: Float64Array; variance: number } {
  let mean = 0;
  for (let j = 0; j < n; j++) mean += values[j];
  mean /= n;
  let variance = 0;
  for (let j = 0; j < n; j++) variance += (values[j] - mean) ** 2;
  variance /= n - 1;
  const indices = new Float64Array(d);
  if (!(variance > 0)) return { indices, variance: 0 };
  for (let i = 0; i < d; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += (values[j] - values[(2 + i) * n + j]) ** 2;
    indices[i] = sum / (2 * n * variance);
  }
  return { indices, variance };
}
