/**
 * `sightline explain` on an instance-segmentation detector: the hand-set YOLOv8-seg square detector of
 * scripts/golden/detectors.py on its test image saved as a 128 × 96 PNG (letterboxed to 64 × 64 with 8 rows of
 * padding above and below). Each detection's mask comes back over the photo as COCO RLE, lies on its square,
 * is outlined on the overlay, and is the region the map's share is measured in; a box detector says 'box'.
 */
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { shapesMask } from '../../src/core/regions/mask.js';
import { rleBoxes } from '../../src/core/regions/rle.js';
import { MASK_COLOR } from '../../src/render/masks.js';
import { runCli } from '../helpers/cli.js';
import { DETECTOR_FIXTURES as FIXTURES, writeSquaresPhoto } from '../helpers/detector-photo.js';

const LABELS = ['red', 'green', 'blue'];
let dir: string;
const at = (name: string) => join(dir, name);
let squares: { box: number[]; class: number }[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-seg-'));
  await copyFile(`${FIXTURES}yolov8_seg.onnx`, at('seg.onnx'));
  await copyFile(`${FIXTURES}yolov8.onnx`, at('det.onnx'));
  const sidecar = JSON.stringify({ labels: LABELS, iouThreshold: 0.45 });
  await writeFile(at('seg.json'), sidecar);
  await writeFile(at('det.json'), sidecar);
  squares = JSON.parse(await readFile(`${FIXTURES}yolov8_seg.ref.json`, 'utf8')).squares;
  await writeSquaresPhoto(at('photo.png'));
});

interface Listed {
  index: number;
  label: string;
  box: number[];
  mask?: { size: [number, number]; counts: number[] };
  overlay: string | null;
  region?: { used: string; share: number; areaShare: number; peakInside: boolean; verdict: string } | null;
}

/** A square's pixels in the 128 × 96 photo (twice the input's box, clipped). */
function squareMask(box: number[]): Uint8Array {
  const [x0, y0, x1, y1] = [box[0] * 2, box[1] * 2, Math.min(128, box[2] * 2), Math.min(96, box[3] * 2)];
  return shapesMask([{ type: 'box', x: x0, y: y0, width: x1 - x0, height: y1 - y0 }], 128, 96);
}

/** `explain photo.png --model <model> --method grad-cam` and more. */
const explainCam = (model: string, ...more: string[]) =>
  runCli(['explain', at('photo.png'), '--model', at(model), '--method', 'grad-cam', ...more]);

describe('sightline explain on a YOLOv8-seg detector', () => {
  it('gives each detection its mask (COCO RLE on its square) and measures the map in it', async () => {
    const r = await explainCam('seg.onnx', '--out', at('o.png'), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.format).toBe('yolov8-seg');
    const listed: Listed[] = json.detections;
    expect(listed.map((d) => d.label).sort()).toEqual([...LABELS].sort());
    for (const d of listed) {
      const mask = d.mask;
      if (!mask) throw new Error(`no mask for ${d.label}`);
      expect(mask.size).toEqual([96, 128]);
      expect(mask.counts.reduce((a, b) => a + b, 0)).toBe(96 * 128);
      const bits = shapesMask(rleBoxes(mask.counts, 96), 128, 96);
      const square = squareMask(squares[LABELS.indexOf(d.label)].box);
      let both = 0;
      let either = 0;
      for (let i = 0; i < bits.length; i++) {
        both += bits[i] & square[i];
        either += bits[i] | square[i];
      }
      // The mask follows the square, not exactly: the squares sit half a prototype pixel (4 photo pixels) off the
      // prototypes' grid, so crop_mask drops the half-covered first column and row and keeps the last; bilinear
      // rounds the corners; the dim blue square's half-covered cells fall below 0.5 (IoU 0.68 red, 0.54 blue, as
      // torch's own masks in test/unit/detection-masks.test.ts give them).
      expect(both / either, d.label).toBeGreaterThan(0.5);
      // And never strays past the box grown by one prototype pixel.
      const [bx0, by0, bx1, by1] = d.box;
      for (let i = 0; i < bits.length; i++) {
        if (!bits[i]) continue;
        const x = i % 128;
        const y = Math.floor(i / 128);
        expect(x >= bx0 - 8 && x < bx1 + 8 && y >= by0 - 8 && y < by1 + 8, `${d.label} ${x},${y}`).toBe(true);
      }
      // Box-target Grad-CAM of this detector lies on its square: the share is read in the mask.
      expect(d.region?.used).toBe('mask');
      expect(d.region?.share).toBeGreaterThan(0.8);
      expect(d.region?.areaShare).toBeCloseTo(
        either > 0 ? bits.reduce((a, b) => a + b, 0) / (128 * 96) : 0,
        3,
      );
      expect(d.region?.verdict).toBe('inside');
    }
    // The overlay shows the mask's outline in its colour, around the detection's square and nowhere else.
    const top = listed[0];
    const { data, info } = await sharp(at('o-det0.png')).raw().toBuffer({ resolveWithObject: true });
    const [x0, y0, x1, y1] = top.box;
    let outline = 0;
    for (let y = 0; y < 96; y++)
      for (let x = 0; x < 128; x++) {
        const o = (y * info.width + x) * info.channels;
        if (data[o] !== MASK_COLOR[0] || data[o + 1] !== MASK_COLOR[1] || data[o + 2] !== MASK_COLOR[2])
          continue;
        outline++;
        expect(x >= x0 - 4 && x < x1 + 4 && y >= y0 - 4 && y < y1 + 4, `${x},${y}`).toBe(true);
      }
    expect(outline).toBeGreaterThan(40);
  }, 90_000);

  it('says which region was used in words, and a box detector measures its box', async () => {
    const seg = await explainCam('seg.onnx', '--target', 'red', '--out', at('r.png'));
    expect(seg.code).toBe(0);
    expect(seg.stdout).toMatch(
      /\d+% of the map lies inside its mask \(\d+% of the photo\): mostly on the object/,
    );
    const box = await explainCam('det.onnx', '--target', 'red', '--out', at('b.png'), '--json');
    expect(box.code).toBe(0);
    const d: Listed = JSON.parse(box.stdout).detections.find((e: Listed) => e.label === 'red');
    expect(d.mask).toBeUndefined();
    expect(d.region?.used).toBe('box');
    expect(d.region?.share).toBeGreaterThan(0.8);
  }, 90_000);
});
