// The square detectors' test image (scripts/golden/detectors.py, test/fixtures/detectors/input.npy) as a photo a
// user gives: twice the size and not square (128 × 96), so the letterbox and its mapping back are on the path.
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { decodeImage } from '../../src/io/decode.js';
import { readNpy } from '../../src/io/npy-file.js';
import { openOnnxModel } from '../../src/models/open.js';

export const DETECTOR_FIXTURES = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));

/** Writes the 128 × 96 PNG to `file`: 64 × 64 → 128 × 128 by nearest (exact squares), the bottom 32 rows cut. */
export async function writeSquaresPhoto(file: string): Promise<void> {
  const x = await readNpy(`${DETECTOR_FIXTURES}input.npy`);
  const data = Buffer.alloc(64 * 64 * 3);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 4096; p++) data[p * 3 + c] = Math.round(x.data[c * 4096 + p] * 255);
  await sharp(data, { raw: { width: 64, height: 64, channels: 3 } })
    .resize(128, 128, { kernel: 'nearest' })
    .extract({ left: 0, top: 0, width: 128, height: 96 })
    .png()
    .toFile(file);
}

/** A new temporary folder holding the squares photo as squares.png, and that photo decoded as a run reads it. */
export async function squaresPhotoFolder(prefix: string): Promise<{ dir: string; photo: RgbImage }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeSquaresPhoto(join(dir, 'squares.png'));
  return { dir, photo: await decodeImage(join(dir, 'squares.png')) };
}

/** The square detector's classes (channel 0, 1, 2). */
export const SQUARES_LABELS = ['red', 'green', 'blue'];

/** A square detector of test/fixtures/detectors (yolov8, postnms, …) with its classes, as det.json gives them. */
export const openSquaresDetector = async (name: string): Promise<Model> =>
  openOnnxModel(await readFile(join(DETECTOR_FIXTURES, `${name}.onnx`)), {
    iouThreshold: 0.45,
    labels: SQUARES_LABELS,
  });

/**
 * The detector, counting the images its outputs are asked for (what a D-RISE of all detections at once saves);
 * `after` sees the running count, e.g. to cancel midway.
 */
export function countedDetector(model: Model, after?: (images: number) => void): Model & { images: number } {
  const wrapped = Object.create(model) as Model & { images: number };
  wrapped.images = 0;
  wrapped.outputs = (batch, run) => {
    wrapped.images += batch.dims[0];
    after?.(wrapped.images);
    return model.outputs!(batch, run);
  };
  return wrapped;
}
type Square = { box: [number, number, number, number]; channel: number };
// Squares of side 16 centred on the detector's anchors (stride 4, centres at 4k + 2), as in detectors.py.
export const RED: Square = { box: [10, 14, 26, 30], channel: 0 };
export const GREEN: Square = { box: [34, 38, 50, 54], channel: 1 };
export const BLUE: Square = { box: [42, 6, 58, 22], channel: 2 };
const GREEN_C: Square = { box: [34, 6, 50, 22], channel: 1 };
const PHOTOS: Record<string, Square[]> = { 'a.png': [RED, GREEN, BLUE], 'b.png': [RED], 'c.png': [GREEN_C] };
// COCO's objects: a.png without its blue square; b.png with a green box where there is none.
const TRUTH: Record<string, Square[]> = { 'a.png': [RED, GREEN], 'b.png': [RED, GREEN], 'c.png': [GREEN_C] };

async function squaresPhoto(squares: Square[], file: string): Promise<void> {
  const data = Buffer.alloc(64 * 64 * 3);
  let seed = 14;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    data[i] = seed % 26; // background 0–0.1, as the fixture's test image
  }
  for (const { box, channel } of squares)
    for (let y = box[1]; y < box[3]; y++)
      for (let x = box[0]; x < box[2]; x++)
        for (let c = 0; c < 3; c++) data[(y * 64 + x) * 3 + c] = c === channel ? 255 : 13;
  await sharp(data, { raw: { width: 64, height: 64, channels: 3 } })
    .png()
    .toFile(file);
}

/**
 * A detector's audit with planted answers, under `dir`: the YOLOv8-style square detector (det.onnx and its
 * det.json), three 64 × 64 photos (photos/a.png, b.png, c.png) and their COCO boxes (coco.json). Planted: a
 * blue square the COCO file does not list (a false positive) and a green box over empty background (a miss);
 * by hand: red found twice (a, b), green twice (a, c).
 */
export async function writeSquaresAudit(dir: string): Promise<void> {
  await copyFile(`${DETECTOR_FIXTURES}yolov8.onnx`, join(dir, 'det.onnx'));
  await writeFile(join(dir, 'det.json'), JSON.stringify({ labels: SQUARES_LABELS, iouThreshold: 0.45 }));
  await mkdir(join(dir, 'photos'));
  for (const [file, squares] of Object.entries(PHOTOS))
    await squaresPhoto(squares, join(dir, `photos/${file}`));
  const names = Object.keys(TRUTH);
  let id = 1;
  const coco = {
    images: names.map((file, i) => ({ id: i + 1, file_name: file, width: 64, height: 64 })),
    annotations: names.flatMap((file, i) =>
      TRUTH[file].map(({ box, channel }) => ({
        id: id++,
        image_id: i + 1,
        category_id: channel + 1,
        bbox: [box[0], box[1], box[2] - box[0], box[3] - box[1]],
      })),
    ),
    categories: SQUARES_LABELS.map((name, c) => ({ id: c + 1, name })),
  };
  await writeFile(join(dir, 'coco.json'), JSON.stringify(coco));
}

/** A class's mean window around its detections, as summary.json's `detect.around` holds it. */
export interface AroundClass {
  label: string;
  detections: number;
  mean: (number | null)[];
  parts: Record<string, number>;
}

/**
 * Checks `detect.around` of a box-target Grad-CAM audit of writeSquaresAudit's photos and returns it: explained
 * detections per class (the miss is explained too, but is no detection) blue 1, green 2, red 2, and since
 * Grad-CAM of a box target puts 99.8–100% of each map in its square (detection-explain.test.ts), each class's
 * mean window holds its mass inside the box.
 */
export function expectSquaresAround(around: AroundClass[]): AroundClass[] {
  expect(around.map((c) => [c.label, c.detections])).toEqual([
    ['blue', 1],
    ['green', 2],
    ['red', 2],
  ]);
  for (const c of around) {
    expect(c.mean).toHaveLength(256);
    expect(c.parts.inside, c.label).toBeGreaterThan(0.95);
  }
  return around;
}
