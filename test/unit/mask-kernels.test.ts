/**
 * RISE's WebAssembly blend and sum (methods/perturbation/mask-kernels.ts) against the plain definitions written
 * here in float64: the blended batch b + m · (x − b) rounded to float32 once, and the map Σ w_i · M_i(p) and
 * coverage Σ M_i(p) in mask order. Equality is exact (toEqual on the bits), for planes whose pixel count leaves
 * every remainder by 4 (the float32 kernel's turn) and by 2 (the float64 one's), baselines 0 and not 0, and for
 * the interleaved layout that keeps the JavaScript loops.
 */
import { describe, expect, it } from 'vitest';
import { imageView } from '../../src/core/image-tensor.js';
import { createRng } from '../../src/core/random.js';
import { maskKernelsCompiled, maskWorkspace } from '../../src/methods/perturbation/mask-kernels.js';

it('compiles its WebAssembly kernels under Node (else every other case here tests the fallback)', () => {
  expect(maskKernelsCompiled()).toBe(true);
});

describe.each([
  [8, 8],
  [5, 7],
  [3, 3],
  [2, 3],
  [1, 1],
  [9, 15],
])('a %i × %i plane', (height, width) => {
  it.each([
    ['NCHW', 0],
    ['NCHW', 0.3],
    ['NCHW', -1.75],
    ['NHWC', 0],
    ['NHWC', 0.3],
  ] as const)('%s, baseline %f: blend and sums equal their definitions bit for bit', (layout, baseline) => {
    const rng = createRng(height * 100 + width);
    const channels = 3;
    const view = imageView(
      layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels],
      layout,
    );
    const { plane, size } = view;
    const x = Float32Array.from({ length: size }, () => rng.next() * 4 - 2);
    const n = 5;
    const planes = Float32Array.from({ length: n * plane }, () => rng.next());
    const w = Float32Array.from({ length: n }, () => rng.next());
    for (const cover of [false, true]) {
      const work = maskWorkspace(x, view, n, baseline, cover);
      // Two rounds through the same workspace: buffers reused, sums carried over.
      const saliency = new Float64Array(plane);
      const coverage = new Float64Array(plane);
      for (let round = 0; round < 2; round++) {
        const got = work.blend(planes, n);
        const want = new Float32Array(n * size);
        for (let k = 0; k < n; k++)
          for (let c = 0; c < channels; c++)
            for (let p = 0; p < plane; p++) {
              const j = c * view.channelStride + p * view.pixelStride;
              want[k * size + j] = baseline + planes[k * plane + p] * (x[j] - baseline);
            }
        expect(got).toEqual(want);
        for (let k = 0; k < n; k++) {
          work.add(k, w[k]);
          for (let p = 0; p < plane; p++) {
            saliency[p] += w[k] * planes[k * plane + p];
            coverage[p] += planes[k * plane + p];
          }
        }
      }
      expect(work.saliency()).toEqual(saliency);
      expect(work.coverage()).toEqual(cover ? coverage : undefined);
    }
  });
});

it('a blend of fewer masks than the batch returns only those images', () => {
  const view = imageView([1, 3, 4, 4], 'NCHW');
  const work = maskWorkspace(new Float32Array(48).fill(1), view, 8, 0, false);
  expect(work.blend(new Float32Array(3 * 16).fill(0.5), 3)).toEqual(new Float32Array(3 * 48).fill(0.5));
});
