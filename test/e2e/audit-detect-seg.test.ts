/**
 * `sightline audit` on an instance-segmentation detector: the hand-set YOLOv8-seg square detector of
 * scripts/golden/detectors.py on its test image as a 128 × 96 photo, its three squares the COCO boxes. Each explained detection's verdict reads its instance mask (region 'mask', maskShare beside the
 * box's share), and its overlay outlines the mask.
 */
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MASK_COLOR } from '../../src/render/masks.js';
import { runCli } from '../helpers/cli.js';
import { DETECTOR_FIXTURES as FIXTURES, writeSquaresPhoto } from '../helpers/detector-photo.js';

const LABELS = ['red', 'green', 'blue'];
const WIDTH = 128;
const HEIGHT = 96;
/**
 * How far (RGB distance) a decoded overlay pixel may lie from the outline's cyan and still count as outline.
 * The overlays are WebP at quality 75 with colour at half resolution: measured on a flat cyan square it keeps
 * cyan within 4 inside but strays up to 89 within 4 pixels of the square's edge, and every pixel of a 2-pixel
 * outline is such an edge pixel (90% of them within 92 here). No other pixel of these overlays' photo part
 * comes within 107 of cyan (the heat map's reds and the squares' own colours), so 100 tells the two apart.
 */
const NEAR_CYAN = 100;
let dir: string;
let reference: { class: number; mask: number[] }[];
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-seg-'));
  await copyFile(`${FIXTURES}yolov8_seg.onnx`, at('seg.onnx'));
  await writeFile(at('seg.json'), JSON.stringify({ labels: LABELS, iouThreshold: 0.45 }));
  await mkdir(at('photos'));
  await writeSquaresPhoto(at('photos/a.png'));
  // Every square is an object: twice its input box in the 128 × 96 photo, clipped.
  const ref = JSON.parse(await readFile(`${FIXTURES}yolov8_seg.ref.json`, 'utf8'));
  reference = ref.detections;
  const squares: { box: number[]; class: number }[] = ref.squares;
  await writeFile(
    at('coco.json'),
    JSON.stringify({
      images: [{ id: 1, file_name: 'a.png', width: 128, height: 96 }],
      annotations: squares.map(({ box, class: c }, i) => {
        const [x0, y0, x1, y1] = [
          box[0] * 2,
          box[1] * 2,
          Math.min(128, box[2] * 2),
          Math.min(96, box[3] * 2),
        ];
        return { id: i + 1, image_id: 1, category_id: c + 1, bbox: [x0, y0, x1 - x0, y1 - y0] };
      }),
      categories: LABELS.map((name, c) => ({ id: c + 1, name })),
    }),
  );
});

describe('sightline audit on a YOLOv8-seg detector', () => {
  it('reads each explained detection’s verdict in its mask and outlines the mask on its overlay', async () => {
    const out = at('out');
    const r = await runCli([
      'audit',
      at('photos'),
      '--model',
      at('seg.onnx'),
      '--method',
      'grad-cam',
      '--regions',
      at('coco.json'),
      '--concurrency',
      '1',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const row = JSON.parse((await readFile(join(out, 'results.jsonl'), 'utf8')).trim());
    expect(row.status).toBe('ok');
    const dets = row.detect.detections;
    expect(dets.map((d: { label: string }) => d.label).sort()).toEqual(['blue', 'green', 'red']);
    for (const d of dets) {
      expect(d.object).toBeDefined();
      expect(d.region).toBe('mask');
      // Box-target Grad-CAM lies on the square; the mask is a little smaller than the box, so its share is
      // at most the box's and still most of the map.
      expect(d.maskShare).toBeGreaterThan(0.5);
      expect(d.maskShare).toBeLessThanOrEqual(d.boxShare + 1e-9);
      expect(d.verdict).toBe('object');
      expect(d.map).toMatch(/\.webp$/);
      const outline = await nearOutline(join(out, d.map));
      // Torch's mask for this square, thresholded where it was made: 16 × 16 prototype cells of 4 input
      // pixels, so 8 photo pixels each (the photo is the input twice over, cut at row 96).
      const cells = reference.find((r) => LABELS[r.class] === d.label)!.mask;
      const expected = cellOutline(cells);
      // The photo's mask is those logits enlarged bilinearly before the threshold: corners round off and
      // each edge may move by up to half a cell (measured: 208, 176, 153 near-cyan pixels against 240,
      // 176, 144 here). Missing, the count is 0; drawn around another object, the box check fails.
      expect(outline.count, d.label).toBeGreaterThan(0.75 * expected.count);
      expect(outline.count, d.label).toBeLessThan(1.15 * expected.count);
      for (let i = 0; i < 4; i++)
        expect(Math.abs(outline.box[i] - expected.box[i]), d.label).toBeLessThanOrEqual(4);
    }
    // The report shows the row's own pictures, inlined as they were written.
    const html = await readFile(join(out, 'report.html'), 'utf8');
    for (const picture of [row.overlay, row.thumbnail]) {
      expect(picture).toMatch(/\.webp$/);
      const bytes = await readFile(join(out, picture));
      expect(html).toContain(`data:image/webp;base64,${bytes.toString('base64')}`);
    }
  }, 120_000);
});

/** The overlay's pixels within NEAR_CYAN of the outline colour in its photo part (above the legend), and their bounds. */
async function nearOutline(file: string): Promise<{ count: number; box: number[] }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  expect(info.width).toBe(WIDTH);
  let count = 0;
  const box = [WIDTH, HEIGHT, 0, 0];
  for (let y = 0; y < HEIGHT; y++)
    for (let x = 0; x < WIDTH; x++) {
      const o = (y * WIDTH + x) * info.channels;
      const distance = Math.hypot(
        data[o] - MASK_COLOR[0],
        data[o + 1] - MASK_COLOR[1],
        data[o + 2] - MASK_COLOR[2],
      );
      if (distance > NEAR_CYAN) continue;
      count++;
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x + 1);
      box[3] = Math.max(box[3], y + 1);
    }
  return { count, box };
}

/**
 * The 2-pixel outline drawn inside the region of the reference mask's cells above 0.5 (8 × 8 photo pixels
 * each, cut at the photo's edge): how many pixels it has and the region's bounds.
 */
function cellOutline(cells: readonly number[]): { count: number; box: number[] } {
  const inside = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < WIDTH && y < HEIGHT && cells[Math.floor(y / 8) * 16 + Math.floor(x / 8)] > 0.5;
  let count = 0;
  const box = [WIDTH, HEIGHT, 0, 0];
  for (let y = 0; y < HEIGHT; y++)
    for (let x = 0; x < WIDTH; x++) {
      if (!inside(x, y)) continue;
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x + 1);
      box[3] = Math.max(box[3], y + 1);
      let edge = false;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) edge ||= !inside(x + dx, y + dy);
      if (edge) count++;
    }
  return { count, box };
}
