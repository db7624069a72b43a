/**
 * What D-RISE's map means, against an exact computation: for a similarity that is exactly the share of a
 * 16 × 16 square kept by the mask (an ideal, smooth detector of that square), the map D-RISE estimates has the
 * expectation Cov(f, M(p)) / p (RISE centred for a score), which is known without sampling: the masks' cells
 * are independent Bernoulli(p) and their shifts independent and uniform, so Cov(M(q), M(p)) = p(1 − p) ·
 * Cx(qx, px) · Cy(qy, py), each factor the shift-average of the bilinear weights' products (written out
 * here from RISE's definition, not from its code).
 *
 * It pins the bound the square detectors' D-RISE test states (test/unit/detection-explain.test.ts): the exact
 * map keeps 0.77 of its mass above its minimum inside the square, so the 0.7 criterion is met in expectation
 * with the paper's 16 × 16 grid; the 1000-mask estimate has the right shape and scale (correlation with the
 * exact map ≥ 0.9, mean inside the square within 10% of it), yet keeps only about 0.21 of its mass above its
 * minimum inside: the sampling noise over the 15 times larger outside is what the measure counts.
 */
import { expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { dRise } from '../../src/methods/perturbation/d-rise.js';
import { analyticSpec } from '../helpers/analytic.js';
import { massInside } from '../helpers/task-models.js';

const S = 64;
const SQUARE = { x0: 10, y0: 14, x1: 26, y1: 30 };
const AREA = (SQUARE.x1 - SQUARE.x0) * (SQUARE.y1 - SQUARE.y0);

/** f(masked image) = the mean over the square of channel 0; on an all-ones input with baseline 0, the mask's. */
const squareShare: Model = {
  spec: { ...analyticSpec(S), labels: ['square kept'], outputs: 'logits', task: 'score' },
  capabilities: new Set(['predict']),
  maxBatch: 32,
  async predict(batch) {
    const n = batch.dims[0];
    const size = 3 * S * S;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let y = SQUARE.y0; y < SQUARE.y1; y++)
        for (let x = SQUARE.x0; x < SQUARE.x1; x++) sum += batch.data[i * size + y * S + x];
      data[i] = sum / AREA;
    }
    return { data, dims: [n, 1] };
  },
  async dispose() {},
};

/**
 * Cx(a, b) = E_s[Σ_c u_c(a + s) · u_c(b + s)]: u_c(t) the bilinear weight of grid cell c at pixel t of the
 * (g + 1) · cell upsampled mask (pixel centres aligned, source index clamped to the grid), s uniform in [0, cell).
 */
function shiftCovariance(size: number, g: number): Float64Array {
  const cell = Math.ceil(size / g);
  const up = (g + 1) * cell;
  const weights = (t: number) => {
    const u = new Float64Array(g);
    const src = Math.min(g - 1, Math.max(0, ((t + 0.5) * g) / up - 0.5));
    const i0 = Math.floor(src);
    u[i0] += 1 - (src - i0);
    u[Math.min(g - 1, i0 + 1)] += src - i0;
    return u;
  };
  const out = new Float64Array(size * size);
  for (let s = 0; s < cell; s++)
    for (let a = 0; a < size; a++) {
      const ua = weights(a + s);
      for (let b = 0; b < size; b++) {
        const ub = weights(b + s);
        let dot = 0;
        for (let c = 0; c < g; c++) dot += ua[c] * ub[c];
        out[a * size + b] += dot / cell;
      }
    }
  return out;
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let [ma, mb] = [0, 0];
  for (let i = 0; i < n; i++) [ma, mb] = [ma + a[i] / n, mb + b[i] / n];
  let [sab, saa, sbb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const insideMean = (data: ArrayLike<number>) => {
  let sum = 0;
  for (let y = SQUARE.y0; y < SQUARE.y1; y++)
    for (let x = SQUARE.x0; x < SQUARE.x1; x++) sum += data[y * S + x];
  return sum / AREA;
};

it('estimates the exact expected map of an ideal square detector; that map keeps ≥ 0.7 in the square', async () => {
  const options = { ...dRise.defaults, masks: 1000 };
  const { gridSize: g, keepProbability: p } = options;
  const c1 = shiftCovariance(S, g);
  // Exact: S(p) = (1 / |square|) Σ_{q ∈ square} p(1 − p) Cx(qx, px) Cy(qy, py) / p.
  const colSum = new Float64Array(S); // Σ_{qx in the square} Cx(qx, px)
  const rowSum = new Float64Array(S);
  for (let b = 0; b < S; b++) {
    for (let a = SQUARE.x0; a < SQUARE.x1; a++) colSum[b] += c1[a * S + b];
    for (let a = SQUARE.y0; a < SQUARE.y1; a++) rowSum[b] += c1[a * S + b];
  }
  const exact = new Float64Array(S * S);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) exact[y * S + x] = ((1 - p) * rowSum[y] * colSum[x]) / AREA;

  const exactShare = massInside(exact, S, SQUARE);
  expect(exactShare).toBeGreaterThanOrEqual(0.7);
  expect(exactShare).toBeCloseTo(0.769, 2);

  const input = { data: new Float32Array(3 * S * S).fill(1), dims: [1, 3, S, S] };
  const map = await dRise.attribute({ model: squareShare, input, target: 0, classes: 1 }, options);
  expect(map.signed).toBe(true);
  expect(correlation(map.data, exact)).toBeGreaterThanOrEqual(0.9);
  expect(insideMean(map.data) / insideMean(exact)).toBeGreaterThan(0.9);
  expect(insideMean(map.data) / insideMean(exact)).toBeLessThan(1.1);
  // The noise bound, as measured (0.21 at 1000 masks; the detection test's criterion is not met by this either).
  const estimated = massInside(map.data, S, SQUARE);
  console.log(
    `ideal square detector: exact map share ${exactShare.toFixed(3)}, 1000-mask D-RISE ${estimated.toFixed(3)}`,
  );
  expect(estimated).toBeLessThan(0.7);
}, 60_000);
