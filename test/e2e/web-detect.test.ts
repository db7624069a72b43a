// The web app with an object detector (issue 14), in Debian's headless Chromium: served by `sightline serve`,
// driven through the real controls (the built-in model is never run: its download is refused). The detector is
// the hand-set YOLOv8-style square detector of scripts/golden/detectors.py (test/fixtures/detectors), dropped
// with a labels file; the photo is its test image saved twice the size and not square (128 × 96), so the
// letterbox and its mapping back are on the path. The page's detections and maps are checked against the
// library in Node on the same files.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributionMap } from '../../src/core/attribution.js';
import type { Model } from '../../src/core/model.js';
import { detectPhoto, type PhotoDetection } from '../../src/explain/detect.js';
import { explain } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { decodeNpy } from '../../src/io/npy.js';
import { regionAttention } from '../../src/metrics/index.js';
import { loadModel } from '../../src/models/load.js';
import { MASK_COLOR } from '../../src/render/masks.js';
import { writeSquaresPhoto } from '../helpers/detector-photo.js';
import { CHROMIUM, launchChromium, startServe } from '../helpers/serve-app.js';
import { massInside } from '../helpers/task-models.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));
const LABELS = ['red', 'green', 'blue'];
/** The fixture's reference decode uses Ultralytics' IoU 0.45; the form's default is the library's 0.7. */
const HINTS = { labels: LABELS, iouThreshold: 0.45 };
const MINUTE = 60_000;

let server: ChildProcess;
let origin: string;
let browser: Browser;
let page: Page;
let scratch: string;
const at = (name: string) => join(scratch, name);

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium, as .ci/run does.`);
  scratch = await mkdtemp(join(tmpdir(), 'sightline-web-detect-'));
  await copyFile(`${FIXTURES}yolov8.onnx`, at('det.onnx'));
  await writeFile(at('labels.txt'), `${LABELS.join('\n')}\n`);
  await writeSquaresPhoto(at('photo.png'));

  ({ server, origin } = await startServe());
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  // This test uses its own small model: the 24 MB built-in one is not fetched.
  await page.route('**/models/default/**', (route) => route.abort());
  await page.goto(`${origin}/`);
  // The built-in model starts only when a photo needs one: nothing is loading.
  expect(await page.textContent('#model-line')).toMatch(/^No model yet/);
}, MINUTE);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGINT');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function withModel<T>(use: (m: Model) => Promise<T>, path = at('det.onnx')): Promise<T> {
  const model = await loadModel(path, HINTS);
  try {
    return await use(model);
  } finally {
    await model.dispose();
  }
}

/** Waits for the map for `label` (a detection's label and rank, as the library names its target). */
async function legendFor(label: string): Promise<void> {
  await page.waitForFunction(
    (l) =>
      document.getElementById('legend-text')?.textContent?.includes(`map for “${l}”`) ||
      !document.getElementById('message')?.hidden,
    label,
    { timeout: 2 * MINUTE },
  );
  expect(await page.isHidden('#message'), (await page.textContent('#message')) ?? '').toBe(true);
}

/** The raw map as the page's "Download raw map (.npy)" saves it. */
async function rawMap(): Promise<{ width: number; data: Float32Array }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#save-npy')]);
  const path = at(`${Date.now()}-${file.suggestedFilename()}`);
  await file.saveAs(path);
  const npy = decodeNpy(new Uint8Array(await readFile(path)));
  return { width: npy.shape[1], data: npy.data };
}

/**
 * The page's map equals the library's in Node for the same model, photo, method and (default) seed:
 * onnxruntime-web and onnxruntime-node both compute in float32, so they agree to float32 rounding (1e-4 of the
 * map's range).
 */
function expectSameMap(shown: Float32Array, library: ArrayLike<number>): void {
  expect(shown.length).toBe(library.length);
  let range = 0;
  let diff = 0;
  for (let i = 0; i < shown.length; i++) {
    range = Math.max(range, Math.abs(library[i]));
    diff = Math.max(diff, Math.abs(shown[i] - library[i]));
  }
  expect(range).toBeGreaterThan(0);
  expect(diff).toBeLessThanOrEqual(1e-4 * range);
}

/** The library's map of detection `target` with the method's defaults (D-RISE: 1000 masks, seed 0). */
async function libraryMap(target: number, method = 'd-rise', path?: string): Promise<AttributionMap> {
  return withModel(async (model) => {
    const result = await explain({
      model,
      image: await decodeImage(at('photo.png')),
      method,
      target,
    });
    return result.map;
  }, path);
}

/** A point of the photo (in its pixels) as page coordinates on the canvas the user clicks and drags on. */
async function onPhoto(x: number, y: number): Promise<{ x: number; y: number }> {
  const canvas = page.locator('#boxes');
  await canvas.scrollIntoViewIfNeeded();
  const rect = (await canvas.boundingBox())!;
  return { x: rect.x + (x / 128) * rect.width, y: rect.y + (y / 96) * rect.height };
}

describe('web app: an object detector, in headless Chromium', () => {
  it(
    'asks the detect settings, lists the detections as the library does, draws D-RISE maps for the clicked one (list or box) and its Grad-CAM map equal to the library’s, and measures a marked area',
    async () => {
      await page.setInputFiles('#labels-input', at('labels.txt'));
      await page.setInputFiles('#model-input', at('det.onnx'));
      await page.waitForSelector('#model-form:not([hidden])');
      // The outputs say "detector": the form asks its settings and scales pixels as the library does for one.
      expect(await page.isVisible('#detect-field')).toBe(true);
      expect(await page.inputValue('#normalization')).toBe('model');
      expect(
        await page.$$eval('#detect-format option', (o) => o.map((e) => (e as HTMLOptionElement).value)),
      ).toEqual(['', 'yolov8', 'yolov5', 'yolov8-seg', 'yolov5-seg', 'post-nms', 'post-nms-tensor']);
      await page.fill('#iou-threshold', '0.45');
      await page.click('#model-form button[type="submit"]');
      await page.waitForFunction(() =>
        document.getElementById('model-line')?.textContent?.startsWith('Model: det'),
      );
      expect(await page.textContent('#model-line')).toBe('Model: det.onnx · detects 3 classes · 64×64 input');

      await page.setInputFiles('#photo-input', at('photo.png'));
      const expected: readonly PhotoDetection[] = await withModel(async (model) => {
        const found = await detectPhoto(model, await decodeImage(at('photo.png')));
        return found.detections;
      });
      expect(expected.map((d) => d.label).sort()).toEqual(['blue', 'green', 'red']);
      await page.waitForFunction(
        (n) => document.querySelectorAll('#predictions button').length === n,
        expected.length,
        { timeout: MINUTE },
      );
      const shown = await page.$$eval('#predictions button', (b) =>
        b.map((e) => ({ text: e.textContent ?? '', box: (e as HTMLElement).dataset.box ?? '' })),
      );
      expect(await page.textContent('#predictions-title')).toContain('What it finds, box by box');
      shown.forEach((s, i) => {
        const d = expected[i];
        // A detection's score is a number, never a class percentage.
        expect(s.text).not.toContain('%');
        expect(s.text).toBe(
          `${d.label} — ${d.score.toFixed(2)} at ${d.box.map((v) => Math.round(v)).join(', ')}`,
        );
        const box = s.box.split(',').map(Number);
        expect(box).toHaveLength(4);
        for (let k = 0; k < 4; k++) expect(Math.abs(box[k] - d.box[k])).toBeLessThanOrEqual(0.5);
      });
      // The letterbox is undone: each square's box is twice its input box, clipped to the photo.
      const ref = JSON.parse(await readFile(`${FIXTURES}yolov8.ref.json`, 'utf8'));
      for (const square of ref.squares as { box: number[]; class: number }[]) {
        const d = expected.find((e) => e.classIndex === square.class)!;
        const want = [
          square.box[0] * 2,
          square.box[1] * 2,
          Math.min(128, square.box[2] * 2),
          Math.min(96, square.box[3] * 2),
        ];
        for (let k = 0; k < 4; k++) expect(Math.abs(d.box[k] - want[k])).toBeLessThanOrEqual(1);
      }

      // D-RISE is a detector's default method; the top detection is explained first.
      await legendFor(`${expected[0].label} #0`);
      expect(await page.inputValue('#method')).toBe('d-rise');
      expect(await page.textContent('#legend-text')).toMatch(/^D-RISE map for /);

      // A click on the second list entry explains it.
      await page.click('#predictions button[data-index="1"]');
      await legendFor(`${expected[1].label} #1`);
      const second = await rawMap();
      expect(second.width).toBe(128);
      expectSameMap(second.data, (await libraryMap(1)).data);
      expect(await page.getAttribute('#predictions button[data-index="1"]', 'aria-pressed')).toBe('true');

      // A click inside the third detection's box on the photo explains that one.
      const [x0, y0, x1, y1] = expected[2].box;
      const centre = await onPhoto((x0 + x1) / 2, (y0 + y1) / 2);
      await page.mouse.click(centre.x, centre.y);
      await legendFor(`${expected[2].label} #2`);
      const third = await rawMap();
      const thirdMap = await libraryMap(2);
      expectSameMap(third.data, thirdMap.data);
      expect(await page.getAttribute('#predictions button[data-index="2"]', 'aria-pressed')).toBe('true');
      expect(await page.getAttribute('#predictions button[data-index="1"]', 'aria-pressed')).toBe('false');

      // Marking the detection's own box gives the region verdict, measured as the library measures it.
      const from = await onPhoto(x0, y0);
      const to = await onPhoto(x1, y1);
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      await page.mouse.move(to.x, to.y, { steps: 4 });
      await page.mouse.up();
      await page.waitForFunction(() => document.getElementById('verdict-numbers')?.textContent !== '');
      const numbers = (await page.textContent('#verdict-numbers')) ?? '';
      const share = Number(/^Inside the marked area: (\d+)% of the attention/.exec(numbers)?.[1]);
      // The page measures evidence for the detection (the positive part) of a signed map, as the CLI does.
      const library = regionAttention(thirdMap, [{ x: x0, y: y0, width: x1 - x0, height: y1 - y0 }], {
        mode: thirdMap.signed ? 'positive' : 'absolute',
      });
      // The drag lands on whole CSS pixels, so the marked box may differ from the detection's by a pixel.
      expect(Math.abs(share - library.share * 100)).toBeLessThanOrEqual(3);

      // A raw layout offers gradients through the library's box-target head: Grad-CAM of the same detection.
      await page.selectOption('#method', 'grad-cam');
      await page.waitForFunction(
        () =>
          document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM map for') ||
          !document.getElementById('message')?.hidden,
        null,
        { timeout: 2 * MINUTE },
      );
      await legendFor(`${expected[2].label} #2`);
      const cam = await rawMap();
      expectSameMap(cam.data, (await libraryMap(2, 'grad-cam')).data);
      // And it is on that square: the library measured 0.998–1.0 of Grad-CAM's mass inside on these fixtures.
      const square = { x0: Math.floor(x0), y0: Math.floor(y0), x1: Math.ceil(x1), y1: Math.ceil(y1) };
      expect(massInside(cam.data, cam.width, square)).toBeGreaterThanOrEqual(0.9);
    },
    5 * MINUTE,
  );

  it(
    'says in words that nothing was found above the score threshold the form set, and draws no map',
    async () => {
      // Another name: the same file picked again would fire no change.
      await copyFile(at('det.onnx'), at('strict.onnx'));
      await page.setInputFiles('#model-input', at('strict.onnx'));
      await page.waitForSelector('#model-form:not([hidden])');
      // The squares score 0.95–0.9999: none is kept above 1.
      await page.fill('#score-threshold', '1');
      await page.click('#model-form button[type="submit"]');
      // The newly opened model reads the photo already there.
      await page.waitForSelector('#predictions-note:not([hidden])', { timeout: MINUTE });
      expect(await page.textContent('#predictions-note')).toBe(
        'The detector found nothing in this photo above its score threshold. To see weaker detections, drop the model again and lower “Keep detections scoring above”.',
      );
      expect(await page.$$eval('#predictions button', (b) => b.length)).toBe(0);
      expect(await page.isHidden('#legend')).toBe(true);
      expect(await page.isHidden('#message')).toBe(true);
    },
    2 * MINUTE,
  );

  it(
    'lists a post-NMS detector’s boxes as the library does, draws its D-RISE map as the library does, and offers no gradient method (it says why)',
    async () => {
      await copyFile(`${FIXTURES}postnms.onnx`, at('postnms.onnx'));
      await page.setInputFiles('#labels-input', at('labels.txt'));
      await page.setInputFiles('#model-input', at('postnms.onnx'));
      await page.waitForSelector('#model-form:not([hidden])');
      expect(await page.isVisible('#detect-field')).toBe(true);
      await page.click('#model-form button[type="submit"]');
      const expected = await withModel(
        async (model) => (await detectPhoto(model, await decodeImage(at('photo.png')))).detections,
        at('postnms.onnx'),
      );
      expect(expected).toHaveLength(3);
      await page.waitForFunction(
        (n) => document.querySelectorAll('#predictions button').length === n,
        expected.length,
        { timeout: MINUTE },
      );
      const shown = await page.$$eval('#predictions button', (b) => b.map((e) => e.textContent ?? ''));
      expect(shown).toEqual(
        expected.map(
          (d) => `${d.label} — ${d.score.toFixed(2)} at ${d.box.map((v) => Math.round(v)).join(', ')}`,
        ),
      );
      await legendFor(`${expected[0].label} #0`);
      expect(await page.inputValue('#method')).toBe('d-rise');
      // Its graph ends past NMS: no gradients, so the gradient methods are offered disabled with the reason.
      const gradCam = await page.$eval('#method option[value="grad-cam"]', (o) => ({
        disabled: (o as HTMLOptionElement).disabled,
        title: (o as HTMLOptionElement).title,
      }));
      expect(gradCam).toEqual({ disabled: true, title: 'needs gradients, which this model does not offer' });
      const map = await rawMap();
      expectSameMap(map.data, (await libraryMap(0, 'd-rise', at('postnms.onnx'))).data);
    },
    2 * MINUTE,
  );

  it(
    'outlines a YOLOv8-seg detector’s masks with its boxes, each around its own detection',
    async () => {
      await copyFile(`${FIXTURES}yolov8_seg.onnx`, at('seg.onnx'));
      await page.setInputFiles('#labels-input', at('labels.txt'));
      await page.setInputFiles('#model-input', at('seg.onnx'));
      await page.waitForSelector('#model-form:not([hidden])');
      await page.fill('#iou-threshold', '0.45');
      await page.fill('#score-threshold', '0.25');
      await page.click('#model-form button[type="submit"]');
      const expected = await withModel(
        async (model) => (await detectPhoto(model, await decodeImage(at('photo.png')))).detections,
        at('seg.onnx'),
      );
      expect(expected.map((d) => d.mask !== undefined)).toEqual([true, true, true]);
      await page.waitForFunction(
        (n) => document.querySelectorAll('#predictions button').length === n,
        expected.length,
        { timeout: MINUTE },
      );
      // The previous model's map of 'red #0' may still be up: wait for this model's own (as the library's).
      const want = (await libraryMap(0, 'd-rise', at('seg.onnx'))).data;
      await expect
        .poll(
          async () => {
            const shown = (await rawMap()).data;
            let diff = 0;
            for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(shown[i] - want[i]));
            return diff;
          },
          { timeout: 2 * MINUTE, interval: 500 },
        )
        .toBeLessThanOrEqual(1e-4 * Math.max(...want.map(Math.abs)));
      await legendFor(`${expected[0].label} #0`);
      // The overlay canvas (photo pixels) with the map drawn: the masks' outline colour, only near the boxes.
      const pixels = await page.$eval('#overlay', (c) => {
        const canvas = c as HTMLCanvasElement;
        return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
      });
      const near = new Array(expected.length).fill(0);
      for (let p = 0; p < 128 * 96; p++) {
        const o = p * 4;
        if (pixels[o] !== MASK_COLOR[0] || pixels[o + 1] !== MASK_COLOR[1] || pixels[o + 2] !== MASK_COLOR[2])
          continue;
        const x = p % 128;
        const y = Math.floor(p / 128);
        const owner = expected.findIndex(
          (d) => x >= d.box[0] - 8 && x < d.box[2] + 8 && y >= d.box[1] - 8 && y < d.box[3] + 8,
        );
        expect(owner, `outline pixel ${x},${y} near no detection`).toBeGreaterThanOrEqual(0);
        near[owner]++;
      }
      for (const n of near) expect(n).toBeGreaterThan(20);
    },
    3 * MINUTE,
  );
});
