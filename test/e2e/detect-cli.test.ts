/**
 * `sightline explain` on a detector, as a user runs it: the hand-set YOLOv8-style square detector of
 * scripts/golden/detectors.py (test/fixtures/detectors) with a sidecar naming its classes, on its test image
 * saved as a PNG twice the size and not square (128 × 96), so the letterbox and its mapping back are on the
 * path: each square's box must come back at twice its input coordinates, shifted by nothing horizontally
 * (the photo fills the width) and by nothing vertically (the padding is in the input, not the photo).
 */
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../src/io/npy.js';
import { runCli } from '../helpers/cli.js';
import { writeSquaresPhoto } from '../helpers/detector-photo.js';
import { massInside } from '../helpers/task-models.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));
const LABELS = ['red', 'green', 'blue'];
let dir: string;
const at = (name: string) => join(dir, name);
let squares: { box: number[]; class: number }[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-detect-'));
  await copyFile(`${FIXTURES}yolov8.onnx`, at('det.onnx'));
  await writeFile(at('det.json'), JSON.stringify({ labels: LABELS, iouThreshold: 0.45 }));
  const ref = JSON.parse(await readFile(`${FIXTURES}yolov8.ref.json`, 'utf8'));
  squares = ref.squares;
  await writeSquaresPhoto(at('photo.png'));
});

/** A square's box in the 128 × 96 photo: twice the input's, clipped to the photo. */
const inPhoto = (box: number[]) => [
  box[0] * 2,
  box[1] * 2,
  Math.min(128, box[2] * 2),
  Math.min(96, box[3] * 2),
];

describe('sightline explain --model detector.onnx', () => {
  it('lists the detections with labels and photo boxes and writes one overlay per detection', async () => {
    const r = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      at('det.onnx'),
      '--masks',
      '200',
      '--out',
      at('o.png'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Squares at input rows 14–30 (red), 38–54 (green) and 6–22 (blue); the photo keeps rows 0–48 of the input.
    expect(r.stdout).toMatch(/3 detections in .*photo\.png/);
    for (const s of squares) {
      const line = r.stdout.split('\n').find((l) => l.includes(` ${LABELS[s.class]} (${s.class})`));
      expect(line, LABELS[s.class]).toBeDefined();
      expect(line).toContain(inPhoto(s.box).join(','));
    }
    for (let i = 0; i < 3; i++) {
      expect(r.stdout).toContain(`D-RISE map for '`);
      const meta = await sharp(at(`o-det${i}.png`)).metadata();
      expect(meta.width).toBe(128);
    }
  }, 60_000);

  it('--json lists {index, label, score, box} in photo pixels with each overlay; --detections limits them', async () => {
    const r = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      at('det.onnx'),
      '--masks',
      '100',
      '--detections',
      '2',
      '--json',
      '--out',
      at('j.png'),
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.task).toBe('detect');
    expect(out.format).toBe('yolov8');
    expect(out.method).toBe('d-rise');
    expect(out.detections).toHaveLength(3);
    for (const d of out.detections) {
      const s = squares.find((q) => LABELS[q.class] === d.label)!;
      expect(d.box).toEqual(inPhoto(s.box));
      expect(d.score).toBeGreaterThan(0.25);
    }
    expect(out.detections.map((d: { overlay: string | null }) => d.overlay !== null)).toEqual([
      true,
      true,
      false,
    ]);
    expect(out.detections[0].overlay).toBe(at('j-det0.png'));
  }, 60_000);

  it('--target by label explains that detection alone, and --save-map writes its map', async () => {
    const r = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      at('det.onnx'),
      '--method',
      'gradient',
      '--target',
      'green',
      '--out',
      at('g.png'),
      '--save-map',
      at('g.npy'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Vanilla gradient map for 'green' #\d written to .*g\.png/i);
    const map = decodeNpy(await readFile(at('g.npy')));
    expect(map.shape).toEqual([96, 128]);
    const green = squares.find((s) => s.class === 1)!;
    const [x0, y0, x1, y1] = inPhoto(green.box);
    expect(massInside(map.data, 128, { x0, y0, x1, y1 })).toBeGreaterThanOrEqual(0.7);
  }, 60_000);

  it('--target 1 is the second detection in the list', async () => {
    const r = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      at('det.onnx'),
      '--target',
      '1',
      '--masks',
      '50',
      '--json',
      '--out',
      at('t.png'),
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.detections[1].overlay).toBe(at('t.png'));
    expect(out.detections.filter((d: { overlay: string | null }) => d.overlay)).toHaveLength(1);
  }, 60_000);

  it('refuses a label it did not detect, a detection index past the list and --save-map for several', async () => {
    const unknown = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      at('det.onnx'),
      '--target',
      'purple',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/purple/);
    const high = await runCli(['explain', at('photo.png'), '--model', at('det.onnx'), '--target', '7']);
    expect(high.code).toBe(2);
    expect(high.stderr).toMatch(/detection index from 0 to 2/);
    const many = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      at('det.onnx'),
      '--save-map',
      at('x.npy'),
    ]);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/--save-map writes one map/);
    const none = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      at('det.onnx'),
      '--score-threshold',
      '0.9999',
      '--masks',
      '10',
    ]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/No detections above the score threshold 0.9999/);
  }, 60_000);
});

/*
 * torchvision's ssdlite320_mobilenet_v3_large, narrowed (width 0.25, 3 classes) with random weights, exported by
 * scripts/golden/detectors.py (2.5 MB): a real architecture whose post-NMS outputs (boxes [K, 4], scores [K],
 * int64 labels [K]) are found by name. Random weights give every class a third, so the threshold is lowered;
 * the maps are not judged, only that the path runs and maps its boxes onto the photo.
 */
describe('sightline explain on torchvision SSDlite (random weights)', () => {
  const ssd = `${FIXTURES}ssdlite320_w025_c3.onnx`;

  it('reads it as post-NMS, lists its detections inside the photo and writes a D-RISE overlay', async () => {
    const r = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      ssd,
      '--score-threshold',
      '0.05',
      '--masks',
      '20',
      '--detections',
      '1',
      '--json',
      '--out',
      at('ssd.png'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.format).toBe('post-nms');
    expect(out.detections.length).toBeGreaterThan(0);
    for (const d of out.detections) {
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(128);
      expect(d.box[3]).toBeLessThanOrEqual(96);
      expect(d.score).toBeGreaterThan(0.05);
    }
    expect(out.detections[0].overlay).toBe(at('ssd.png'));
    expect((await sharp(at('ssd.png')).metadata()).width).toBe(128);
  }, 120_000);

  it('refuses a gradient method on post-NMS outputs, naming what works', async () => {
    const r = await runCli([
      'explain',
      at('photo.png'),
      '--model',
      ssd,
      '--score-threshold',
      '0.05',
      '--method',
      'gradient',
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/d-rise/);
  }, 120_000);
});
