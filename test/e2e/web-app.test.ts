// The web app, end to end, in Debian's headless Chromium: served by `sightline serve` as a user starts it,
// driven through its real controls, the default model running in onnxruntime-web inside the page's worker.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocess } from '../../src/core/preprocess.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { rankPredictions } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { decodeNpy } from '../../src/io/npy.js';
import { METHODS } from '../../src/methods/registry.js';
import { loadModel } from '../../src/models/load.js';
import { SHARED_IMAGES } from '../helpers/cli.js';
import {
  dropPhoto,
  type MainThreadReport,
  pageNow,
  untilGradCam,
  watchMainThread,
} from '../helpers/main-thread.js';
import { DOG_BOX } from '../helpers/regions.js';
import { CHROMIUM, launchChromium, startServe } from '../helpers/serve-app.js';
import { scorerProto } from '../helpers/task-models.js';
import { randomizeWeights, saveArtifacts, teachableMachineModel, tfReady } from '../helpers/tfjs-models.js';

/** Screenshots and downloads land here for people (and CI) to look at. */
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/web/', import.meta.url));
/** The drop → first Grad-CAM timings, for `npm run bench` to print (scripts/bench.mjs, section web). */
const WEB_TIMING = fileURLToPath(new URL('../../tmp/web-timing.json', import.meta.url));
/** ImageNet's dog breeds in the default model's 1001 labels (index 0 is background): Chihuahua … Mexican hairless. */
const DOGS = { first: 152, last: 269 };
const MINUTE = 60_000;
const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
const TM_LABELS = ['cat', 'dog', 'cup', 'person'];
/** metadata.json as Teachable Machine writes it beside an image model. */
const TM_METADATA = {
  tfjsVersion: '1.3.1',
  tmVersion: '2.4.10',
  packageVersion: '0.8.4',
  packageName: '@teachablemachine/image',
  modelName: 'tm-my-image-model',
  labels: TM_LABELS,
  imageSize: 64,
};

let server: ChildProcess;
let origin: string;
let browser: Browser;
let page: Page;
let scratch: string;
/** The first Grad-CAM of the session: its gradient graph was built in the worker on the way. */
let firstMap: MainThreadReport | undefined;
const requests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does.`,
    );
  }
  await mkdir(ARTIFACTS, { recursive: true });
  scratch = await mkdtemp(join(tmpdir(), 'sightline-web-'));
  ({ server, origin } = await startServe());
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  context.on('request', (request) => {
    requests.push(request.url());
  });
  await page.goto(`${origin}/`);
}, MINUTE);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGINT');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function modelReady(): Promise<void> {
  await page.waitForFunction(
    () => document.getElementById('model-line')?.textContent?.startsWith('Model:'),
    null,
    {
      timeout: 2 * MINUTE,
    },
  );
}

async function message(): Promise<string> {
  await page.waitForSelector('#message:not([hidden])', { timeout: 30_000 });
  return (await page.textContent('#message')) ?? '';
}

/** Samples of the heat-map canvas: RGBA of every 4th pixel in each direction, with the canvas size. */
async function overlayPixels(): Promise<{ width: number; height: number; step: number; data: number[] }> {
  return page.evaluate(() => {
    const canvas = document.getElementById('overlay') as HTMLCanvasElement;
    const { width, height } = canvas;
    const all = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
    const step = 4;
    const data: number[] = [];
    for (let y = 0; y < height; y += step)
      for (let x = 0; x < width; x += step) {
        const p = (y * width + x) * 4;
        data.push(all[p], all[p + 1], all[p + 2]);
      }
    return { width, height, step, data };
  });
}

/** Mean and spread of red minus blue (turbo runs from blue, little attention, to red, much) in and out of a box. */
function heat(drawn: Awaited<ReturnType<typeof overlayPixels>>, box: readonly number[]) {
  const [x0, y0, x1, y1] = box;
  const inside: number[] = [];
  const outside: number[] = [];
  let i = 0;
  for (let y = 0; y < drawn.height; y += drawn.step)
    for (let x = 0; x < drawn.width; x += drawn.step) {
      (x >= x0 && x < x1 && y >= y0 && y < y1 ? inside : outside).push(drawn.data[i] - drawn.data[i + 2]);
      i += 3;
    }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const all = [...inside, ...outside];
  const m = mean(all);
  return {
    inside: mean(inside),
    outside: mean(outside),
    spread: Math.sqrt(mean(all.map((v) => (v - m) ** 2))),
  };
}

async function download(button: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const path = join(ARTIFACTS, file.suggestedFilename());
  await file.saveAs(path);
  return path;
}

describe('web app in headless Chromium', () => {
  it(
    'starts the built-in model in the browser when asked (or when a photo first needs a model)',
    async () => {
      expect(await page.textContent('#model-line')).toMatch(/^No model yet/);
      await page.click('#default-model');
      await modelReady();
      expect(await page.textContent('#model-line')).toContain(
        'ImageNet InceptionV3 (built in) · 1001 classes',
      );
      // The photo and the model stay in the page: `sightline serve` makes it cross-origin isolated for threads.
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    },
    3 * MINUTE,
  );

  it(
    'refuses a text file named .jpg, an empty file and a 12000×12000 PNG with a clear message',
    async () => {
      await page.setInputFiles('#photo-input', {
        name: 'notes.jpg',
        mimeType: 'image/jpeg',
        buffer: Buffer.from('These are my shopping notes, not a photo.\n'),
      });
      expect(await message()).toBe(
        "'notes.jpg' is not an image (expected JPEG, PNG, WebP, GIF or BMP); its first bytes are text ('These are my sho…').",
      );

      await page.setInputFiles('#photo-input', {
        name: 'empty.png',
        mimeType: 'image/png',
        buffer: Buffer.alloc(0),
      });
      await page.waitForFunction(() =>
        document.getElementById('message')?.textContent?.includes('empty.png'),
      );
      expect(await message()).toBe(
        "'empty.png' is empty (0 bytes); expected JPEG, PNG, WebP, GIF or BMP data.",
      );

      const huge = join(scratch, 'huge.png');
      await sharp({ create: { width: 12000, height: 12000, channels: 3, background: '#7a8a99' } })
        .png({ compressionLevel: 9 })
        .toFile(huge);
      await page.setInputFiles('#photo-input', huge);
      await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('huge.png'));
      expect(await message()).toBe(
        "'huge.png' is 12000×12000 = 144 megapixels, over the limit of 50 megapixels; pass a higher maxPixels to allow it.",
      );
      // Nothing was half-loaded: no predictions, no map.
      expect(await page.isHidden('#predictions-box')).toBe(true);
      expect(await page.isHidden('#map-section')).toBe(true);
    },
    2 * MINUTE,
  );

  it(
    'predicts the dog photo and draws a Grad-CAM map on the dog',
    async () => {
      await watchMainThread(page);
      const given = await pageNow(page);
      await page.setInputFiles('#photo-input', join(SHARED_IMAGES, 'dog.jpg'));
      // The message from the failed uploads goes once a good photo comes.
      await page.waitForSelector('#predictions li', { timeout: MINUTE });
      expect(await page.isHidden('#message')).toBe(true);
      const items = await page.$$eval('#predictions button', (buttons) =>
        buttons.map((b) => ({ index: Number(b.getAttribute('data-index')), text: b.textContent ?? '' })),
      );
      expect(items).toHaveLength(5);
      expect(items[0].index).toBeGreaterThanOrEqual(DOGS.first);
      expect(items[0].index).toBeLessThanOrEqual(DOGS.last);
      expect(items[0].text).toMatch(/^malamute — \d+%$/);

      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM'),
        null,
        {
          timeout: 3 * MINUTE,
        },
      );
      firstMap = await untilGradCam(page, given, MINUTE);
      const drawn = await overlayPixels();
      expect([drawn.width, drawn.height]).toEqual([768, 576]);
      // At full opacity the canvas shows the colours alone: not blank, not uniform, and hottest on the dog.
      await page.fill('#opacity', '1');
      const full = await overlayPixels();
      const colours = heat(full, DOG_BOX);
      expect(colours.spread).toBeGreaterThan(40);
      expect(colours.inside).toBeGreaterThan(colours.outside + 60);
      await page.fill('#opacity', '0.5');
      // Back at half opacity the photo shows through again: the same picture as before, not the colours alone.
      const blended = await overlayPixels();
      expect(blended.data).toEqual(drawn.data);
      const differing = blended.data.filter((v, i) => Math.abs(v - full.data[i]) > 8).length;
      expect(differing / blended.data.length).toBeGreaterThan(0.5);
      await page.screenshot({ path: join(ARTIFACTS, 'dog-grad-cam-1280.png'), fullPage: true });
    },
    4 * MINUTE,
  );

  it(
    'draws the next dropped photo’s Grad-CAM from the cached graph, and built the graph without freezing the page',
    async () => {
      expect(firstMap, 'the first Grad-CAM was timed').toBeDefined();
      const first = firstMap!;
      // The same photo again (the next tests draw on it), dropped as from the desktop; the graph is cached now.
      const photo = await readFile(join(SHARED_IMAGES, 'dog.jpg'));
      const dropped = await dropPhoto(page, photo, 'dog.jpg', 'image/jpeg');
      const cached = await untilGradCam(page, dropped, 2 * MINUTE);
      const timing = {
        date: new Date().toISOString(),
        photo: 'dog.jpg (1 MP), default model, Grad-CAM, headless Chromium',
        dropToFirstMapSeconds: cached.seconds,
        cachedGraph: cached,
        firstMapWithGraphBuild: first,
      };
      const ms = (r: MainThreadReport) =>
        `${r.seconds.toFixed(2)} s; main-thread long tasks: ${r.longTasks}, longest ${r.longestTaskMs.toFixed(0)} ms, blocking ${r.blockingMs.toFixed(0)} ms`;
      console.log(`web app, drop → first Grad-CAM map, graph cached: ${ms(cached)}`);
      console.log(`web app, first Grad-CAM of the session (graph built in the worker): ${ms(first)}`);
      await mkdir(join(WEB_TIMING, '..'), { recursive: true });
      await writeFile(WEB_TIMING, `${JSON.stringify(timing, null, 2)}\n`);
      // Building the graph made the first map slower; had it run on the main thread, that extra time would be
      // main-thread blocking time. At most half of it may be (rendering differs little between the two maps).
      const extra = (first.seconds - cached.seconds) * 1000;
      expect(first.blockingMs - cached.blockingMs).toBeLessThan(Math.max(500, extra / 2));
    },
    3 * MINUTE,
  );

  it(
    'says how much attention falls in a box drawn over the dog, and the exports agree with it',
    async () => {
      const canvas = (await page.$('#boxes'))!;
      // The whole photo must be in the viewport, or the drag would end outside it.
      await canvas.evaluate((element) => element.scrollIntoView({ block: 'start' }));
      const rect = (await canvas.boundingBox())!;
      const scale = rect.width / 768;
      const [x0, y0, x1, y1] = DOG_BOX;
      await page.mouse.move(rect.x + x0 * scale, rect.y + y0 * scale);
      await page.mouse.down();
      await page.mouse.move(rect.x + ((x0 + x1) / 2) * scale, rect.y + ((y0 + y1) / 2) * scale, { steps: 4 });
      await page.mouse.move(rect.x + x1 * scale, rect.y + y1 * scale, { steps: 4 });
      await page.mouse.up();
      const verdict = (await page.textContent('#verdict')) ?? '';
      expect(verdict).toMatch(
        /^The model looked (mostly|partly) at the area you marked: \d+% of its attention is inside it/,
      );
      expect(await page.textContent('#verdict-numbers')).toMatch(
        /^Inside the marked area: \d+% of the attention, on \d+% of the photo/,
      );

      const details = JSON.parse(await readFile(await download('#save-json'), 'utf8'));
      const npy = decodeNpy(new Uint8Array(await readFile(await download('#save-npy'))));
      expect(npy.shape).toEqual([576, 768]);
      expect(details.method).toBe('grad-cam');
      expect(details.target.label).toBe('malamute');
      // The share recomputed here from the raw map and the box the page recorded, by the definition.
      const [box] = details.region.boxes as { x: number; y: number; width: number; height: number }[];
      let inside = 0;
      let total = 0;
      for (let y = 0; y < 576; y++)
        for (let x = 0; x < 768; x++) {
          const v = Math.abs(npy.data[y * 768 + x]);
          total += v;
          if (
            x + 0.5 >= box.x &&
            x + 0.5 < box.x + box.width &&
            y + 0.5 >= box.y &&
            y + 0.5 < box.y + box.height
          )
            inside += v;
        }
      expect(Math.abs(box.x - x0)).toBeLessThanOrEqual(2);
      expect(Math.abs(box.y + box.height - y1)).toBeLessThanOrEqual(2);
      expect(details.region.share).toBeCloseTo(inside / total, 2);
      expect(verdict).toContain(`${Math.round(details.region.share * 100)}% of its attention is inside it`);
      expect(details.region.verdict).toBe(verdict);
      // Grad-CAM on the malamute puts well over chance inside the dog's box (the CLI's e2e test measures 3.5×).
      expect(details.region.concentration).toBeGreaterThan(1.5);
      await page.screenshot({ path: join(ARTIFACTS, 'dog-box-verdict-1280.png'), fullPage: true });

      // The same by keyboard: a box placed in the middle, moved left and kept; then cleared, and the drawn box back.
      await page.click('#clear-boxes');
      expect(await page.textContent('#verdict')).toBe('No area marked yet.');
      await page.focus('#boxes');
      await page.keyboard.press('Enter');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('Enter');
      expect(await page.textContent('#verdict')).toMatch(/ the area you marked/);
      expect(await page.textContent('#verdict-numbers')).toContain('on 6% of the photo');
      await page.click('#clear-boxes');
      await canvas.evaluate((element) => element.scrollIntoView({ block: 'start' }));
      await page.mouse.move(rect.x + x0 * scale, rect.y + y0 * scale);
      await page.mouse.down();
      await page.mouse.move(rect.x + x1 * scale, rect.y + y1 * scale, { steps: 4 });
      await page.mouse.up();
      expect(await page.textContent('#verdict')).toBe(verdict);
    },
    2 * MINUTE,
  );

  it(
    'switches method and colormap, and downloads the overlay PNG',
    async () => {
      const before = await overlayPixels();
      await page.selectOption('#colormap', 'viridis');
      const recoloured = await overlayPixels();
      let changed = 0;
      for (let i = 0; i < before.data.length; i++) if (before.data[i] !== recoloured.data[i]) changed++;
      expect(changed / before.data.length).toBeGreaterThan(0.2);

      // The menu comes from the registry: every method is offered, the region methods included.
      const offered = await page.$$eval('#method option', (options) =>
        options.map((o) => (o as HTMLOptionElement).value),
      );
      expect([...offered].sort()).toEqual(METHODS.map((m) => m.id).sort());

      await page.selectOption('#method', 'gradient');
      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Vanilla gradient'),
        null,
        { timeout: 3 * MINUTE },
      );
      // The verdict follows the new map (the box stays).
      expect(await page.textContent('#verdict')).toMatch(
        / at the area you marked| outside the area you marked/,
      );
      const png = await download('#save-png');
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBe(768);
      // The overlay plus the legend bar under it.
      expect(meta.height).toBeGreaterThan(576);
      await page.screenshot({ path: join(ARTIFACTS, 'dog-gradient-viridis-1280.png'), fullPage: true });
    },
    4 * MINUTE,
  );

  it(
    'shows progress on a slow method and cancels it, keeping the last map',
    async () => {
      await page.selectOption('#method', 'rise');
      await page.waitForFunction(
        () => /RISE map… [1-9]\d*%/.test(document.getElementById('work-text')?.textContent ?? ''),
        null,
        {
          timeout: 2 * MINUTE,
        },
      );
      expect(await page.isVisible('#cancel')).toBe(true);
      await page.click('#cancel');
      await page.waitForSelector('#work', { state: 'hidden', timeout: MINUTE });
      expect(await page.textContent('#method-note')).toBe(
        'Cancelled. Pick a method or a class to try again.',
      );
      expect(await page.textContent('#legend-text')).toMatch(/^Vanilla gradient map/);
      expect(await page.isHidden('#message')).toBe(true);
    },
    3 * MINUTE,
  );

  it(
    'compares two methods side by side and says whether they agree',
    async () => {
      await page.selectOption('#method', 'grad-cam');
      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM'),
        null,
        {
          timeout: MINUTE,
        },
      );
      await page.click('#compare');
      await page.waitForFunction(() => document.getElementById('agreement')?.textContent !== '', null, {
        timeout: 2 * MINUTE,
      });
      expect(await page.$$eval('#compare-grid figcaption', (c) => c.map((e) => e.textContent))).toEqual([
        'Vanilla gradient',
        'Grad-CAM',
      ]);
      expect(await page.textContent('#agreement')).toMatch(
        /^(These methods agree: their strongest 20% regions overlap by \d+% or more\.|Vanilla gradient and Grad-CAM disagree: their strongest 20% regions overlap by only \d+%, so treat either map with care\.)$/,
      );
    },
    3 * MINUTE,
  );

  it(
    'opens a dropped ONNX model with its labels, asking only how pixels are scaled',
    async () => {
      const labels = join(scratch, 'tiny-labels.txt');
      await writeFile(labels, 'alpha\nbeta\ngamma\ndelta\nepsilon\n');
      await page.setInputFiles('#labels-input', labels);
      await page.setInputFiles('#model-input', join(GOLDEN, 'net_tiny_cnn.onnx'));
      await page.waitForSelector('#model-form:not([hidden])');
      // The file fixes 16×16 NCHW, so the page asks neither; it cannot know the pixel scaling.
      expect(await page.isHidden('#size-field')).toBe(true);
      expect(await page.isDisabled('#layout')).toBe(true);
      expect(await page.textContent('#model-question')).toContain("'net_tiny_cnn.onnx' takes 'input' [");
      await page.selectOption('#normalization', 'unit');
      await page.click('#model-form button[type="submit"]');
      await page.waitForFunction(
        () => document.getElementById('model-line')?.textContent?.startsWith('Model: net_tiny_cnn.onnx'),
        null,
        { timeout: MINUTE },
      );
      expect(await page.textContent('#model-line')).toBe(
        'Model: net_tiny_cnn.onnx · 5 classes · 16×16 input',
      );

      // A lossless photo, so the browser's pixels are sharp's, and the same model in onnxruntime-node as reference.
      const photo = fileURLToPath(new URL('../../examples/chelsea.png', import.meta.url));
      await page.setInputFiles('#photo-input', photo);
      await page.waitForFunction(
        () =>
          document
            .querySelector('#predictions button')
            ?.textContent?.match(/^(alpha|beta|gamma|delta|epsilon) — /),
        null,
        { timeout: MINUTE },
      );
      const shown = await page.$$eval('#predictions button', (b) => b.map((e) => e.textContent ?? ''));
      const model = await loadModel(join(GOLDEN, 'net_tiny_cnn.onnx'), {
        mean: [0],
        std: [1],
        labels: ['alpha', 'beta', 'gamma', 'delta', 'epsilon'],
      });
      try {
        const { tensor } = preprocess(await decodeImage(photo), model.spec);
        const expected = rankPredictions(model, await model.predict(tensor), 5);
        expect(shown.map((t) => t.split(' — ')[0])).toEqual(expected.map((p) => p.label));
        shown.forEach((text, i) => {
          const percent = Number(/(\d+)%$/.exec(text)?.[1]);
          expect(Math.abs(percent - expected[i].score * 100)).toBeLessThanOrEqual(1);
        });
      } finally {
        await model.dispose();
      }
      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM map for'),
        null,
        {
          timeout: MINUTE,
        },
      );
      await page.screenshot({ path: join(ARTIFACTS, 'own-model-1280.png'), fullPage: true });

      await page.click('#default-model');
      await page.waitForFunction(
        () => document.querySelector('#predictions button')?.textContent?.startsWith('Egyptian cat'),
        null,
        {
          timeout: MINUTE,
        },
      );
    },
    3 * MINUTE,
  );

  it(
    'opens a dropped Teachable Machine export (.zip) without asking anything, predicts with its labels and draws Grad-CAM',
    async () => {
      // A Teachable-Machine-shaped model built and saved by TF.js, zipped as TM's "Download my model" zips it.
      await tfReady();
      const reference = teachableMachineModel(64, TM_LABELS.length);
      randomizeWeights(reference, 7);
      const artifacts = await saveArtifacts(reference);
      reference.dispose();
      const zip = join(scratch, 'tm-my-image-model.zip');
      await writeFile(
        zip,
        zipSync({
          'model.json': strToU8(JSON.stringify(artifacts.modelJson)),
          'weights.bin': artifacts.groups[0],
          'metadata.json': strToU8(JSON.stringify(TM_METADATA)),
        }),
      );
      await modelReady();
      // A Graph model does not convert: the page says so, and keeps the model it had.
      await page.setInputFiles('#model-input', {
        name: 'model.json',
        mimeType: 'application/json',
        buffer: Buffer.from(
          JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }),
        ),
      });
      expect(await message()).toMatch(
        /^'model\.json' cannot run in the browser yet: it is a TF\.js Graph model, which does not convert to ONNX\. The browser runs TF\.js Layers models /,
      );
      expect(await page.textContent('#model-line')).toMatch(/^Model: /);
      await page.setInputFiles('#model-input', zip);
      await page.waitForFunction(
        () => document.getElementById('model-line')?.textContent?.startsWith('Model: tm-my-image-model.zip'),
        null,
        { timeout: MINUTE },
      );
      expect(await page.textContent('#model-line')).toBe(
        'Model: tm-my-image-model.zip · 4 classes · 64×64 input',
      );
      // metadata.json said the size, the pixel scaling and the labels: the form never showed.
      expect(await page.isHidden('#model-form')).toBe(true);

      const photo = fileURLToPath(new URL('../../examples/chelsea.png', import.meta.url));
      await page.setInputFiles('#photo-input', photo);
      await page.waitForFunction(
        () => document.querySelector('#predictions button')?.textContent?.match(/^(cat|dog|cup|person) — /),
        null,
        { timeout: MINUTE },
      );
      const shown = await page.$$eval('#predictions button', (b) => b.map((e) => e.textContent ?? ''));
      // The library in Node, loading the same zip, is the reference.
      const model = await loadModel(zip);
      try {
        const { tensor } = preprocess(await decodeImage(photo), model.spec);
        const expected = rankPredictions(model, await model.predict(tensor), 5);
        expect(shown.map((t) => t.split(' — ')[0])).toEqual(expected.map((p) => p.label));
        shown.forEach((text, i) => {
          const percent = Number(/(\d+)%$/.exec(text)?.[1]);
          expect(Math.abs(percent - expected[i].score * 100)).toBeLessThanOrEqual(1);
        });
        // Not a model that gives every class the same score (the comparison would then prove little).
        expect(expected[0].score - expected[expected.length - 1].score).toBeGreaterThan(0.05);
      } finally {
        await model.dispose();
      }
      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM map for'),
        null,
        { timeout: MINUTE },
      );
      // The map is drawn: the colours alone differ from the photo alone, and vary across the photo.
      await page.fill('#opacity', '0');
      const plain = await overlayPixels();
      await page.fill('#opacity', '1');
      const colours = await overlayPixels();
      await page.fill('#opacity', '0.5');
      const differing = colours.data.filter((v, i) => Math.abs(v - plain.data[i]) > 8).length;
      expect(differing / colours.data.length).toBeGreaterThan(0.5);
      expect(heat(colours, [0, 0, colours.width / 2, colours.height]).spread).toBeGreaterThan(20);
      await page.screenshot({ path: join(ARTIFACTS, 'teachable-machine-zip-1280.png'), fullPage: true });
    },
    2 * MINUTE,
  );

  it(
    'shows a dropped one-output scorer’s score as a number, not a percentage',
    async () => {
      // A sigmoid of the mean of one patch: one output, so a score (a softmax would say 100%).
      const scorer = join(scratch, 'scorer.onnx');
      await writeFile(scorer, encodeModel(scorerProto({ x0: 8, y0: 8, x1: 24, y1: 24 }, 32, true)));
      await page.setInputFiles('#model-input', scorer);
      await page.waitForSelector('#model-form:not([hidden])');
      await page.selectOption('#normalization', 'unit');
      await page.click('#model-form button[type="submit"]');
      await page.waitForFunction(
        () => document.getElementById('model-line')?.textContent?.startsWith('Model: scorer.onnx'),
        null,
        { timeout: MINUTE },
      );
      const photo = fileURLToPath(new URL('../../examples/chelsea.png', import.meta.url));
      await page.setInputFiles('#photo-input', photo);
      await page.waitForFunction(
        () => /— \d\.\d+$/.test(document.querySelector('#predictions button')?.textContent ?? ''),
        null,
        { timeout: MINUTE },
      );
      const shown = await page.$$eval('#predictions button', (b) =>
        b.map((e) => ({ text: e.textContent ?? '', meters: e.querySelectorAll('meter').length })),
      );
      const model = await loadModel(scorer, { mean: [0], std: [1] });
      try {
        const { tensor } = preprocess(await decodeImage(photo), model.spec);
        const value = (await model.predict(tensor)).data[0];
        expect(shown).toHaveLength(1);
        expect(shown[0].text.endsWith(` — ${value.toPrecision(4)}`)).toBe(true);
        expect(shown[0].meters).toBe(0);
      } finally {
        await model.dispose();
      }
    },
    2 * MINUTE,
  );

  it('reads at phone width and never talks to another host', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dog-phone-390.png'), fullPage: true });
    await writeFile(join(ARTIFACTS, 'requests.txt'), `${requests.join('\n')}\n`);
    expect(requests.length).toBeGreaterThan(5);
    const elsewhere = requests.filter((url) => !url.startsWith(`${origin}/`) && !/^(blob|data):/.test(url));
    expect(elsewhere).toEqual([]);
  });
});
