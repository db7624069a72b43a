import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ModelSpec, ResampleFilter } from '../../src/core/model.js';
import { inputGeometry, mapToImage, preprocess } from '../../src/core/preprocess.js';
import { resampleRgbCrop, resampleRgbWindow } from '../../src/core/resample.js';
import { decodeNpy } from '../../src/io/npy.js';
import { checkResample, checkResizeFirst } from '../../src/models/spec.js';

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

describe('resize-then-crop geometry (ModelSpec.resizeFirst)', () => {
  const spec = (resizeFirst: ModelSpec['resizeFirst'], width = 32, height = 32): ModelSpec => ({
    inputName: 'x',
    layout: 'NCHW',
    width,
    height,
    channelOrder: 'RGB',
    mean: [0, 0, 0],
    std: [1, 1, 1],
    resize: 'center-crop',
    cropFraction: 1,
    resample: 'bicubic',
    resizeFirst,
    labels: [],
    outputs: 'logits',
    task: 'classify',
  });

  it('resizes the shorter side to int(size · long / short) and crops at floor or rounded-half-even offsets', () => {
    // 451 × 300 → 61 × 41 (floor(41 · 451 / 300) = 61); extras 29 and 9.
    const floor = inputGeometry(spec({ kind: 'shortest-edge', size: 41, offset: 'floor' }), 451, 300);
    expect(floor.resized).toEqual({ width: 61, height: 41, left: 14, top: 4 });
    // 451 × 300 → 52 × 35; extras 20 and 3: round(1.5) = 2 as Python rounds, where floor gives 1.
    const round = inputGeometry(spec({ kind: 'shortest-edge', size: 35, offset: 'round' }), 451, 300);
    expect(round.resized).toEqual({ width: 52, height: 35, left: 10, top: 2 });
    // The crop in the photo's pixels: the input's part of the resized photo, scaled back.
    expect(round.cropX).toBeCloseTo((10 * 451) / 52, 12);
    expect(round.cropY).toBeCloseTo((2 * 300) / 35, 12);
    expect(round.cropWidth).toBeCloseTo((32 * 451) / 52, 12);
    expect(round.cropHeight).toBeCloseTo((32 * 300) / 35, 12);
    // A portrait photo: the width is the shorter side.
    expect(
      inputGeometry(spec({ kind: 'shortest-edge', size: 41, offset: 'floor' }), 300, 451).resized,
    ).toEqual({
      width: 41,
      height: 61,
      left: 4,
      top: 14,
    });
  });

  it('maps a map at the input back onto exactly the crop of the photo', () => {
    const g = inputGeometry(spec({ kind: 'fixed', width: 64, height: 48, offset: 'floor' }), 640, 480);
    // 640 × 480 → 64 × 48, the central 32 × 32 from (16, 8): photo pixels 160…479 × 80…399.
    expect([g.cropX, g.cropY, g.cropWidth, g.cropHeight]).toEqual([160, 80, 320, 320]);
    const back = mapToImage(new Float32Array(32 * 32).fill(1), 32, 32, g);
    const at = (x: number, y: number) => back[y * 640 + x];
    expect([at(159, 200), at(160, 200), at(479, 200), at(480, 200)]).toEqual([0, 1, 1, 0]);
    expect([at(300, 79), at(300, 80), at(300, 399), at(300, 400)]).toEqual([0, 1, 1, 0]);
  });

  it('refuses an input larger than the resized photo (the libraries pad it with black)', () => {
    expect(() =>
      inputGeometry(spec({ kind: 'fixed', width: 20, height: 40, offset: 'floor' }), 100, 100),
    ).toThrow(
      'The model cuts 32 × 32 pixels from the photo resized to 20 × 40, which is smaller; expected a resize at least as large as the input on each side.',
    );
  });

  it('preprocesses a photo as the whole resize cut at the window, in bounded memory for a long strip', () => {
    const width = 3000;
    const rgb = new Uint8Array(width * 2 * 3).map((_, i) => (i * 7) % 256);
    const s = spec({ kind: 'shortest-edge', size: 40, offset: 'floor' });
    // 3000 × 2 → 60000 × 40: only the window's rows and columns are computed.
    const { tensor, geometry } = preprocess({ width, height: 2, data: rgb }, s);
    expect(geometry.resized).toEqual({ width: 60000, height: 40, left: 29984, top: 4 });
    expect(tensor.dims).toEqual([1, 3, 32, 32]);
    // The same part of the whole 60000 × 40 resize (7 million floats here; the window alone is 3072).
    const whole = resampleRgbCrop(rgb, width, 0, 0, width, 2, 60000, 40, 'bicubic');
    let m = 0;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) {
          const want = whole[(c * 40 + y + 4) * 60000 + x + 29984] / 255;
          m = Math.max(m, Math.abs(tensor.data[(c * 32 + y) * 32 + x] - want));
        }
    expect(m).toBeLessThan(1e-6);
  });
});

describe('resample and resizeFirst from a sidecar are checked', () => {
  it('refuses an unknown filter and a malformed rule', () => {
    expect(() => checkResample('lanczos')).toThrow(
      `Argument 'resample' must be one of bilinear, bicubic, nearest; got "lanczos".`,
    );
    expect(checkResizeFirst({ kind: 'shortest-edge', size: 256, offset: 'round' })).toEqual({
      kind: 'shortest-edge',
      size: 256,
      offset: 'round',
    });
    expect(() => checkResizeFirst({ kind: 'shortest-edge', size: 1e9, offset: 'round' })).toThrow(
      /resizeFirst/,
    );
    expect(() => checkResizeFirst({ kind: 'fixed', width: 10, offset: 'floor' })).toThrow(/resizeFirst/);
  });
});
