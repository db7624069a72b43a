// The static site (`npm run build:site`), end to end: written by the build script, served by a plain file server
// that sends no special headers (as GitHub Pages or `python3 -m http.server` would), opened in Debian's
// headless Chromium. The page is then not cross-origin isolated: it must still explain a photo (with a small
// dropped model, for speed), on one WebAssembly thread, say so, serve the default model where the page fetches
// it, and ask nothing of the host but the site's own files.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_IMAGES } from '../helpers/cli.js';
import { type StaticServer, serveStatic } from '../helpers/static-server.js';

const CHROMIUM = '/usr/bin/chromium';
const TINY_MODEL = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));
const BUILD_SITE = fileURLToPath(new URL('../../scripts/build-site.mjs', import.meta.url));
const MINUTE = 60_000;

let scratch: string;
let site: string;
let server: StaticServer;
let browser: Browser;
let page: Page;
const requested: string[] = [];
const consoleErrors: string[] = [];

function buildSite(out: string) {
  return spawnSync(process.execPath, [BUILD_SITE, '--out', out], { encoding: 'utf8' });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium).`);
  scratch = await mkdtemp(join(tmpdir(), 'sightline-site-'));
  site = join(scratch, 'site');
  const built = buildSite(site);
  expect(built.status, built.stderr).toBe(0);
  server = await serveStatic(site);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.on('request', (request) => {
    requested.push(request.url());
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.goto(server.url);
}, MINUTE);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the static site on a plain file server', () => {
  it(
    'explains a photo with a dropped model on one thread, says so, serves the built-in model, and loads only its own files',
    async () => {
      // Nothing is loaded until a photo needs a model. A small dropped model keeps this test quick; the built-in
      // model's own run in the browser is web-app.test.ts's, and its files are fetched below as the worker would.
      expect(await page.textContent('#model-line')).toMatch(/^No model yet/);
      const labels = join(scratch, 'labels.txt');
      await writeFile(labels, 'alpha\nbeta\ngamma\ndelta\nepsilon\n');
      await page.setInputFiles('#labels-input', labels);
      await page.setInputFiles('#model-input', TINY_MODEL);
      await page.waitForSelector('#model-form:not([hidden])', { timeout: MINUTE });
      await page.selectOption('#normalization', 'unit');
      await page.click('#model-form button[type="submit"]');
      await page.waitForFunction(
        () => document.getElementById('model-line')?.textContent?.startsWith('Model: net_tiny_cnn.onnx'),
        null,
        { timeout: MINUTE },
      );
      await page.setInputFiles('#photo-input', join(SHARED_IMAGES, 'chelsea.png'));
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      expect(await page.isVisible('#threads-note')).toBe(true);
      expect(await page.textContent('#threads-note')).toContain(
        'is not cross-origin isolated (its web server sends no Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), so the model runs as single-threaded WebAssembly',
      );
      expect(await page.textContent('#backend')).toBe(
        'Runs in this browser with ONNX Runtime (WebAssembly, 1 thread).',
      );

      await page.waitForSelector('#predictions li', { timeout: MINUTE });
      expect(await page.textContent('#predictions li:first-child button')).toMatch(
        /^(alpha|beta|gamma|delta|epsilon) — /,
      );
      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM'),
        null,
        {
          timeout: 3 * MINUTE,
        },
      );
      expect(await page.isHidden('#message')).toBe(true);
      // The map was drawn: the overlay holds many colours, not a blank or uniform canvas.
      const colours = await page.evaluate(() => {
        const canvas = document.getElementById('overlay') as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const seen = new Set<number>();
        for (let p = 0; p < data.length; p += 4 * 97)
          seen.add((data[p] << 16) | (data[p + 1] << 8) | data[p + 2]);
        return seen.size;
      });
      expect(colours).toBeGreaterThan(500);

      // The built-in model is where the worker fetches it, relative to the page, whole.
      const served = await page.evaluate(async () =>
        Promise.all(
          ['models/default/graph.lite', 'models/default/labels.txt'].map(async (path) => {
            const response = await fetch(path);
            return [response.status, (await response.arrayBuffer()).byteLength];
          }),
        ),
      );
      const sizes = await Promise.all(
        ['graph.lite', 'labels.txt'].map(async (f) => (await stat(join(site, 'models', 'default', f))).size),
      );
      expect(served).toEqual(sizes.map((size) => [200, size]));
      expect(sizes[0]).toBeGreaterThan(20e6);

      // Every request went to the site's own folder and found its file: no server API, no other origin.
      const files = JSON.parse(await readFile(join(site, 'sightline-site.json'), 'utf8')).files as string[];
      expect(requested.filter((url) => !url.startsWith(server.url) && !/^(blob|data):/.test(url))).toEqual(
        [],
      );
      expect(server.log.filter((line) => !line.startsWith('200 '))).toEqual([]);
      const paths = new Set(server.log.map((line) => line.slice(5)));
      expect([...paths].filter((p) => p !== '' && !files.includes(p))).toEqual([]);
      expect(paths).toContain('models/default/graph.lite');
      expect(paths).toContain('ort/ort-wasm-simd-threaded.jsep.wasm');
      // The CSP written into index.html as <meta> let everything the app does through.
      expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
    },
    5 * MINUTE,
  );

  it('replaces a site it wrote but never empties another folder', async () => {
    const other = join(scratch, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'keep me');
    const refused = buildSite(other);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `build:site: '${other}' is not empty and holds no sightline-site.json: pass --out <a new or empty folder>.\n`,
    );
    expect(await readdir(other)).toEqual(['notes.txt']);

    await writeFile(join(site, 'stale.js'), '');
    const again = buildSite(site);
    expect(again.status, again.stderr).toBe(0);
    expect(await readdir(site)).not.toContain('stale.js');
  });
});
