import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResampleFilter } from '../../src/core/model.js';
import { resampleRgbCrop, resampleRgbWindow } from '../../src/core/resample.js';
import { decodeNpy } from '../../src/io/npy.js';

const DIR = 'test/fixtures/hf/resample';
const npy = (name: string) => decodeNpy(new Uint8Array(readFileSync(`${DIR}/${name}.npy`)));

/** The random 37 × 23 photo, interleaved RGB bytes. */
function source(): { rgb: Uint8Array; width: number; height: number } {
  const s = npy('source');
  return { rgb: Uint8Array.from(s.data), width: s.shape[1], height: s.shape[0] };
}

/** PIL's [H, W, 3] bytes → planar, as our resampler returns. */
function planarOf(data: Float32Array | Float64Array, w: number, h: number): Float32Array {
  const out = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) out[c * w * h + i] = data[i * 3 + c];
  return out;
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const FILTERS = ['nearest', 'bilinear', 'bicubic'] as const;
const twoPass: [ResampleFilter, number, number][] = FILTERS.flatMap((f) =>
  [
    [11, 7],
    [80, 50],
    [37, 9],
  ].map(([w, h]) => [f, w, h] as [ResampleFilter, number, number]),
);
const onePass: [ResampleFilter, number, number][] = FILTERS.flatMap((f) =>
  [
    [11, 23],
    [80, 23],
  ].map(([w, h]) => [f, w, h] as [ResampleFilter, number, number]),
);

/** Most |weights| one output's taps sum to: 1 for the triangle, 1.2 bounds bicubic's negative lobes (≈ 1.07–1.15). */
const ABS_WEIGHT_SUM = { nearest: 1, bilinear: 1, bicubic: 1.2 };

describe("resampling against PIL's resize (Pillow 9.4, fixtures by scripts/golden/hf_folders.py)", () => {
  it.each(onePass)('%s to %i × %i (one pass: PIL rounds once)', (filter, w, h) => {
    const { rgb, width, height } = source();
    const pil = planarOf(npy(`${filter}_${w}x${h}`).data, w, h);
    const ours = resampleRgbCrop(rgb, width, 0, 0, width, height, w, h, filter);
    // PIL rounds its 8-bit result to a whole level once; its 22-bit fixed-point weights add under 1e-3 levels.
    // So the same filter is within half a level, and rounding ours gives PIL's bytes but at near-ties.
    expect(maxAbs(ours, pil)).toBeLessThanOrEqual(filter === 'nearest' ? 0 : 0.5 + 1e-3);
    let equal = 0;
    for (let i = 0; i < ours.length; i++) if (Math.round(ours[i]) === pil[i]) equal++;
    expect(equal / ours.length).toBeGreaterThan(0.99);
  });

  it.each(twoPass)('%s to %i × %i (two passes)', (filter, w, h) => {
    const { rgb, width, height } = source();
    const pil = planarOf(npy(`${filter}_${w}x${h}`).data, w, h);
    const ours = resampleRgbCrop(rgb, width, 0, 0, width, height, w, h, filter);
    // PIL also rounds the horizontal pass's result to bytes (±0.5), which the vertical pass carries through
    // its weights (at most Σ|w| times), then rounds again (±0.5). Nearest copies pixels: exact.
    const bound = filter === 'nearest' ? 0 : 0.5 + 0.5 * ABS_WEIGHT_SUM[filter] + 1e-3;
    expect(maxAbs(ours, pil)).toBeLessThanOrEqual(bound);
  });

  it('bicubic keeps 8-bit values in 0..255 as PIL does (its negative lobes overshoot on random pixels)', () => {
    const { rgb, width, height } = source();
    const ours = resampleRgbCrop(rgb, width, 0, 0, width, height, 80, 50, 'bicubic');
    expect(Math.min(...ours)).toBe(0);
    expect(Math.max(...ours)).toBe(255);
  });

  it('a window of a resize equals the same part of the whole resize, for every filter', () => {
    const { rgb, width, height } = source();
    for (const filter of ['nearest', 'bilinear', 'bicubic'] as const) {
      const whole = resampleRgbCrop(rgb, width, 0, 0, width, height, 53, 31, filter);
      const window = { left: 7, top: 4, width: 40, height: 21 };
      const part = resampleRgbWindow(rgb, width, height, 53, 31, window, filter);
      const cut = new Float32Array(3 * 40 * 21);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 21; y++)
          for (let x = 0; x < 40; x++) cut[(c * 21 + y) * 40 + x] = whole[(c * 31 + y + 4) * 53 + x + 7];
      expect(maxAbs(part, cut)).toBeLessThan(1e-4);
    }
  });

  it('refuses a window outside the resize', () => {
    const { rgb, width, height } = source();
    expect(() =>
      resampleRgbWindow(rgb, width, height, 20, 20, { left: 5, top: 0, width: 16, height: 4 }),
    ).toThrow(/outside 20×20/);
  });
});
