// The web app's no-code audit, end to end in Debian's headless Chromium with a small ONNX model dropped into the
// page (net_tiny_cnn, 16×16 input; the built-in InceptionV3 is never loaded): the sample photos and a COCO file
// give downloaded files (report.html, results.csv, results.jsonl in a .zip) whose rows equal `sightline audit`'s
// for the same folder, model, method and regions, to 4 decimals; a reload in the middle of an audit resumes from
// the rows saved in IndexedDB, redoing only the photos not done and any saved record that fails the row check;
// a map asked for in the main panel while an audit runs is drawn (one ORT run at a time); Cancel keeps the rows
// done.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strFromU8, unzipSync } from 'fflate';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/audit/report/csv.js';
import { PAGE_IDS } from '../../src/audit/report/page-data.js';
import { CLI, runCli, SHARED_IMAGES } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const MODEL = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));
const LABELS = ['cat', 'dog', 'cup', 'rocket', 'person'];
const MINUTE = 60_000;
const SIZE = 64;

let scratch: string;
let server: ChildProcess;
let origin: string;
let browser: Browser;
let page: Page;

async function photo(path: string, i: number): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE * 3);
  for (let p = 0; p < data.length; p++) data[p] = (p * 7 + i * 31 + ((p / 3) >> 6) * 13) % 256;
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

/** A COCO file with one box per photo (a different place on each), all of category 'dog'. */
async function coco(path: string, photos: readonly { file: string; width: number; height: number }[]) {
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
function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Number(value.toFixed(4));
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}

/** Whether two values are equal but for numbers (or numeric strings) that differ by at most `tolerance`. */
function near(a: unknown, b: unknown, tolerance: number): boolean {
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
function cells(csv: string): string[][] {
  return csv
    .trim()
    .split('\r\n')
    .map((line) =>
      line.split(',').map((cell) => (/^-?\d+(\.\d+)?(e-?\d+)?$/.test(cell) ? Number(cell).toFixed(4) : cell)),
    );
}

/** results.jsonl's rows without what differs by nature: the time taken and the CLI's picture files. */
function jsonlRows(text: string): unknown[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const { seconds, overlay, thumbnail, ...row } = JSON.parse(line);
      return rounded(row);
    });
}

/** report.html's rows' overlays (data: URIs, or null for none). */
function reportOverlays(html: string): (string | null)[] {
  const m = new RegExp(`<script type="application/json" id="${PAGE_IDS.data}">(.*?)</script>`, 's').exec(
    html,
  );
  return JSON.parse(m![1]).rows.map((row: { overlay: string | null }) => row.overlay);
}

/** report.html's rows, as its script reads them, without the time taken and the pictures. */
function reportRows(html: string): unknown[] {
  const m = new RegExp(`<script type="application/json" id="${PAGE_IDS.data}">(.*?)</script>`, 's').exec(
    html,
  );
  expect(m, 'report.html holds its rows').not.toBeNull();
  return JSON.parse(m![1]).rows.map(({ overlay, detail, ...row }: { overlay: unknown; detail: string[][] }) =>
    rounded({ ...row, detail: detail.filter(([name]) => name !== 'Time') }),
  );
}

async function openPage(): Promise<void> {
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

async function choose(folder: string, regions: string): Promise<void> {
  await page.setInputFiles('#audit-folder', folder);
  await page.setInputFiles('#audit-regions', regions);
}

async function finished(): Promise<string> {
  await page.waitForFunction(
    () =>
      /^(Done|Cancelled|The audit stopped)/.test(document.getElementById('audit-status')?.textContent ?? ''),
    null,
    { timeout: 2 * MINUTE },
  );
  return (await page.textContent('#audit-status')) ?? '';
}

async function downloaded(button: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { name: download.suggestedFilename(), bytes: await readFile((await download.path())!) };
}

/** How many rows IndexedDB holds, read in the page. */
async function idbCount(): Promise<number> {
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
async function discard(): Promise<void> {
  if (!(await page.isVisible('#audit-discard'))) return;
  await page.click('#audit-discard');
  await page.waitForSelector('#audit-saved', { state: 'hidden' });
}

async function cliAudit(folder: string, regions: string, out: string): Promise<void> {
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

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium.`);
  scratch = await mkdtemp(join(tmpdir(), 'sightline-web-audit-'));
  await writeFile(join(scratch, 'labels.txt'), `${LABELS.join('\n')}\n`);
  server = spawn(process.execPath, [CLI, 'serve', '--port', '0']);
  origin = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (d) => {
      out += d;
      const m = /running at (http:\/\/[^/\s]+)\//.exec(out);
      if (m) resolve(m[1]);
    });
    server.on('close', () => reject(new Error(`sightline serve exited early:\n${out}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const context = await browser.newContext({ acceptDownloads: true });
  // The built-in model is loaded only when a photo needs it and no model was chosen: never here.
  await context.route('**/models/default/**', (route) => route.abort());
  page = await context.newPage();
  await openPage();
}, 2 * MINUTE);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGINT');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the audit in the web app', () => {
  it(
    'downloads report.html, results.csv and results.jsonl whose rows equal `sightline audit` on the sample photos',
    async () => {
      const names = (await readdir(SHARED_IMAGES)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
      const sizes = await Promise.all(
        names.map(async (file) => ({ file, ...(await sharp(join(SHARED_IMAGES, file)).metadata()) })),
      );
      const regions = join(scratch, 'photos.json');
      await coco(
        regions,
        sizes.map((s) => ({ file: s.file, width: s.width!, height: s.height! })),
      );
      await choose(SHARED_IMAGES, regions);
      await page.click('#audit-start');
      expect(await finished()).toBe(`Done: ${names.length} photos.`);

      const report = await downloaded('#audit-report');
      expect(report.name).toBe('report.html');
      const zip = await downloaded('#audit-zip');
      expect(zip.name).toBe('sightline-audit.zip');
      const files = unzipSync(new Uint8Array(zip.bytes));
      expect(Object.keys(files).sort()).toEqual([
        'needs-attention.csv',
        'report.html',
        'results.csv',
        'results.jsonl',
        'summary.json',
      ]);
      const web = (name: string) => strFromU8(files[name]);
      expect(web('report.html')).toBe(report.bytes.toString('utf8'));

      const out = join(scratch, 'cli-photos');
      await cliAudit(SHARED_IMAGES, regions, out);
      const cli = (name: string) => readFile(join(out, name), 'utf8');
      expect(web('results.csv').split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
      // rocket.jpg carries an ICC profile: sharp (lcms2) and Chromium convert it to sRGB with different colour
      // engines, so 5% of its pixel values differ by 1 and its numbers are compared within 1e-3; the other photos'
      // pixels are identical and their numbers equal to 4 decimals.
      const [webCsv, cliCsv] = [cells(web('results.csv')), cells(await cli('results.csv'))];
      const icc = (r: readonly string[]) => r[0] === 'rocket.jpg';
      expect(webCsv.filter((r) => !icc(r))).toEqual(cliCsv.filter((r) => !icc(r)));
      expect(near(webCsv.find(icc), cliCsv.find(icc), 1e-3)).toBe(true);
      const rows = jsonlRows(web('results.jsonl'));
      const cliRows = jsonlRows(await cli('results.jsonl'));
      expect(rows.map((r) => (r as { file: string }).file)).toEqual(names);
      const rocket = names.indexOf('rocket.jpg');
      expect(rows.filter((_, i) => i !== rocket)).toEqual(cliRows.filter((_, i) => i !== rocket));
      expect(near(rows[rocket], cliRows[rocket], 1e-3)).toBe(true);
      const fileOf = (r: unknown) => (r as { file: string }).file;
      const [webReport, cliReport] = [reportRows(web('report.html')), reportRows(await cli('report.html'))];
      expect(webReport.map(fileOf)).toEqual(cliReport.map(fileOf));
      expect(webReport.filter((r) => fileOf(r) !== 'rocket.jpg')).toEqual(
        cliReport.filter((r) => fileOf(r) !== 'rocket.jpg'),
      );
      expect(web('needs-attention.csv')).toBe(await cli('needs-attention.csv'));
      const summary = (text: string) => JSON.parse(text).summary;
      expect(near(summary(web('summary.json')), summary(await cli('summary.json')), 1e-3)).toBe(true);
      // The report is the library's: one file with its policy, style and script inline, the mean map, and each
      // photo's overlay (in the rows' data) and thumbnail (in the table), drawn in the page as WebP.
      const html = web('report.html');
      const overlays = reportOverlays(html);
      expect(overlays).toHaveLength(names.length);
      for (const uri of overlays) expect(uri).toMatch(/^data:image\/webp;base64,/);
      expect(html.match(/<img [^>]*src="data:image\/webp;base64,/g)).toHaveLength(names.length);
      const overlay = Buffer.from(overlays[0]!.slice(overlays[0]!.indexOf(',') + 1), 'base64');
      const side = await sharp(overlay).metadata();
      expect(Math.max(side.width!, side.height!)).toBe(640);
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
      expect(html).toMatch(/<img [^>]*src="data:image\/png;base64,/);
      expect(html).not.toMatch(/(src|href)="https?:/);
    },
    2 * MINUTE,
  );

  it(
    'resumes after a reload mid-audit, redoing only the photos not done and a saved record that fails the check',
    async () => {
      const folder = join(scratch, 'many');
      await mkdir(folder);
      const files = Array.from({ length: 150 }, (_, i) => `p${String(i).padStart(3, '0')}.png`);
      await Promise.all(files.map((file, i) => photo(join(folder, file), i)));
      const regions = join(scratch, 'many.json');
      await coco(
        regions,
        files.map((file) => ({ file, width: SIZE, height: SIZE })),
      );
      // The sample photos' rows are saved too: discarded, so the only saved rows are this audit's.
      await discard();
      await choose(folder, regions);
      await page.click('#audit-start');
      await page.waitForFunction(() => document.querySelectorAll('#audit-rows tr').length >= 3, null, {
        timeout: MINUTE,
      });
      // A row on screen has been saved: at least these are not done again.
      const seen = await page.$$eval('#audit-rows tr', (trs) => trs.length);
      expect(await idbCount()).toBeGreaterThanOrEqual(seen);
      await openPage();
      await page.waitForSelector('#audit-discard', { timeout: 10_000 });
      // One saved record edited into something that is no row: it is ignored and its photo done again.
      const tampered = await page.evaluate(
        () =>
          new Promise<string>((resolve, reject) => {
            const open = indexedDB.open('sightline-audit');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const store = open.result.transaction('rows', 'readwrite').objectStore('rows');
              const cursor = store.openCursor();
              cursor.onsuccess = () => {
                const c = cursor.result!;
                const { row } = c.value;
                c.update({ ...c.value, row: { ...row, status: 'fine', region: { share: 'all of it' } } });
                resolve(row.file);
              };
            };
          }),
      );
      await choose(folder, regions);
      await page.click('#audit-start');
      const status = await finished();
      const m = /^Done: 150 photos \((\d+) resumed from saved progress, (\d+) audited now\)\.$/.exec(status);
      expect(m, status).not.toBeNull();
      const [resumed, now] = [Number(m![1]), Number(m![2])];
      expect(resumed + now).toBe(150);
      expect(resumed).toBeGreaterThanOrEqual(seen - 1);
      expect(resumed).toBeLessThan(150);
      // Every row the page shows is one photo, once; the tampered one was audited again, not trusted.
      const shown = await page.$$eval('#audit-rows tr td:first-child', (tds) =>
        tds.map((t) => t.textContent),
      );
      expect(shown.sort()).toEqual(files);
      const csv = cells(
        strFromU8(unzipSync(new Uint8Array((await downloaded('#audit-zip')).bytes))['results.csv']),
      );
      expect(csv.slice(1).map((r) => r[0])).toEqual(files);
      expect(csv.find((r) => r[0] === tampered)?.[1]).toBe('ok');
      // Resumed rows come back with their pictures: every row's overlay is in the report.
      const report = strFromU8(
        unzipSync(new Uint8Array((await downloaded('#audit-zip')).bytes))['report.html'],
      );
      expect(reportOverlays(report).filter((o) => o?.startsWith('data:image/webp;base64,'))).toHaveLength(
        150,
      );
      // The rows equal the CLI's for the same photos (resumed, redone and new alike).
      const subset = join(scratch, 'some');
      await mkdir(subset);
      const picked = [tampered, ...files.filter((f) => f !== tampered).filter((_, i) => i % 25 === 0)];
      for (const file of picked) await copyFile(join(folder, file), join(subset, file));
      await cliAudit(subset, regions, join(scratch, 'some-out'));
      const cli = cells(await readFile(join(scratch, 'some-out', 'results.csv'), 'utf8'));
      expect(csv.filter((r) => r[0] === 'file' || picked.includes(r[0]))).toEqual(cli);

      // Discarding forgets every saved row: the next run starts from the first photo.
      await discard();
      expect(await page.textContent('#audit-status')).toBe(
        'Saved progress discarded: the next audit starts from the first photo.',
      );
      expect(await idbCount()).toBe(0);
    },
    2 * MINUTE,
  );

  it(
    'draws a map in the main panel while an audit runs, without ORT\'s "Session already started"',
    async () => {
      await discard();
      await choose(join(scratch, 'many'), join(scratch, 'many.json'));
      await page.click('#audit-start');
      await page.waitForSelector('#audit-rows tr', { timeout: MINUTE });
      // The main panel's predict and Grad-CAM runs take turns with the audit's in the one ORT module.
      await page.setInputFiles('#photo-input', join(SHARED_IMAGES, 'chelsea.png'));
      await page.waitForFunction(
        () => document.getElementById('legend-text')?.textContent?.startsWith('Grad-CAM map for'),
        null,
        { timeout: MINUTE },
      );
      const rowsWhenDrawn = await page.$$eval('#audit-rows tr', (trs) => trs.length);
      expect(rowsWhenDrawn).toBeLessThan(150);
      expect(await page.isHidden('#message')).toBe(true);
      expect(await finished()).toBe('Done: 150 photos.');
    },
    2 * MINUTE,
  );

  it(
    'stops on Cancel and downloads the rows done so far',
    async () => {
      await discard();
      await page.click('#audit-start');
      await page.waitForSelector('#audit-rows tr', { timeout: MINUTE });
      await page.click('#audit-cancel');
      const status = await finished();
      const m = /^Cancelled: (\d+) of 150 photos done; the results below are for those\.$/.exec(status);
      expect(m, status).not.toBeNull();
      const csv = cells((await downloaded('#audit-csv')).bytes.toString('utf8'));
      expect(csv.length - 1).toBe(Number(m![1]));
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(Number(m![1])).toBeLessThan(150);
    },
    MINUTE,
  );

  it('says what is wrong with a regions file that is not COCO, and audits nothing', async () => {
    const bad = join(scratch, 'bad.json');
    await writeFile(bad, JSON.stringify({ images: 'none' }));
    await page.setInputFiles('#audit-regions', bad);
    await page.click('#audit-start');
    expect(await finished()).toBe(
      "The audit stopped: 'bad.json' is JSON but not COCO; expected an object with the lists 'images' and 'annotations'.",
    );
    expect(await page.isEnabled('#audit-start')).toBe(true);
  });
});
