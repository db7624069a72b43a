import type { AttributionMap } from '../../core/attribution.js';
import { runBatched } from '../../core/batch.js';
import { imageView } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { createRng } from '../../core/random.js';
import { targetValues } from '../../core/scores.js';
import { maskWorkspace } from './mask-kernels.js';

export interface RiseOptions extends MethodOptions {
  /** Number of random masks N. */
  masks: number;
  /** Cells per side of the coarse random grid (s). */
  gridSize: number;
  /** Probability p that a cell is kept. */
  keepProbability: number;
  seed: number;
  /** Value masked-out pixels take, in normalised input space (0 = the dataset mean). */
  baseline: number;
}

/**
 * RISE (Petsiuk, Das & Saenko, "RISE: Randomized Input Sampling for Explanation of Black-box Models",
 * BMVC 2018), eq. 6: S(p) ≈ 1 / (E[M] · N) · Σ_i f(I ⊙ M_i) · M_i(p), with E[M] = p and f the target
 * class's probability.
 * Masks: an s × s grid of cells kept with probability p, bilinearly upsampled to (s + 1) · ⌈H/s⌉ pixels and
 * shifted by a random offset below one cell, so mask edges fall anywhere. Masked pixels blend towards the
 * baseline. Defaults: N = 2000, s = 7, p = 0.5, seed 0. Output: H × W, non-negative, with a constant offset
 * (≈ the mean score), so compare values above the minimum.
 * A 'score' model's raw output is explained signed, Σ_i (f_i − f̄) · M_i(p) / (E[M] · N) with f̄ the mean
 * over the masks: positive where keeping a pixel raises the score, negative where it lowers it. Centring
 * also removes the term f̄ · Σ_i M_i(p), which differs from pixel to pixel only by how often each was kept:
 * for a score with a large mean (a sigmoid of 0.6 that moves by 0.1) that noise would swamp the map.
 * A 'multilabel' tag gets the same centring with f̄ added back, f̄ + Σ_i (f_i − f̄) · M_i(p) / (E[M] · N):
 * eq. 6 with f̄ · Σ_i M_i(p) replaced by its expectation f̄ · E[M] · N (a control variate), so the map
 * keeps eq. 6's expected value and stays unsigned, without the coverage noise. A tag's probability is
 * often high and moves little, as a score's does: uncentred, a tag that reads a quarter of the image kept
 * 29% of the map's mass above its minimum there (pure noise keeps 25%). Classes keep eq. 6 as published.
 * Cost: N model passes. The random draws for a given (N, s, p, seed, size) are made once and reused for
 * every image; mask planes are rendered per batch so memory stays at O(batch), not O(N · H · W), except for
 * small inputs, whose planes are kept (PLANE_CACHE_FLOATS). Blending and summing run in WebAssembly
 * (mask-kernels.ts), bit-identical to the loops they replace. riseMaps serves several targets from the same
 * passes.
 */
export const rise: AttributionMethod<RiseOptions> = {
  id: 'rise',
  title: 'RISE',
  description: 'Averages random masks weighted by the score each one keeps (black-box, smooth maps).',
  requires: ['predict'],
  random: true,
  defaults: { masks: 2000, gridSize: 7, keepProbability: 0.5, seed: 0, baseline: 0 },
  options: {
    masks: { type: 'int', min: 1, description: 'number of random masks (more = smoother, slower)' },
    gridSize: { type: 'int', min: 1, description: 'cells per side of the random grid' },
    keepProbability: { type: 'number', min: 0.01, max: 1, description: 'probability that a cell is kept' },
    seed: { type: 'int', min: 0, description: 'random seed; the same seed gives the same map' },
    baseline: { type: 'number', description: 'fill value for masked pixels in normalised input space' },
  },
  passes(options) {
    return options.masks;
  },
  async attribute(input: MethodInput, options: RiseOptions): Promise<AttributionMap> {
    return (await riseMaps(input, options, [input.target]))[0];
  },
};

/**
 * RISE's maps of several outputs of one model from the same masked passes: N passes in all, not N per target
 * (what D-RISE needs for the detections of one photo). Each map equals rise.attribute's for that target.
 */
export async function riseMaps(
  input: Omit<MethodInput, 'target'>,
  options: RiseOptions,
  targets: readonly number[],
): Promise<AttributionMap[]> {
  const s = imageView(input.input.dims, input.model.spec.layout);
  const set = riseMaskSet(options, s.width, s.height);
  const plane = s.width * s.height;
  // A score is explained signed and a tag centred (see above): Σ M_i(p) and Σ f_i are kept to centre.
  // Σ M_i(p) is the same for every image and target, so the set keeps it once a run has summed it.
  const task = input.model.spec.task;
  const signed = task === 'score';
  const centred = signed || task === 'multilabel';
  const known = centred ? set.coverage : undefined;
  const batchSize = Math.max(1, Math.min(input.model.maxBatch, options.masks));
  const k = targets.length;
  const work = maskWorkspace(input.input.data, s, batchSize, options.baseline, centred && !known, k);
  const totals = new Float64Array(k);
  let currentStart = 0;
  await runBatched(input.model, {
    total: options.masks,
    signal: input.signal,
    onProgress: input.onProgress,
    build(start, end) {
      currentStart = start;
      const data = work.blend(set.planes(start, end), end - start);
      return { data, dims: [end - start, ...input.input.dims.slice(1)] };
    },
    consume(scores, start, end) {
      for (let t = 0; t < k; t++) {
        const p = targetValues(scores, input.model.spec, targets[t]);
        let total = totals[t];
        for (let i = start; i < end; i++) {
          total += p[i - start];
          // One pass over the plane (two when centring): in JavaScript it cost as much as a small detector's pass.
          work.add(i - currentStart, p[i - start], t);
        }
        totals[t] = total;
      }
    },
  });
  const coverage = work.coverage();
  if (coverage) set.coverage = coverage;
  const sum = known ?? coverage;
  const scale = 1 / (options.masks * options.keepProbability);
  return targets.map((_, t) => {
    const saliency = work.saliency(t);
    const mean = totals[t] / options.masks;
    const data = new Float32Array(plane);
    const offset = centred && !signed ? mean : 0;
    for (let j = 0; j < plane; j++) data[j] = (saliency[j] - (sum ? mean * sum[j] : 0)) * scale + offset;
    return { width: s.width, height: s.height, data, signed };
  });
}

/** The random draws behind a set of RISE masks, and a renderer for any slice of them. */
export interface RiseMaskSet {
  readonly count: number;
  /** Mask planes [start, end) as (end − start) × H × W floats in [0, 1], a new array. */
  render(start: number, end: number): Float32Array;
  /**
   * The same planes as a view that is valid until the next call: of all the planes, rendered once, where they
   * fit in PLANE_CACHE_FLOATS, else of a scratch buffer the set reuses.
   */
  planes(start: number, end: number): Float32Array;
  /** Σ_i M_i(p) over all the masks, in mask order, once a run has summed it (RISE's centring). */
  coverage?: Float64Array;
}

/**
 * All the planes of a set are kept when they take at most this many floats (16 MB): 1000 masks of a 64 × 64
 * detector input. Every detection of a photo, and every photo of that size, then reuses them: on a small
 * detector rendering costs a sixth of a model pass. Larger inputs render per batch, where the pass dominates.
 */
const PLANE_CACHE_FLOATS = 1 << 22;

const cache = new Map<string, RiseMaskSet>();
const CACHE_LIMIT = 4;

export function riseMaskSet(
  options: Pick<RiseOptions, 'masks' | 'gridSize' | 'keepProbability' | 'seed'>,
  width: number,
  height: number,
): RiseMaskSet {
  const key = [options.masks, options.gridSize, options.keepProbability, options.seed, width, height].join(
    ':',
  );
  const hit = cache.get(key);
  if (hit) return hit;
  const set = drawMasks(options, width, height);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, set);
  return set;
}

function drawMasks(
  {
    masks: n,
    gridSize: g,
    keepProbability: p,
    seed,
  }: Pick<RiseOptions, 'masks' | 'gridSize' | 'keepProbability' | 'seed'>,
  width: number,
  height: number,
): RiseMaskSet {
  const rng = createRng(seed);
  const cellW = Math.ceil(width / g);
  const cellH = Math.ceil(height / g);
  const grids = new Uint8Array(n * g * g);
  const shiftX = new Int32Array(n);
  const shiftY = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < g * g; c++) grids[i * g * g + c] = rng.next() < p ? 1 : 0;
    shiftX[i] = Math.floor(rng.next() * cellW);
    shiftY[i] = Math.floor(rng.next() * cellH);
  }
  // Bilinear upsampling of the g × g grid to (g + 1) · cell pixels, pixel centres aligned; the taps depend
  // only on the shift, so they are computed per output row/column on the fly.
  const upW = (g + 1) * cellW;
  const upH = (g + 1) * cellH;
  const tap = (pos: number, up: number) => {
    const src = Math.min(g - 1, Math.max(0, ((pos + 0.5) * g) / up - 0.5));
    const i0 = Math.floor(src);
    const i1 = Math.min(g - 1, i0 + 1);
    return { i0, i1, f: src - i0 };
  };
  const colTaps = Array.from({ length: upW }, (_, x) => tap(x, upW));
  const rowTaps = Array.from({ length: upH }, (_, y) => tap(y, upH));
  const plane = width * height;
  let all: Float32Array | undefined;
  let scratch = new Float32Array(0);
  const renderInto = (start: number, end: number, out: Float32Array) => {
    // Separable: interpolate each grid row across the width once, then blend two such rows per output row.
    const rows = new Float32Array(g * width);
    for (let i = start; i < end; i++) {
      const grid = grids.subarray(i * g * g, (i + 1) * g * g);
      for (let gy = 0; gy < g; gy++) {
        for (let x = 0; x < width; x++) {
          const c = colTaps[x + shiftX[i]];
          rows[gy * width + x] = grid[gy * g + c.i0] * (1 - c.f) + grid[gy * g + c.i1] * c.f;
        }
      }
      const o = (i - start) * plane;
      for (let y = 0; y < height; y++) {
        const r = rowTaps[y + shiftY[i]];
        const a = r.i0 * width;
        const b = r.i1 * width;
        for (let x = 0; x < width; x++) out[o + y * width + x] = rows[a + x] * (1 - r.f) + rows[b + x] * r.f;
      }
    }
    return out;
  };
  return {
    count: n,
    render: (start, end) => renderInto(start, end, new Float32Array((end - start) * plane)),
    planes(start, end) {
      if (n * plane <= PLANE_CACHE_FLOATS) {
        all ??= renderInto(0, n, new Float32Array(n * plane));
        return all.subarray(start * plane, end * plane);
      }
      if (scratch.length < (end - start) * plane) scratch = new Float32Array((end - start) * plane);
      return renderInto(start, end, scratch.subarray(0, (end - start) * plane));
    },
  };
}
