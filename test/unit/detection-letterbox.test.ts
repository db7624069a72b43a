/**
 * Letterbox preprocessing (resize 'letterbox') and the box geometry between photo and model input: sizes and
 * padding equal Ultralytics' LetterBox formula (the table below was computed with it in Python:
 * r = min(H/h, W/w); new = int(round(w·r)), int(round(h·r)); left, top = int(round(d/2 − 0.1))), boxes survive
 * photo → input → photo on odd aspect ratios, and maps come back onto the photo without the padding.
 */
import { describe, expect, it } from 'vitest';
import type { Box } from '../../src/core/detection/boxes.js';
import type { ModelSpec } from '../../src/core/model.js';
import { boxToImage, boxToInput, inputGeometry, mapToImage, preprocess } from '../../src/core/preprocess.js';

const spec = (width: number, height: number, over: Partial<ModelSpec> = {}): ModelSpec => ({
  inputName: 'images',
  layout: 'NCHW',
  width,
  height,
  channelOrder: 'RGB',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  resize: 'letterbox',
  cropFraction: 1,
  labels: [],
  outputs: 'probabilities',
  task: 'classify',
  ...over,
});

// [photo w, h, input W, H] → [new w, new h, left, top] from Ultralytics' formula in Python.
const TABLE: [number[], number[]][] = [
  [
    [1280, 720, 640, 640],
    [640, 360, 0, 140],
  ],
  [
    [1000, 333, 640, 640],
    [640, 213, 0, 213],
  ],
  [
    [333, 1000, 640, 640],
    [213, 640, 213, 0],
  ],
  [
    [101, 50, 64, 64],
    [64, 32, 0, 16],
  ],
  [
    [8, 5, 4, 4],
    [4, 2, 0, 1],
  ], // 2.5 rounds to 2, half to even, as Python's round
  [
    [8, 3, 4, 4],
    [4, 2, 0, 1],
  ],
  [
    [7, 1, 640, 480],
    [640, 91, 0, 194],
  ],
  [
    [3000, 4000, 320, 256],
    [192, 256, 64, 0],
  ],
  [
    [640, 640, 640, 640],
    [640, 640, 0, 0],
  ],
  [
    [33, 17, 64, 48],
    [64, 33, 0, 7],
  ],
];

describe('letterbox geometry', () => {
  it.each(TABLE)('%j → %j as Ultralytics pads it', ([w, h, W, H], [nw, nh, left, top]) => {
    const g = inputGeometry(spec(W, H), w, h);
    expect(g.letterbox).toEqual({ width: nw, height: nh, left, top });
    expect([g.cropX, g.cropY, g.cropWidth, g.cropHeight]).toEqual([0, 0, w, h]);
  });

  it('puts the photo in its window on gray 114 padding', () => {
    // A 6 × 3 photo into 6 × 6: same scale, 3 rows of padding, 1 above and 2 below.
    const data = new Uint8Array(6 * 3 * 3);
    for (let i = 0; i < 18; i++) data.set([200, 10, 50], i * 3);
    const { tensor, geometry } = preprocess({ width: 6, height: 3, data }, spec(6, 6));
    expect(geometry.letterbox).toEqual({ width: 6, height: 3, left: 0, top: 1 });
    const at = (c: number, y: number, x: number) => tensor.data[c * 36 + y * 6 + x] * 255;
    for (const y of [0, 4, 5]) for (let c = 0; c < 3; c++) expect(at(c, y, 3)).toBeCloseTo(114, 4);
    for (const y of [1, 2, 3]) [200, 10, 50].forEach((v, c) => void expect(at(c, y, 2)).toBeCloseTo(v, 4));
  });

  it('lands a square of the photo where boxToInput says', () => {
    const [w, h] = [100, 50];
    const data = new Uint8Array(w * h * 3);
    for (let y = 10; y < 30; y++)
      for (let x = 20; x < 40; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const s = spec(64, 64);
    const { tensor, geometry } = preprocess({ width: w, height: h, data }, s);
    const b = boxToInput([20, 10, 40, 30], geometry, 64, 64);
    // r = 0.64, the photo 64 × 32 at top 16: the square at 12.8–25.6 across and 22.4–35.2 down.
    [12.8, 22.4, 25.6, 35.2].forEach((v, i) => void expect(b[i]).toBeCloseTo(v, 9));
    expect(tensor.data[29 * 64 + 19]).toBeGreaterThan(0.95);
    expect(tensor.data[29 * 64 + 5]).toBeLessThan(0.05);
    expect(tensor.data[29 * 64 + 32]).toBeLessThan(0.05);
    expect(tensor.data[5 * 64 + 19]).toBeCloseTo(114 / 255, 5);
  });
});

describe('boxes between photo and input', () => {
  // Fractions of the photo, inside the center crop below too.
  const fractions: Box[] = [
    [0.25, 0.1, 0.75, 0.9],
    [0.3, 0.45, 0.31, 0.5],
  ];
  const cases: [string, ModelSpec, number, number][] = [
    ['letterbox, wide', spec(640, 640), 1000, 333],
    ['letterbox, tall', spec(640, 640), 333, 1000],
    ['letterbox, strip into 4:3', spec(640, 480), 7, 1],
    ['letterbox, odd sizes', spec(64, 48), 33, 17],
    ['center-crop', spec(224, 224, { resize: 'center-crop', cropFraction: 0.875 }), 301, 199],
    ['squash', spec(224, 160, { resize: 'squash' }), 301, 199],
  ];
  it.each(cases)('%s: photo → input → photo is the identity', (_, s, w, h) => {
    const g = inputGeometry(s, w, h);
    for (const f of fractions) {
      const box: Box = [f[0] * w, f[1] * h, f[2] * w, f[3] * h];
      const back = boxToImage(boxToInput(box, g, s.width, s.height), g, s.width, s.height);
      for (let i = 0; i < 4; i++) expect(Math.abs(back[i] - box[i])).toBeLessThan(1e-9);
    }
  });

  it('maps the whole letterbox window onto the whole photo and clips boxes in the padding', () => {
    const g = inputGeometry(spec(640, 640), 1000, 333);
    expect(boxToImage([0, 213, 640, 426], g, 640, 640).map((v) => +v.toFixed(9))).toEqual([0, 0, 1000, 333]);
    expect(boxToImage([10, 0, 20, 100], g, 640, 640)[3]).toBe(0); // wholly in the top padding: empty
  });
});

describe('mapToImage through a letterbox', () => {
  it('drops the padding and puts the window’s halves on the photo’s halves', () => {
    // Photo 128 × 64 into 64 × 64: the photo is rows 16–47; mark the window's top half (rows 16–31).
    const g = inputGeometry(spec(64, 64), 128, 64);
    expect(g.letterbox).toEqual({ width: 64, height: 32, left: 0, top: 16 });
    const map = new Float32Array(64 * 64).fill(-5); // the padding: must not reach the photo
    for (let y = 16; y < 48; y++) for (let x = 0; x < 64; x++) map[y * 64 + x] = y < 32 ? 1 : 0;
    const photo = mapToImage(map, 64, 64, g);
    expect(photo).toHaveLength(128 * 64);
    expect(Math.min(...photo)).toBeGreaterThanOrEqual(0);
    for (const x of [0, 60, 127]) {
      expect(photo[10 * 128 + x]).toBeCloseTo(1, 6);
      expect(photo[50 * 128 + x]).toBeCloseTo(0, 6);
    }
  });
});
