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
let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-seg-'));
  await copyFile(`${FIXTURES}yolov8_seg.onnx`, at('seg.onnx'));
  await writeFile(at('seg.json'), JSON.stringify({ labels: LABELS, iouThreshold: 0.45 }));
  await mkdir(at('photos'));
  await writeSquaresPhoto(at('photos/a.png'));
  // Every square is an object: twice its input box in the 128 × 96 photo, clipped.
  const squares: { box: number[]; class: number }[] = JSON.parse(
    await readFile(`${FIXTURES}yolov8_seg.ref.json`, 'utf8'),
  ).squares;
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
      const { data, info } = await sharp(join(out, d.map)).raw().toBuffer({ resolveWithObject: true });
      let outline = 0;
      for (let p = 0; p < info.width * info.height; p++) {
        const o = p * info.channels;
        if (data[o] === MASK_COLOR[0] && data[o + 1] === MASK_COLOR[1] && data[o + 2] === MASK_COLOR[2])
          outline++;
      }
      expect(outline, d.label).toBeGreaterThan(20);
    }
  }, 120_000);
});
