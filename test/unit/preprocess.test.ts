import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/core/model.js';
import { inputGeometry, mapToImage, preprocess } from '../../src/core/preprocess.js';
import { resamplePlanes } from '../../src/core/resample.js';

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  inputName: 'x',
  layout: 'NCHW',
  width: 2,
  height: 2,
  channelOrder: 'RGB',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  resize: 'squash',
  cropFraction: 1,
  labels: [],
  outputs: 'logits',
  task: 'classify',
  ...over,
});

describe('resamplePlanes', () => {
  it('averages 2×2 blocks when halving (antialiased)', () => {
    const src = Float32Array.from([1, 3, 5, 7, 1, 3, 5, 7, 10, 10, 0, 0, 10, 10, 0, 0]);
    const out = resamplePlanes(src, 1, 4, 4, 2, 2);
    // From the definition: a triangle filter of half-width 2 (the scale) centred on each output pixel's
    // position in source coordinates (0.5 and 2.5), weights normalised to sum to one.
    const w = (d: number) => Math.max(0, 1 - Math.abs(d) / 2);
    const taps = (c: number) => [0, 1, 2, 3].map((j) => w(j - c));
    const expected = (oy: number, ox: number) => {
      const ty = taps(oy * 2 + 0.5);
      const tx = taps(ox * 2 + 0.5);
      let acc = 0;
      let norm = 0;
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++) {
          acc += ty[y] * tx[x] * src[y * 4 + x];
          norm += ty[y] * tx[x];
        }
      return acc / norm;
    };
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 2; x++) expect(out[y * 2 + x]).toBeCloseTo(expected(y, x), 5);
  });

  it('interpolates linearly between pixel centres when enlarging', () => {
    const out = resamplePlanes(Float32Array.from([0, 4]), 1, 2, 1, 4, 1);
    // Output centres map to source positions −0.25, 0.25, 0.75, 1.25 (clamped at the ends).
    expect(Array.from(out)).toEqual([0, 1, 3, 4]);
  });

  it('keeps a constant image constant at any size', () => {
    const out = resamplePlanes(new Float32Array(7 * 5).fill(2.5), 1, 7, 5, 13, 3);
    for (const v of out) expect(v).toBeCloseTo(2.5, 6);
  });
});

describe('preprocess', () => {
  const image = {
    width: 2,
    height: 2,
    data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]),
  };

  it('normalises with (p/255 − mean)/std in NCHW', () => {
    const { tensor } = preprocess(image, spec());
    expect(tensor.dims).toEqual([1, 3, 2, 2]);
    // R plane: pixels 255, 0, 0, 255 → 1, −1, −1, 1
    expect(Array.from(tensor.data.subarray(0, 4))).toEqual([1, -1, -1, 1]);
    expect(Array.from(tensor.data.subarray(4, 8))).toEqual([-1, 1, -1, 1]);
  });

  it('interleaves channels in NHWC and swaps them for BGR', () => {
    const { tensor } = preprocess(image, spec({ layout: 'NHWC', channelOrder: 'BGR' }));
    expect(tensor.dims).toEqual([1, 2, 2, 3]);
    // first pixel is pure red → B, G, R = −1, −1, 1
    expect(Array.from(tensor.data.subarray(0, 3))).toEqual([-1, -1, 1]);
  });

  it('centre-crops to the model aspect and maps the map back into the crop', () => {
    const g = inputGeometry(
      spec({ resize: 'center-crop', cropFraction: 0.5, width: 10, height: 10 }),
      400,
      200,
    );
    expect(g).toMatchObject({ cropX: 150, cropY: 50, cropWidth: 100, cropHeight: 100 });
    const back = mapToImage(new Float32Array(100).fill(1), 10, 10, g, -1);
    expect(back.length).toBe(400 * 200);
    expect(back[0]).toBe(-1);
    expect(back[100 * 400 + 200]).toBeCloseTo(1, 6);
    expect(back[100 * 400 + 149]).toBe(-1);
    expect(back[100 * 400 + 150]).toBeCloseTo(1, 6);
    expect(back[49 * 400 + 200]).toBe(-1);
    expect(back[149 * 400 + 249]).toBeCloseTo(1, 6);
  });

  it('maps back into the crop exactly as resizing to the crop and pasting it would', () => {
    const g = inputGeometry(
      spec({ resize: 'center-crop', cropFraction: 0.875, width: 13, height: 11 }),
      400,
      300,
    );
    const map = Float32Array.from({ length: 13 * 11 }, (_, i) => Math.sin(i * 1.7));
    const cw = Math.round(g.cropWidth);
    const ch = Math.round(g.cropHeight);
    const scaled = resamplePlanes(map, 1, 13, 11, cw, ch);
    const want = new Float32Array(400 * 300).fill(-2);
    for (let y = 0; y < ch; y++)
      want.set(scaled.subarray(y * cw, (y + 1) * cw), (Math.round(g.cropY) + y) * 400 + Math.round(g.cropX));
    expect([...mapToImage(map, 13, 11, g, -2)]).toEqual([...want]);
  });
});
