import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { filterTaps, resamplePlanes, resampleRgbCrop } from '../../src/core/resample.js';

/**
 * The implementation before issue 12 (one object per output pixel), kept as the reference: the typed-array
 * version must give the same numbers.
 */
function referenceResample(
  src: Float32Array,
  channels: number,
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
): Float32Array {
  const horizontal = referenceWeights(srcW, dstW);
  const vertical = referenceWeights(srcH, dstH);
  const tmp = new Float32Array(channels * srcH * dstW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < srcH; y++) {
      const row = (c * srcH + y) * srcW;
      const outRow = (c * srcH + y) * dstW;
      for (let x = 0; x < dstW; x++) {
        const { start, w } = horizontal[x];
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k] * src[row + start + k];
        tmp[outRow + x] = acc;
      }
    }
  }
  const out = new Float32Array(channels * dstH * dstW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < dstH; y++) {
      const { start, w } = vertical[y];
      const outRow = (c * dstH + y) * dstW;
      for (let k = 0; k < w.length; k++) {
        const wk = w[k];
        const inRow = (c * srcH + start + k) * dstW;
        for (let x = 0; x < dstW; x++) out[outRow + x] += wk * tmp[inRow + x];
      }
    }
  }
  return out;
}

function referenceWeights(srcSize: number, dstSize: number): { start: number; w: Float32Array }[] {
  const scale = srcSize / dstSize;
  const support = Math.max(1, scale);
  const taps: { start: number; w: Float32Array }[] = [];
  for (let i = 0; i < dstSize; i++) {
    const centre = (i + 0.5) * scale - 0.5;
    let start = Math.floor(centre - support) + 1;
    let end = Math.ceil(centre + support) - 1;
    start = Math.max(0, start);
    end = Math.min(srcSize - 1, end);
    if (end < start) {
      const j = Math.min(srcSize - 1, Math.max(0, Math.round(centre)));
      taps.push({ start: j, w: Float32Array.of(1) });
      continue;
    }
    const w = new Float32Array(end - start + 1);
    let sum = 0;
    for (let j = start; j <= end; j++) {
      const v = Math.max(0, 1 - Math.abs(j - centre) / support);
      w[j - start] = v;
      sum += v;
    }
    if (sum === 0) {
      w.fill(0);
      w[Math.min(w.length - 1, Math.max(0, Math.round(centre) - start))] = 1;
    } else for (let k = 0; k < w.length; k++) w[k] /= sum;
    taps.push({ start, w });
  }
  return taps;
}

function randomPlanes(length: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const random = () => rng.next();
  return Float32Array.from({ length }, () => random() * 2 - 1);
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('resamplePlanes against the per-pixel-object reference', () => {
  // [channels, srcW, srcH, dstW, dstH]: shrinking, enlarging, mixed, non-integer ratios, 1-pixel edges.
  const cases: [number, number, number, number, number][] = [
    [1, 37, 23, 11, 7],
    [3, 40, 30, 299, 224],
    [1, 299, 299, 1000, 750],
    [3, 1000, 750, 299, 299],
    [2, 17, 5, 3, 9],
    [1, 1, 1, 5, 4],
    [1, 9, 1, 4, 1],
    [1, 13, 1, 40, 3],
    [1, 2, 500, 60, 3],
  ];
  for (const [channels, srcW, srcH, dstW, dstH] of cases) {
    it(`${channels} × ${srcW}×${srcH} → ${dstW}×${dstH}`, () => {
      const src = randomPlanes(channels * srcW * srcH, srcW * 131 + srcH);
      const want = referenceResample(src, channels, srcW, srcH, dstW, dstH);
      const got = resamplePlanes(src, channels, srcW, srcH, dstW, dstH);
      if (srcH * dstW <= 4 * dstH * srcW) {
        // Same passes in the same order: the same floats, bit for bit.
        expect(maxDifference(got, want)).toBe(0);
      } else {
        // The vertical pass runs first here (the rows-first intermediate would be over 4× larger): only float
        // rounding may differ.
        expect(maxDifference(got, want)).toBeLessThan(1e-5);
      }
    });
  }

  it('gives the same numbers when the taps of one axis span several blocks', () => {
    // 1,500,000 → 2 is about 1.5 million weights per output, over the block size: one output per block.
    const wide = randomPlanes(1_500_000, 7);
    expect(
      maxDifference(
        resamplePlanes(wide, 1, 1_500_000, 1, 2, 1),
        referenceResample(wide, 1, 1_500_000, 1, 2, 1),
      ),
    ).toBe(0);
    // 1,000 → 600,000 is 1.2 million weights in all: two blocks.
    const short = randomPlanes(1000, 8);
    const got = resamplePlanes(short, 1, 1000, 1, 600_000, 1);
    expect(maxDifference(got, referenceResample(short, 1, 1000, 1, 600_000, 1))).toBe(0);
  });

  it('builds weights in bounded blocks', () => {
    const first = filterTaps(1000, 1_200_000);
    expect(first.weight.length).toBeLessThanOrEqual(1 << 20);
    expect(first.start.length).toBeLessThan(1_200_000);
    // One output's taps are kept whole even when they alone pass the block size.
    const huge = filterTaps(49_000_000, 20);
    expect(huge.start.length).toBe(1);
    expect(huge.offset[1]).toBeGreaterThan(1 << 20);
  });
});

describe('resampleRgbCrop', () => {
  it('equals copying the crop into planes and resampling them', () => {
    const width = 53;
    const height = 41;
    const rng = createRng(3);
    const random = () => rng.next();
    const rgb = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
    const [x0, y0, cw, ch] = [5, 7, 40, 30];
    const planes = new Float32Array(3 * cw * ch);
    for (let y = 0; y < ch; y++)
      for (let x = 0; x < cw; x++)
        for (let c = 0; c < 3; c++)
          planes[c * cw * ch + y * cw + x] = rgb[((y0 + y) * width + x0 + x) * 3 + c];
    for (const [dw, dh] of [
      [16, 12],
      [299, 299],
    ]) {
      const got = resampleRgbCrop(rgb, width, x0, y0, cw, ch, dw, dh);
      expect(maxDifference(got, referenceResample(planes, 3, cw, ch, dw, dh))).toBe(0);
    }
  });

  it('resizes a 49,000,000 × 1 photo to 299 × 299 in bounded memory', () => {
    // Ramps whose averages are known: red = x mod 256 averages to 127.5 over whole periods, green is constant.
    const width = 49_000_000;
    const rgb = new Uint8Array(width * 3);
    for (let x = 0; x < width; x++) {
      rgb[x * 3] = x & 255;
      rgb[x * 3 + 1] = 200;
      rgb[x * 3 + 2] = x < width / 2 ? 0 : 255;
    }
    const before = process.memoryUsage();
    const out = resampleRgbCrop(rgb, width, 0, 0, width, 1, 299, 299);
    const after = process.memoryUsage();
    // The old code built 2 × 49 million weights (392 MB) in one go; now a block of about 1 million.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 2 ** 20);
    const plane = 299 * 299;
    expect(out.length).toBe(3 * plane);
    for (let i = 0; i < plane; i += 997) {
      expect(out[i]).toBeCloseTo(127.5, 0);
      expect(out[plane + i]).toBeCloseTo(200, 4);
    }
    // Each row repeats the one source row: blue is 0 on the left, 255 on the right.
    expect(out[2 * plane + 10]).toBe(0);
    expect(out[2 * plane + 298 * 299 + 290]).toBeCloseTo(255, 3);
  });

  it('enlarges a 299 × 299 map to 49,000,000 × 1 (the way back) in bounded memory', () => {
    const map = new Float32Array(299 * 299);
    for (let y = 0; y < 299; y++) for (let x = 0; x < 299; x++) map[y * 299 + x] = x;
    const before = process.memoryUsage();
    const out = resamplePlanes(map, 1, 299, 299, 49_000_000, 1);
    const after = process.memoryUsage();
    // The result itself is 196 MB; what comes on top is a block of weights and a 299-value intermediate.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(196_000_000 + 64 * 2 ** 20);
    expect(out.length).toBe(49_000_000);
    // Bilinear along x: output centre i maps to source position (i + 0.5) · 299 / 49e6 − 0.5.
    for (const i of [0, 1_000_000, 24_500_000, 48_999_999]) {
      const position = Math.min(298, Math.max(0, ((i + 0.5) * 299) / 49_000_000 - 0.5));
      expect(out[i]).toBeCloseTo(position, 3);
    }
  });
});
