// The web audit's end-to-end tests' common part (web-audit.test.ts, web-audit-resume.test.ts): `sightline serve`,
// headless Chromium with the small ONNX model net_tiny_cnn dropped into the page (the built-in InceptionV3 is never
// fetched), the CLI's audit of the same folder with the same model, and what both write, read for comparing.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { expect } from 'vitest';
import { PAGE_IDS } from '../../src/audit/report/page-data.js';
import { runCli } from './cli.js';
import { CHROMIUM, launchChromium, startServe } from './serve-app.js';

export const MODEL = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));
export const LABELS = ['cat', 'dog', 'cup', 'rocket', 'person'];
export const MINUTE = 60_000;
export const SIZE = 64;

let server: ChildProcess;
let origin: string;
let browser: Browser;
/** The page and a scratch folder of the test file using these helpers (each file has its own module). */
export let page: Page;
export let scratch: string;

export async function photo(path: string, i: number): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE * 3);
  for (let p = 0; p < data.length; p++) data[p] = (p * 7 + i * 31 + ((p / 3) >> 6) * 13) % 256;
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

/** A COCO file with one box per photo (a different place on each), all of category 'dog'. */
export async function coco(path: string, photos: readonly { file: string; width: number; height: number }[]) {
  await writeFile(
    path,
    JSON.stringify({
      images: photos.map((p, id) => ({ id, file_name: p.file, width: p.width, height: p.height })),
      annotations: photos.map((p, id) => {
        const [w, h] = [Math.round(p.width / 3), Math.round(p.height / 3)];
        return { id, image_id: id, category_id: 1, bbox: [(id % 3) * w, ((id >> 1) % 3) * h, w, h] };
      }),
      categories: [{ id: 1, name: 'dog' }],
    }),
  );
}

/** Numbers rounded to 4 decimals (onnxruntime-web and -node differ past that), all the way down. */
export function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Number(value.toFixed(4));
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}

/** Whether two values are equal but for numbers (or numeric strings) that differ by at most `tolerance`. */
export function near(a: unknown, b: unknown, tolerance: number): boolean {
  const number = (v: unknown) => (typeof v === 'string' && /^-?\d/.test(v) ? Number(v) : v);
  const [x, y] = [number(a), number(b)];
  if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= tolerance;
  if (Array.isArray(x) && Array.isArray(y))
    return x.length === y.length && x.every((v, i) => near(v, y[i], tolerance));
  if (x && y && typeof x === 'object' && typeof y === 'object') {
    const keys = Object.keys(x);
    return (
      keys.length === Object.keys(y).length &&
      keys.every((k) => near((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], tolerance))
    );
  }
  return x === y;
}

/** A CSV's lines as cells, numbers rounded to 4 decimals. */
export function cells(csv: string): string[][] {
  return csv
    .trim()
    .split('\r\n')
    .map((line) =>
      line.split(',').map((cell) => (/^-?\d+(\.\d+)?(e-?\d+)?$/.test(cell) ? Number(cell).toFixed(4) : cell)),
    );
}

/** results.jsonl's rows without what differs by nature: the time taken and the CLI's picture files. */
export function jsonlRows(text: string): unknown[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const { seconds, overlay, thumbnail, ...row } = JSON.parse(line);
      return rounded(row);
    });
}

/** report.html's rows' overlays (data: URIs, or null for none) by file. */
export function reportOverlays(html: string): Map<string, string | null> {
  const m = new RegExp(`<script type="application/json" id="${PAGE_IDS.data}">(.*?)</script>`, 's').exec(
    html,
  );
  return new Map(
    JSON.parse(m![1]).rows.map((row: { file: string; overlay: string | null }) => [row.file, row.overlay]),
  );
}

/** report.html's rows, as its script reads them, without the time taken and the pictures. */
export function reportRows(html: string): unknown[] {
  const m = new RegExp(`<script type="application/json" id="${PAGE_IDS.data}">(.*?)</script>`, 's').exec(
    html,
  );
  expect(m, 'report.html holds its rows').not.toBeNull();
  return JSON.parse(m![1]).rows.map(({ overlay, detail, ...row }: { overlay: unknown; detail: string[][] }) =>
    rounded({ ...row, detail: detail.filter(([name]) => name !== 'Time') }),
  );
}

export async function openPage(): Promise<void> {
  await page.goto(`${origin}/`);
  // The dropped model, as the CLI reads it with --mean 0 --std 1 --class-names labels.txt.
  await page.setInputFiles('#labels-input', join(scratch, 'labels.txt'));
  await page.setInputFiles('#model-input', MODEL);
  await page.waitForSelector('#model-form:not([hidden])', { timeout: MINUTE });
  await page.selectOption('#normalization', 'unit');
  await page.click('#model-form button[type="submit"]');
  await page.waitForFunction(
    () => document.getElementById('model-line')?.textContent?.startsWith('Model: net_tiny_cnn.onnx'),
    null,
    { timeout: MINUTE },
  );
}

export async function choose(folder: string, regions: string): Promise<void> {
  await page.setInputFiles('#audit-folder', folder);
  await page.setInputFiles('#audit-regions', regions);
}

export async function finished(): Promise<string> {
  await page.waitForFunction(
    () =>
      /^(Done|Cancelled|The audit stopped)/.test(document.getElementById('audit-status')?.textContent ?? ''),
    null,
    { timeout: 2 * MINUTE },
  );
  return (await page.textContent('#audit-status')) ?? '';
}

export async function downloaded(button: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { name: download.suggestedFilename(), bytes: await readFile((await download.path())!) };
}

/** How many rows IndexedDB holds, read in the page. */
export async function idbCount(): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const open = indexedDB.open('sightline-audit');
        open.onsuccess = () => {
          const count = open.result.transaction('rows').objectStore('rows').count();
          count.onsuccess = () => resolve(count.result);
        };
      }),
  );
}

/** Discards the saved progress, where there is any. */
export async function discard(): Promise<void> {
  if (!(await page.isVisible('#audit-discard'))) return;
  await page.click('#audit-discard');
  await page.waitForSelector('#audit-saved', { state: 'hidden' });
}

export async function cliAudit(folder: string, regions: string, out: string): Promise<void> {
  const result = await runCli([
    'audit',
    folder,
    '--model',
    MODEL,
    '--mean',
    '0',
    '--std',
    '1',
    '--class-names',
    join(scratch, 'labels.txt'),
    '--method',
    'grad-cam',
    '--regions',
    regions,
    '--out',
    out,
  ]);
  expect(result.code, result.stderr).toBe(0);
}

/** Starts `sightline serve`, Chromium and the page with the small model open. */
export async function setUp(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium.`);
  scratch = await mkdtemp(join(tmpdir(), 'sightline-web-audit-'));
  await writeFile(join(scratch, 'labels.txt'), `${LABELS.join('\n')}\n`);
  ({ server, origin } = await startServe());
  browser = await launchChromium();
  const context = await browser.newContext({ acceptDownloads: true });
  // The built-in model is loaded only when a photo needs it and no model was chosen: never here.
  await context.route('**/models/default/**', (route) => route.abort());
  page = await context.newPage();
  await openPage();
}

export async function tearDown(): Promise<void> {
  await browser?.close();
  server?.kill('SIGINT');
  if (scratch) await rm(scratch, { recursive: true, force: true });
}
