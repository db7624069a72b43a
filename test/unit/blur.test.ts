import { describe, expect, it } from 'vitest';
import { gaussianBlur, gaussianBlurXY } from '../../src/core/blur.js';
import { createRng } from '../../src/core/random.js';

/** The implementation before issue 12 (reflection computed per tap), kept as the reference. */
function referenceBlur(
  src: Float32Array,
  channels: number,
  width: number,
  height: number,
  sigma: number,
  radius = Math.ceil(3 * sigma),
): Float32Array {
  if (sigma <= 0 || radius <= 0) return Float32Array.from(src);
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += kernel[i + radius];
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    let j = i;
    while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - j - 1;
    return j;
  };
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let c = 0; c < channels; c++) {
    const base = c * width * height;
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * src[row + reflect(x + k, width)];
        tmp[row + x] = acc;
      }
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++)
          acc += kernel[k + radius] * tmp[base + reflect(y + k, height) * width + x];
        out[base + y * width + x] = acc;
      }
    }
  }
  return out;
}

describe('gaussianBlur', () => {
  // [channels, width, height, sigma, radius]: wide and narrow images, kernels wider than the image.
  const cases: [number, number, number, number, number | undefined][] = [
    [1, 40, 30, 2, undefined],
    [3, 17, 23, 1.5, undefined],
    [1, 5, 7, 4, undefined],
    [2, 1, 9, 2, undefined],
    [1, 12, 1, 3, 2],
    [1, 64, 48, 0.8, 3],
  ];
  for (const [channels, width, height, sigma, radius] of cases) {
    it(`gives the reference's floats bit for bit: ${channels} × ${width}×${height}, σ ${sigma}`, () => {
      const rng = createRng(width * 100 + height);
      const src = Float32Array.from({ length: channels * width * height }, () => rng.next() * 2 - 1);
      const got = gaussianBlur(src, channels, width, height, sigma, radius);
      const want = referenceBlur(src, channels, width, height, sigma, radius);
      expect([...got]).toEqual([...want]);
    });
  }

  it('gaussianBlurXY blurs each axis with its own σ', () => {
    const rng = createRng(4);
    const src = Float32Array.from({ length: 30 * 20 }, () => rng.next());
    expect([...gaussianBlurXY(src, 1, 30, 20, 2, 2)]).toEqual([...gaussianBlur(src, 1, 30, 20, 2)]);
    // σy 0: each row on its own, as gaussianBlur does a 1-row image.
    const rows = gaussianBlurXY(src, 1, 30, 20, 1.5, 0);
    for (let y = 0; y < 20; y++) {
      const row = gaussianBlur(src.slice(y * 30, (y + 1) * 30), 1, 30, 1, 1.5);
      expect([...rows.subarray(y * 30, (y + 1) * 30)]).toEqual([...row]);
    }
  });

  it('keeps a constant image constant and returns a copy for σ 0', () => {
    const flat = new Float32Array(30 * 20).fill(0.25);
    for (const v of gaussianBlur(flat, 1, 30, 20, 3)) expect(v).toBeCloseTo(0.25, 6);
    const copy = gaussianBlur(flat, 1, 30, 20, 0);
    expect(copy).not.toBe(flat);
    expect([...copy]).toEqual([...flat]);
  });

  it('blurs a 49,000,000 × 1 row without a table per pixel', () => {
    const row = new Float32Array(49_000_000);
    row[24_500_000] = 1;
    const before = process.memoryUsage().arrayBuffers;
    const out = gaussianBlur(row, 1, row.length, 1, 1);
    // The result and one intermediate: 2 × 196 MB, nothing per pixel on top.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 * 196_000_000 + 16 * 2 ** 20);
    // A unit impulse spreads into the normalised kernel exp(−k²/2), k = −3…3.
    const norm = [-3, -2, -1, 0, 1, 2, 3].reduce((s, k) => s + Math.exp(-(k * k) / 2), 0);
    expect(out[24_500_000]).toBeCloseTo(1 / norm, 6);
    expect(out[24_500_002]).toBeCloseTo(Math.exp(-2) / norm, 6);
    expect(out[24_500_004]).toBe(0);
  });
});
