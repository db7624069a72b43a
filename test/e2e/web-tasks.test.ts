// The web app with every kind of model (issue 13), in Debian's headless Chromium: served by `sightline serve`,
// driven through the real controls, with small models made here (the built-in model is never run: its download
// is refused, so the page starts without it). Each page result is checked against the library in Node on the
// same photo and model files.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowConfidence, lowConfidenceWords } from '../../src/core/confidence.js';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { explain, labelOf, prepare } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { decodeNpy } from '../../src/io/npy.js';
import { loadModel } from '../../src/models/load.js';
import { CHROMIUM, launchChromium, startServe } from '../helpers/serve-app.js';
import { embedderProto, photo, positiveInside, segmenterProto, toPixels } from '../helpers/target-models.js';
import { scorerProto, taggerProto } from '../helpers/task-models.js';

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/web/', import.meta.url));
const HF_VIT = fileURLToPath(new URL('../fixtures/hf/hf-vit', import.meta.url));
const CHELSEA = fileURLToPath(new URL('../../examples/chelsea.png', import.meta.url));
const MINUTE = 60_000;

let server: ChildProcess;
let origin: string;
let browser: Browser;
let page: Page;
let scratch: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium, as .ci/run does.`);
  await mkdir(ARTIFACTS, { recursive: true });
  scratch = await mkdtemp(join(tmpdir(), 'sightline-web-tasks-'));
  ({ server, origin } = await startServe());
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  // These tests use their own small models: the 24 MB built-in one is not fetched.
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

async function modelLine(startsWith: string): Promise<string> {
  await page.waitForFunction(
    (s) => document.getElementById('model-line')?.textContent?.startsWith(s),
    startsWith,
    { timeout: MINUTE },
  );
  return (await page.textContent('#model-line')) ?? '';
}

async function message(): Promise<string> {
  await page.waitForSelector('#message:not([hidden])', { timeout: 30_000 });
  return (await page.textContent('#message')) ?? '';
}

async function shownPredictions(): Promise<string[]> {
  return page.$$eval('#predictions button', (b) => b.map((e) => e.textContent ?? ''));
}

/**
 * Waits for the map of `label` on the photo `width` pixels wide. A newly opened model first re-reads the last
 * photo, so each test's photo has a width of its own: the legend is cleared when a photo is taken and a map of
 * an earlier photo is never drawn over a later one. A refusal shown instead ends the wait with its words.
 */
async function legendFor(label: string, width: number): Promise<void> {
  const drawn = ([l, w]: readonly [string, number]) =>
    (document.querySelector<HTMLCanvasElement>('#overlay')?.width === w &&
      document.getElementById('legend-text')?.textContent?.includes(`map for “${l}”`)) ||
    !document.getElementById('message')?.hidden;
  await page.waitForFunction(drawn, [label, width] as const, { timeout: MINUTE });
  expect(await page.isHidden('#message'), (await page.textContent('#message')) ?? '').toBe(true);
}

/** The raw map as the page's "Download raw map (.npy)" saves it. */
async function rawMap(): Promise<{ width: number; data: Float32Array }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#save-npy')]);
  const path = join(scratch, file.suggestedFilename());
  await file.saveAs(path);
  const npy = decodeNpy(new Uint8Array(await readFile(path)));
  return { width: npy.shape[1], data: npy.data };
}

/**
 * The page's map equals the library's in Node for the same model, photo and target: onnxruntime-web and
 * onnxruntime-node both compute in float32, so they agree to float32 rounding (1e-4 of the map's range).
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

/** A photo as a PNG (lossless, so the browser's pixels are sharp's), `scale` times larger in both directions. */
async function savePhoto(name: string, image: ReturnType<typeof photo>, scale = 1): Promise<string> {
  const path = join(scratch, name);
  await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(image.width * scale, image.height * scale, { kernel: 'nearest' })
    .png()
    .toFile(path);
  return path;
}

/** A Hugging Face folder made here: config.json, preprocessor_config.json and onnx/model.onnx. */
async function hfFolder(name: string, onnx: Uint8Array, config: object, size: number): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  // Pixels / 255 with no normalisation, at the model's own size: the photos here are made at that size.
  await writeFile(
    join(dir, 'preprocessor_config.json'),
    JSON.stringify({
      do_resize: true,
      size: { height: size, width: size },
      do_center_crop: false,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: false,
      resample: 2,
    }),
  );
  await writeFile(join(dir, 'onnx', 'model.onnx'), onnx);
  return dir;
}

async function withModel<T>(path: string, use: (m: Model) => Promise<T>, hints = {}): Promise<T> {
  const model = await loadModel(path, hints);
  try {
    return await use(model);
  } finally {
    await model.dispose();
  }
}

describe('web app: every kind of model, in headless Chromium', () => {
  it(
    'opens a dropped Hugging Face folder: asks which ONNX file, refuses float16 in words, then predicts with its id2label labels as the library does',
    async () => {
      await page.setInputFiles('#model-folder-input', HF_VIT);
      await page.waitForSelector('#model-form:not([hidden])');
      // The configs say the size, layout and scaling: only the ONNX file is asked.
      expect(await page.isHidden('#layout-field')).toBe(true);
      expect(await page.isHidden('#normalization-field')).toBe(true);
      expect(await page.$$eval('#variant option', (o) => o.map((e) => e.textContent))).toEqual([
        'onnx/model.onnx',
        'onnx/model_fp16.onnx',
        'onnx/model_quantized.onnx',
      ]);
      expect(await page.textContent('#model-question')).toMatch(/^'hf-vit' is a Hugging Face model \(/);
      await page.selectOption('#variant', 'onnx/model_fp16.onnx');
      await page.click('#model-form button[type="submit"]');
      await page.waitForSelector('#message:not([hidden])');
      expect(await page.textContent('#message')).toMatch(
        /^'onnx\/model_fp16\.onnx' takes or gives float16 tensors \(.+\); Sightline runs float32 models only: pick the folder's model\.onnx or a float32 variant such as model_quantized\.onnx\.$/,
      );
      await page.selectOption('#variant', 'onnx/model.onnx');
      await page.click('#model-form button[type="submit"]');
      expect(await modelLine('Model: hf-vit')).toBe(
        'Model: hf-vit (onnx/model.onnx) · 5 classes · 32×32 input',
      );

      await page.setInputFiles('#photo-input', CHELSEA);
      await page.waitForFunction(() => document.querySelectorAll('#predictions button').length === 5, null, {
        timeout: MINUTE,
      });
      const shown = await shownPredictions();
      const expected = await withModel(HF_VIT, async (model) => {
        const prepared = await prepare({ model, image: await decodeImage(CHELSEA) });
        return prepared.predictions;
      });
      expect(expected.map((p) => p.label).sort()).toEqual([
        'astronaut',
        'coffee mug',
        'espresso',
        'saucer',
        'tabby cat',
      ]);
      expect(shown.map((t) => t.split(' — ')[0])).toEqual(expected.map((p) => p.label));
      shown.forEach((text, i) => {
        const percent = /(\d+)%$/.exec(text)?.[1];
        if (percent) expect(Math.abs(Number(percent) - expected[i].score * 100)).toBeLessThanOrEqual(1);
        else expect(text.endsWith(expected[i].score < 0.005 ? '<1%' : '>99%')).toBe(true);
      });
      await legendFor(expected[0].label, (await sharp(CHELSEA).metadata()).width!);
    },
    3 * MINUTE,
  );

  it(
    'refuses a folder without preprocessor_config.json and a malformed config in words, then opens a timm folder with its label_names',
    async () => {
      const bare = join(scratch, 'bare');
      await mkdir(join(bare, 'onnx'), { recursive: true });
      await writeFile(join(bare, 'config.json'), JSON.stringify({ model_type: 'vit', id2label: { 0: 'a' } }));
      await copyFile(join(HF_VIT, 'onnx', 'model.onnx'), join(bare, 'onnx', 'model.onnx'));
      await page.setInputFiles('#model-folder-input', bare);
      expect(await message()).toBe(
        'The dropped files have a Hugging Face config.json but no preprocessor_config.json, which says how to resize and normalise photos; expected a Hugging Face model (config.json, preprocessor_config.json and onnx/model.onnx, as transformers.js and Optimum export it) or a timm model (config.json and model.onnx). Drop the whole folder, or these files together.',
      );
      await writeFile(
        join(bare, 'preprocessor_config.json'),
        '{"size": {"shortest_edge": 41}, "image_mean": [0.5',
      );
      await page.setInputFiles('#model-folder-input', bare);
      await page.waitForFunction(() =>
        document.getElementById('message')?.textContent?.includes('not valid JSON'),
      );
      expect(await message()).toMatch(
        /^The model folder's preprocessor_config\.json is not valid JSON \(.+\); expected a JSON object\.$/,
      );
      // The model it had is kept.
      expect(await page.textContent('#model-line')).toMatch(/^Model: hf-vit/);

      const timm = fileURLToPath(new URL('../fixtures/hf/timm-net', import.meta.url));
      await page.setInputFiles('#model-folder-input', timm);
      expect(await modelLine('Model: timm-net')).toBe('Model: timm-net · 4 classes · 32×32 input');
      // The newly opened model reads the photo already there (chelsea).
      await page.waitForFunction(
        () => document.querySelector('#predictions button')?.textContent?.match(/^(cat|cup|plate|spoon) — /),
        null,
        { timeout: MINUTE },
      );
      const expected = await withModel(timm, async (model) => {
        const prepared = await prepare({ model, image: await decodeImage(CHELSEA), topK: 4 });
        return prepared.predictions.map((p) => p.label);
      });
      expect((await shownPredictions()).map((t) => t.split(' — ')[0])).toEqual(expected);
    },
    2 * MINUTE,
  );

  it(
    'refuses a folder whose id2label names another number of classes than its ONNX file gives scores, as the command line does',
    async () => {
      const dir = join(scratch, 'hf-vit-2-labels');
      await mkdir(dir);
      await copyFile(join(HF_VIT, 'preprocessor_config.json'), join(dir, 'preprocessor_config.json'));
      await mkdir(join(dir, 'onnx'));
      await copyFile(join(HF_VIT, 'onnx', 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
      const config = JSON.parse(await readFile(join(HF_VIT, 'config.json'), 'utf8'));
      await writeFile(
        join(dir, 'config.json'),
        JSON.stringify({ ...config, id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 } }),
      );
      await page.setInputFiles('#model-folder-input', dir);
      expect(await message()).toBe(
        "The folder's config.json names 2 classes (id2label), but 'onnx/model.onnx' gives 5 scores per image; expected one name per score: is the config from the same checkpoint as the ONNX file? (drop the folder whose config.json came with this ONNX file, or the ONNX file alone to name the labels in the form)",
      );
      expect(await page.textContent('#model-line')).toBe("'hf-vit-2-labels' could not be opened.");
    },
    MINUTE,
  );

  it(
    'opens a scorer from its files picked together, shows its score as a number and draws its map with no low-confidence note',
    async () => {
      const patch = { x0: 8, y0: 8, x1: 24, y1: 24 };
      const dir = await hfFolder(
        'scorer',
        encodeModel(scorerProto(patch, 32, true)),
        { model_type: 'resnet', problem_type: 'regression', id2label: { 0: 'on-brand' } },
        32,
      );
      const files = ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'].map((f) => join(dir, f));
      await page.setInputFiles('#model-input', files);
      expect(await modelLine('Model: model.onnx')).toBe('Model: model.onnx · a score · 32×32 input');
      const image = await savePhoto('scorer-photo.png', photo(3, [{ patch, rgb: [200, 180, 40] }]));
      await page.setInputFiles('#photo-input', image);
      await legendFor('on-brand', 32);
      const shown = await shownPredictions();
      const value = await withModel(dir, async (model) => {
        const prepared = await prepare({ model, image: await decodeImage(image) });
        return prepared.predictions[0].score;
      });
      expect(shown).toEqual([`on-brand — ${value.toPrecision(4)}`]);
      expect(await page.$$eval('#predictions meter', (m) => m.length)).toBe(0);
      // No low-confidence note (a score has no probability to be low). The map itself is one value everywhere
      // on this photo of one solid patch, which the note says instead.
      expect(await page.textContent('#map-note')).toMatch(
        /^Note: The map has the same value at every pixel: by this method every pixel counts alike for 'on-brand', so the overlay shows no place above another\.$/,
      );
    },
    2 * MINUTE,
  );

  it(
    'says in words when the map is the same at every pixel, as the CLI does',
    async () => {
      // The score is the mean of the whole photo: its gradient, hence the map, is the same everywhere.
      const whole = { x0: 0, y0: 0, x1: 32, y1: 32 };
      const dir = await hfFolder(
        'flat-scorer',
        encodeModel(scorerProto(whole, 32, true)),
        { model_type: 'resnet', problem_type: 'regression', id2label: { 0: 'brightness' } },
        32,
      );
      const files = ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'].map((f) => join(dir, f));
      await page.setInputFiles('#model-input', files);
      await modelLine('Model: model.onnx');
      // The vanilla gradient, whose map here is ∂σ(mean)/∂x, the same at every pixel whatever the photo (an
      // earlier test may have left another method chosen).
      await page.selectOption('#method', 'gradient');
      const image = await savePhoto('flat-photo.png', photo(4, []));
      await page.setInputFiles('#photo-input', image);
      await page.waitForFunction(
        () =>
          document
            .getElementById('legend-text')
            ?.textContent?.startsWith('Vanilla gradient map for “brightness”'),
        undefined,
        { timeout: MINUTE },
      );
      await legendFor('brightness', 32);
      expect(await page.isHidden('#map-note')).toBe(false);
      expect(await page.textContent('#map-note')).toMatch(
        /^Note: The map has the same value at every pixel: by this method every pixel counts alike for 'brightness'/,
      );
      // The menu keeps a user's choice for the next model: back to the default the later tests draw with.
      await page.selectOption('#method', 'grad-cam');
      await page.waitForFunction(
        () =>
          document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM map for “brightness”'),
        undefined,
        { timeout: MINUTE },
      );
    },
    2 * MINUTE,
  );

  it(
    'shows a segmenter’s mask and pixel shares; clicking a class on the mask draws its map over its own region',
    async () => {
      // Class 1 ('road') owns the top-left quarter of the cells, class 2 ('car') the bottom-right; car's scores
      // read the bottom-left quarter, so its map belongs there, not on its own cells.
      const reads = [
        { x0: 4, y0: 0, x1: 8, y1: 4 },
        { x0: 0, y0: 4, x1: 4, y1: 8 },
      ] as const;
      const owns = [
        { x0: 0, y0: 0, x1: 4, y1: 4 },
        { x0: 4, y0: 4, x1: 8, y1: 8 },
      ] as const;
      const dir = await hfFolder(
        'segmenter',
        encodeModel(segmenterProto(reads, owns)),
        { model_type: 'segformer', id2label: { 0: 'background', 1: 'road', 2: 'car' } },
        32,
      );
      await page.setInputFiles('#model-folder-input', dir);
      expect(await modelLine('Model: segmenter')).toBe('Model: segmenter · segments 3 classes · 32×32 input');
      // 64 × 64, resized to the model's 32 × 32 by its preprocessor; the mask (and map) are drawn at 64 × 64,
      // which also tells them from those of the last photo, re-read by this model when it opened.
      const small = photo(5, [{ patch: toPixels(reads[1]), rgb: [60, 60, 60] }]);
      const image = await savePhoto('street.png', small, 2);
      await page.setInputFiles('#photo-input', image);
      await page.waitForFunction(
        () => {
          const mask = document.querySelector<HTMLCanvasElement>('#mask');
          return mask && !mask.hidden && mask.width === 64;
        },
        null,
        { timeout: MINUTE },
      );
      const expected = await withModel(dir, async (model) => {
        const prepared = await prepare({ model, image: await decodeImage(image) });
        return prepared.predictions;
      });
      expect(expected.map((p) => [p.label, p.score])).toEqual([
        ['background', 0.5],
        ['road', 0.25],
        ['car', 0.25],
      ]);
      expect(await shownPredictions()).toEqual([
        'background — 50% of pixels',
        'road — 25% of pixels',
        'car — 25% of pixels',
      ]);
      await legendFor('background', 64);
      // The mask: each photo pixel blended 55% towards its class's colour (car's cells bottom right, background
      // top right), through the crop the model saw (all of this photo).
      for (const [x, y, colour] of [
        [52, 52, [44, 160, 44]],
        [52, 8, [31, 119, 180]],
      ] as const) {
        const drawn = await page.evaluate(
          ([px, py]) => [
            ...document
              .querySelector<HTMLCanvasElement>('#mask')!
              .getContext('2d')!
              .getImageData(px, py, 1, 1).data,
          ],
          [x, y],
        );
        colour.forEach((c, k) => {
          const p = small.data[((y >> 1) * 32 + (x >> 1)) * 3 + k];
          expect(
            Math.abs(drawn[k] - (p + 0.55 * (c - p))),
            `${x},${y}: ${drawn} ${p} ${c} ${k}`,
          ).toBeLessThanOrEqual(0.5);
        });
      }
      // A click on car's cells explains car.
      const mask = page.locator('#mask');
      const box = (await mask.boundingBox())!;
      // locator.click scrolls the mask into view first (a raw mouse click off screen lands nowhere).
      await mask.click({ position: { x: box.width * 0.8, y: box.height * 0.8 } });
      await legendFor('car', 64);
      const map = await rawMap();
      const read = toPixels(reads[1]);
      const inPhoto = { x0: 2 * read.x0, y0: 2 * read.y0, x1: 2 * read.x1, y1: 2 * read.y1 };
      expect(map.width).toBe(64);
      expect(positiveInside(map.data, map.width, inPhoto)).toBeGreaterThan(0.8);
      const library = await withModel(dir, async (model) => {
        const r = await explain({
          model,
          image: await decodeImage(image),
          method: 'grad-cam',
          target: 'car',
        });
        return r.map.data;
      });
      expectSameMap(map.data, library);
      await page.screenshot({ path: join(ARTIFACTS, 'segmenter-1280.png'), fullPage: true });
    },
    2 * MINUTE,
  );

  it(
    'opens a tagger’s files dropped on the page and says beside the map that a tag under 10% is unlikely, in the library’s words',
    async () => {
      const patches = [
        { x0: 0, y0: 0, x1: 16, y1: 16 },
        { x0: 16, y0: 16, x1: 32, y1: 32 },
      ] as const;
      const head = { scale: [4, 4] as const, bias: [2, -5] as const };
      const dir = await hfFolder(
        'tagger',
        encodeModel(taggerProto(patches, head, 32)),
        {
          model_type: 'resnet',
          problem_type: 'multi_label_classification',
          id2label: { 0: 'dog', 1: 'leash' },
        },
        32,
      );
      // Its files dropped together on the photo's drop zone (a drop, not a picker, as a user drags them).
      const files = await Promise.all(
        ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'].map(async (f) => ({
          name: f.split('/').pop()!,
          bytes: [...(await readFile(join(dir, f)))],
        })),
      );
      const dataTransfer = await page.evaluateHandle((dropped) => {
        const data = new DataTransfer();
        for (const f of dropped) data.items.add(new File([new Uint8Array(f.bytes)], f.name));
        return data;
      }, files);
      await page.dispatchEvent('#drop', 'drop', { dataTransfer });
      expect(await modelLine('Model: model.onnx')).toBe('Model: model.onnx · 2 tags · 32×32 input');
      const image = await savePhoto('walk.png', photo(9, []), 3);
      await page.setInputFiles('#photo-input', image);
      await legendFor('dog', 96);
      // 'dog' is likely: no low-confidence note. Its map is zero at every pixel on this photo of noise alone,
      // which is said instead.
      expect(await page.textContent('#map-note')).toBe(
        "Note: The map is zero at every pixel: by this method nothing in the photo counts for 'dog', so the overlay shows no place above another.",
      );
      const { shown, note } = await withModel(dir, async (model) => {
        const prepared = await prepare({ model, image: await decodeImage(image) });
        const low = lowConfidence(model.spec, prepared.scores.data, 1, (i) => labelOf(model, i));
        return {
          shown: prepared.predictions.map((p) => `${p.label} — ${Math.round(p.score * 100)}%`),
          note: low && lowConfidenceWords(low, 'leash', 'tag'),
        };
      });
      expect(await shownPredictions()).toEqual(shown);
      expect(note).toMatch(/^'leash' has \d\.\d% probability \(under 10\.0%\)/);
      await page.click('#predictions button[data-index="1"]');
      await legendFor('leash', 96);
      await page.waitForSelector('#map-note:not([hidden])');
      // The low-confidence note, after the flat map's (this map is zero at every pixel too).
      const text = await page.textContent('#map-note');
      expect(text).toContain(`Note: ${note}`);
      expect(text?.endsWith(`Note: ${note}`)).toBe(true);
    },
    2 * MINUTE,
  );

  it(
    'explains an embedding model’s similarity to a reference photo: the map is in the patch they share',
    async () => {
      const onnx = join(scratch, 'embedder.onnx');
      await writeFile(onnx, encodeModel(embedderProto()));
      await page.setInputFiles('#model-input', onnx);
      await page.waitForSelector('#model-form:not([hidden])');
      await page.selectOption('#normalization', 'unit');
      await page.selectOption('#task', 'embed');
      await page.click('#model-form button[type="submit"]');
      expect(await modelLine('Model: embedder.onnx')).toBe(
        'Model: embedder.onnx · embeddings of 192 numbers · 32×32 input',
      );
      const shared = { x0: 0, y0: 0, x1: 16, y1: 16 };
      const one = await savePhoto(
        'one.png',
        photo(11, [
          { patch: shared, rgb: [230, 30, 30] },
          { patch: { x0: 20, y0: 20, x1: 32, y1: 32 }, rgb: [30, 230, 30] },
        ]),
        4,
      );
      const other = await savePhoto(
        'other.png',
        photo(12, [
          { patch: shared, rgb: [230, 30, 30] },
          { patch: { x0: 20, y0: 0, x1: 32, y1: 12 }, rgb: [30, 30, 230] },
        ]),
        4,
      );
      await page.setInputFiles('#photo-input', one);
      await page.waitForSelector('#reference-field:not([hidden])', { timeout: MINUTE });
      expect(await page.textContent('#predictions-note')).toMatch(
        /^An embedding of 192 numbers: choose a reference photo/,
      );
      await page.setInputFiles('#reference-input', other);
      await legendFor('similarity to the reference', 128);
      const { cosine, library } = await withModel(
        onnx,
        async (model) => {
          const request = { model, image: await decodeImage(one), reference: await decodeImage(other) };
          const r = await explain({ ...request, method: 'grad-cam' });
          return { cosine: r.predictions[0].score, library: r.map.data };
        },
        { mean: [0], std: [1], task: 'embed' },
      );
      expect(cosine).toBeGreaterThan(0.2);
      expect(cosine).toBeLessThan(0.9);
      expect(await shownPredictions()).toEqual([`similarity to the reference — ${cosine.toPrecision(4)}`]);
      const map = await rawMap();
      expect(map.width).toBe(128);
      expect(positiveInside(map.data, map.width, { x0: 0, y0: 0, x1: 64, y1: 64 })).toBeGreaterThan(0.8);
      expectSameMap(map.data, library);
    },
    2 * MINUTE,
  );
});
