/**
 * Instance masks over the photo (src/models/detect-mask.ts) against torch's own (scripts/golden/seg_masks.py):
 * the YOLOv8-seg square detector's three masks, decoded here from torch's raw outputs, enlarged to the input
 * as F.interpolate does and mapped onto two letterboxed photos (enlarged 96 × 64, shrunk 48 × 32).
 *
 * Tolerance: values to 5e-6 (measured: at most 1.2e-7 at the input, 8.1e-7 on the photos). Both sides start
 * from torch's float32 outputs; the dot products of 32 terms are float64 here and float32 in torch, and each of
 * the (up to four) bilinear passes rounds to float32 on both sides, with weights summing to 1, so differences
 * stay at a few float32 ulps of values in 0–1. Thresholded masks must be equal except on pixels whose torch
 * value lies within the tolerance of 0.5 (counted: none in these fixtures).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/core/model.js';
import { inputGeometry, mapToImage } from '../../src/core/preprocess.js';
import { shapesMask } from '../../src/core/regions/mask.js';
import { rleBoxes } from '../../src/core/regions/rle.js';
import { readNpy } from '../../src/io/npy-file.js';
import { decodeDetections, type NamedOutput } from '../../src/models/detect-decode.js';
import {
  fullPhotoMask,
  MASK_THRESHOLD,
  maskAtInput,
  maskRle,
  maskValuesAtPhoto,
  type PhotoMask,
  photoMask,
} from '../../src/models/detect-mask.js';
import { analyticSpec } from '../helpers/analytic.js';

const DIR = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));
const TOLERANCE = 5e-6;

interface MasksRef {
  input: { width: number; height: number; file: string };
  photos: { width: number; height: number; letterbox: number[]; file: string }[];
}
const masksRef: MasksRef = JSON.parse(readFileSync(`${DIR}yolov8_seg.masks.json`, 'utf8'));
const ref = JSON.parse(readFileSync(`${DIR}yolov8_seg.ref.json`, 'utf8'));

const spec = (side: number): ModelSpec => ({ ...analyticSpec(side), resize: 'letterbox', task: 'detect' });

async function detections() {
  const outputs: NamedOutput[] = await Promise.all(
    ref.outputs.map(async (o: { name: string }) => {
      const a = await readNpy(`${DIR}yolov8_seg.out.${o.name}.npy`);
      return { name: o.name, dims: a.shape, data: a.data };
    }),
  );
  return decodeDetections(outputs, {
    inputWidth: 64,
    inputHeight: 64,
    format: 'yolov8-seg',
    scoreThreshold: ref.score_threshold,
    iouThreshold: ref.iou_threshold,
  }).images[0];
}

/** A patch (0 outside) as a full plane. */
function plane(
  p: { left: number; top: number; width: number; height: number; data: Float32Array },
  w: number,
  h: number,
) {
  const out = new Float32Array(w * h);
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) out[(p.top + y) * w + p.left + x] = p.data[y * p.width + x];
  return out;
}

/** Largest difference and the thresholded pixels that differ away from the threshold. */
function compare(ours: Float32Array, theirs: Float32Array) {
  let err = 0;
  let differ = 0;
  let near = 0;
  for (let i = 0; i < theirs.length; i++) {
    err = Math.max(err, Math.abs(ours[i] - theirs[i]));
    const close = Math.abs(theirs[i] - MASK_THRESHOLD) <= TOLERANCE;
    if (close) near++;
    else if (ours[i] > MASK_THRESHOLD !== theirs[i] > MASK_THRESHOLD) differ++;
  }
  return { err, differ, near };
}

describe('instance masks against torch', () => {
  it('enlarges each mask to the input as F.interpolate (bilinear, align_corners=False)', async () => {
    const dets = await detections();
    expect(dets.length).toBe(3);
    const torch = await readNpy(`${DIR}${masksRef.input.file}`);
    expect(torch.shape).toEqual([3, 64, 64]);
    for (let d = 0; d < 3; d++) {
      const mask = dets[d].mask;
      if (!mask) throw new Error('no mask');
      const ours = plane(maskAtInput(mask, 64, 64), 64, 64);
      const r = compare(ours, torch.data.subarray(d * 4096, (d + 1) * 4096));
      expect(r.err).toBeLessThan(TOLERANCE);
      expect(r.differ).toBe(0);
      expect(r.near).toBe(0);
    }
  });

  it.each(masksRef.photos)('maps each mask onto a letterboxed $width × $height photo', async (photo) => {
    const dets = await detections();
    const g = inputGeometry(spec(64), photo.width, photo.height);
    const lb = g.letterbox;
    expect(lb && [lb.left, lb.top, lb.width, lb.height]).toEqual(photo.letterbox);
    const torch = await readNpy(`${DIR}${photo.file}`);
    const size = photo.width * photo.height;
    let inside = 0;
    for (let d = 0; d < 3; d++) {
      const mask = dets[d].mask;
      if (!mask) throw new Error('no mask');
      const theirs = torch.data.subarray(d * size, (d + 1) * size);
      const values = plane(maskValuesAtPhoto(mask, 64, 64, g), photo.width, photo.height);
      const r = compare(values, theirs);
      expect(r.err).toBeLessThan(TOLERANCE);
      expect(r.near).toBe(0);
      // The windowed mapping equals mapping the whole input map as saliency maps are mapped.
      const whole = mapToImage(plane(maskAtInput(mask, 64, 64), 64, 64), 64, 64, g);
      expect(compare(values, whole).err).toBeLessThan(1e-6);
      // Thresholded: exactly torch's pixels.
      const bits = fullPhotoMask(photoMask(mask, 64, 64, g), photo.width, photo.height);
      for (let i = 0; i < size; i++) expect(bits[i]).toBe(theirs[i] > MASK_THRESHOLD ? 1 : 0);
      inside += bits.reduce((a, b) => a + b, 0);
    }
    // Not a vacuous comparison: the masks hold pixels.
    expect(inside).toBeGreaterThan(size / 20);
  });

  it('cuts a mask at the letterbox padding (the blue square lies partly in it)', async () => {
    const dets = await detections();
    const blue = dets.find((d) => d.classIndex === 2);
    if (!blue?.mask) throw new Error('no blue mask');
    // Photo 96 × 64: input rows 10 … 52 are the photo; the blue square spans input rows 6 … 21.
    const g = inputGeometry(spec(64), 96, 64);
    const m = photoMask(blue.mask, 64, 64, g);
    expect(m.y).toBe(0);
    expect(m.width).toBeGreaterThan(0);
  });
});

describe('a mask under other resizes', () => {
  it.each([
    { resize: 'squash' as const, cropFraction: 1 },
    { resize: 'center-crop' as const, cropFraction: 0.875 },
  ])('maps as the whole-map resize does ($resize)', async ({ resize, cropFraction }) => {
    const dets = await detections();
    const g = inputGeometry({ ...spec(64), resize, cropFraction }, 150, 90);
    for (const d of dets) {
      if (!d.mask) throw new Error('no mask');
      const whole = mapToImage(plane(maskAtInput(d.mask, 64, 64), 64, 64), 64, 64, g);
      const ours = plane(maskValuesAtPhoto(d.mask, 64, 64, g), 150, 90);
      let err = 0;
      for (let i = 0; i < whole.length; i++) err = Math.max(err, Math.abs(ours[i] - whole[i]));
      expect(err).toBeLessThan(1e-6);
      const bits = fullPhotoMask(photoMask(d.mask, 64, 64, g), 150, 90);
      for (let i = 0; i < whole.length; i++) expect(bits[i]).toBe(whole[i] > MASK_THRESHOLD ? 1 : 0);
    }
  });
});

describe('a mask on a very long photo', () => {
  it('maps across filter-tap blocks as the whole-map resize does', () => {
    // 600,000 × 2: the letterbox window is 64 × 1 (row 31); enlarging 64 → 600,000 columns takes 1.2 million
    // filter weights, more than one block (2^20). A prototype mask of 0.3 with 0.9 on its diagonal: no pixel
    // is 0, so the window is the photo's whole width, and columns differ.
    const data = new Float32Array(16).fill(0.3);
    for (let i = 0; i < 4; i++) data[i * 4 + i] = 0.9;
    const mask = { width: 4, height: 4, data };
    const g = inputGeometry(spec(64), 600_000, 2);
    expect(g.letterbox).toEqual({ width: 64, height: 1, left: 0, top: 31 });
    const values = maskValuesAtPhoto(mask, 64, 64, g);
    expect(values.width).toBe(600_000);
    const whole = mapToImage(plane(maskAtInput(mask, 64, 64), 64, 64), 64, 64, g);
    const ours = plane(values, 600_000, 2);
    let err = 0;
    for (let i = 0; i < whole.length; i++) err = Math.max(err, Math.abs(ours[i] - whole[i]));
    expect(err).toBeLessThan(1e-6);
    const bits = fullPhotoMask(photoMask(mask, 64, 64, g), 600_000, 2);
    let inside = 0;
    for (let i = 0; i < whole.length; i++) {
      expect(bits[i]).toBe(whole[i] > MASK_THRESHOLD ? 1 : 0);
      inside += bits[i];
    }
    expect(inside).toBeGreaterThan(0);
    expect(inside).toBeLessThan(whole.length);
  });
});

describe('mask run-length encoding (COCO, column-major, from 0s)', () => {
  it('encodes a hand-made mask', () => {
    // Photo 4 wide, 3 high; inside: (1, 0), (1, 1), (2, 1). Column-major: col 0 = 000, col 1 = 110,
    // col 2 = 010, col 3 = 000 → 0×3, 1×2, 0×2, 1×1, 0×4.
    const m: PhotoMask = { x: 1, y: 0, width: 2, height: 2, data: Uint8Array.from([1, 0, 1, 1]) };
    expect(maskRle(m, 4, 3)).toEqual({ size: [3, 4], counts: [3, 2, 2, 1, 4] });
    // Inside at the very first pixel: a first count of 0.
    const first: PhotoMask = { x: 0, y: 0, width: 1, height: 1, data: Uint8Array.from([1]) };
    expect(maskRle(first, 2, 2)).toEqual({ size: [2, 2], counts: [0, 1, 3] });
  });

  it('decodes, through the COCO region reader, to the same pixels', async () => {
    const dets = await detections();
    const g = inputGeometry(spec(64), 96, 64);
    for (const d of dets) {
      if (!d.mask) throw new Error('no mask');
      const m = photoMask(d.mask, 64, 64, g);
      const rle = maskRle(m, 96, 64);
      expect(rle.counts.reduce((a, b) => a + b, 0)).toBe(96 * 64);
      const back = shapesMask(rleBoxes(rle.counts, 64), 96, 64);
      expect(Array.from(back)).toEqual(Array.from(fullPhotoMask(m, 96, 64)));
    }
  });
});
