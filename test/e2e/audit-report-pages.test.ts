// A large audit's report.html, whose rows and pictures load from files beside it, opened from disk in Debian's
// headless Chromium: the rows of every page file arrive, filtering, sorting and the pager cover all of them,
// the dialog shows the overlay file, and nothing is requested from outside the report's folder. The page size
// is lowered so 130 generated rows make three page files; a small audit's report stays one file.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryGrid } from '../../src/audit/aggregate.js';
import { fileStem } from '../../src/audit/row-pictures.js';
import type { AuditRow } from '../../src/audit/types.js';
import { REPORT_INLINE_MAX_ROWS, writeReports } from '../../src/audit/write.js';
import { runCli } from '../helpers/cli.js';
import { watermarkAudit } from '../helpers/queue.js';

const CHROMIUM = '/usr/bin/chromium';
const COUNT = 130;
const PER_PAGE = 50;
const HOSTILE = '<img src=x onerror=alert(1)>.jpg';
const CONFIG = { model: 'm.onnx', method: 'grad-cam', options: {} };

let dir: string;
let browser: Browser;

/** Row i: share i/COUNT (so worst first is by i), every 40th an error; row 7 has the hostile name. */
function row(i: number): AuditRow {
  const file = i === 7 ? HOSTILE : `set/photo-${String(i).padStart(3, '0')}.jpg`;
  if (i % 40 === 39)
    return { file, status: 'error', error: { code: 'IMAGE_DECODE', message: `broken ${i}` } };
  const share = i / COUNT;
  const stem = fileStem(file);
  return {
    file,
    status: 'ok',
    width: 64,
    height: 48,
    predictions: [{ index: 1, label: i % 2 === 0 ? 'tabby' : 'kite', score: 0.5 }],
    target: { index: 1, label: 'tabby' },
    region: {
      share,
      areaShare: 0.25,
      concentration: share * 4,
      peakInside: share > 0.5,
      tolerance: 15,
      verdict: share > 0.6 ? 'object' : share > 0.3 ? 'partly' : 'background',
    },
    borderShare: 1 - share,
    summary: summaryGrid({ width: 2, height: 2, data: Float32Array.from([share, 0, 0, 1 - share]) }, false),
    seconds: 0.1,
    overlay: `overlays/${stem}.webp`,
    thumbnail: `thumbnails/${stem}.webp`,
  };
}

/** An audit's output folder with `rows` and their WebP pictures (an overlay 200 px wide). */
async function auditFolder(name: string, rows: AuditRow[]): Promise<string> {
  const out = join(dir, name);
  await mkdir(join(out, 'overlays'), { recursive: true });
  await mkdir(join(out, 'thumbnails'), { recursive: true });
  const webp = (width: number) =>
    sharp({ create: { width, height: (width * 3) / 4, channels: 3, background: { r: 200, g: 80, b: 20 } } })
      .webp()
      .toBuffer();
  const [overlay, thumbnail] = [await webp(200), await webp(40)];
  for (const r of rows) {
    if (r.overlay) await writeFile(join(out, r.overlay), overlay);
    if (r.thumbnail) await writeFile(join(out, r.thumbnail), thumbnail);
  }
  return out;
}

async function open(out: string): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  const problems: string[] = [];
  context.on('request', (request) => {
    requests.push(request.url());
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('dialog', (dialog) => {
    problems.push(`unexpected ${dialog.type()}`);
    void dialog.dismiss();
  });
  await page.goto(pathToFileURL(join(out, 'report.html')).href);
  return { page, requests, problems };
}

const files = (page: Page) =>
  page.$$eval('#images tbody tr', (trs) =>
    (trs as HTMLTableRowElement[]).map((tr) => tr.querySelector('button.open')?.textContent ?? ''),
  );

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium.`);
  dir = await mkdtemp(join(tmpdir(), 'sightline-report-pages-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a paged report in Chromium', () => {
  const rows = Array.from({ length: COUNT }, (_, i) => row(i));
  let out: string;
  let page: Page;
  let requests: string[];
  let problems: string[];

  beforeAll(async () => {
    out = await auditFolder('paged', rows);
    await writeReports(out, rows, CONFIG, undefined, { layout: 'pages', rowsPerPage: PER_PAGE });
    ({ page, requests, problems } = await open(out));
    await page.waitForFunction(
      (n) => document.getElementById('shown-count')?.textContent === `Showing ${n} of ${n} images`,
      COUNT,
      { timeout: 20_000 },
    );
  }, 60_000);

  it('writes the rows into page files beside a page that holds none of them', async () => {
    expect((await readdir(join(out, 'report-rows'))).sort()).toEqual([
      'page-0001.js',
      'page-0002.js',
      'page-0003.js',
    ]);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('<tr data-index');
    expect(html).not.toContain('data:image/webp');
    // The dataset's section is still in the page.
    expect(html).toContain('Every image');
    const second = await readFile(join(out, 'report-rows', 'page-0002.js'), 'utf8');
    expect(second.startsWith('sightlineReportRows(1, [')).toBe(true);
    expect(second).toContain('set/photo-050.jpg');
  });

  it('shows a hundred rows at a time, worst first across the page files, with a pager', async () => {
    // Worst first: the 3 errors, then by share (row i has share i/130).
    const ok = rows.filter((r) => r.status === 'ok').map((r) => r.file);
    const errors = rows.filter((r) => r.status === 'error').map((r) => r.file);
    const order = [...errors, ...ok];
    expect(await files(page)).toEqual(order.slice(0, 100));
    expect(await page.locator('#pager-status').textContent()).toBe(`Rows 1–100 of ${COUNT}`);
    expect(await page.locator('#pager-previous').isDisabled()).toBe(true);
    await page.locator('#pager-next').click();
    // Rows of the third page file (100..129) are there.
    expect(await files(page)).toEqual(order.slice(100));
    expect(await page.locator('#pager-status').textContent()).toBe(`Rows 101–${COUNT} of ${COUNT}`);
    expect(await page.locator('#pager-next').isDisabled()).toBe(true);
    await page.locator('#pager-previous').click();
    expect((await files(page))[0]).toBe(order[0]);
    // The hostile name is text, in a row of its own.
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await files(page)).toContain(HOSTILE);
  });

  it('filters and sorts across every page file', async () => {
    await page.fill('#filter-text', 'photo-12');
    // Rows 120..129, from the third page file.
    expect(await files(page)).toEqual(Array.from({ length: 10 }, (_, k) => `set/photo-${120 + k}.jpg`));
    expect(await page.locator('#shown-count').textContent()).toBe(`Showing 10 of ${COUNT} images`);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-verdict', 'error');
    expect(await files(page)).toEqual(['set/photo-039.jpg', 'set/photo-079.jpg', 'set/photo-119.jpg']);
    await page.selectOption('#filter-verdict', 'all');
    const share = page.locator('thead button[data-sort="share"]');
    await share.click();
    await share.click();
    // Descending share: row 129 (share 0.99) first, a row from the last page file.
    expect((await files(page)).slice(0, 2)).toEqual(['set/photo-129.jpg', 'set/photo-128.jpg']);
    expect(await page.getAttribute('th[data-sort="share"]', 'aria-sort')).toBe('descending');
    await page.locator('thead button[data-sort="verdict"]').click();
  });

  it("a finding's button filters the rows of every page file to the images it names", async () => {
    await page.locator('button[data-finding="finding-errors"]').click();
    expect(await page.inputValue('#filter-verdict')).toBe('finding-errors');
    expect(await files(page)).toEqual(['set/photo-039.jpg', 'set/photo-079.jpg', 'set/photo-119.jpg']);
    expect(await page.locator('#shown-count').textContent()).toBe(`Showing 3 of ${COUNT} images`);
    await page.selectOption('#filter-verdict', 'all');
  });

  it('opens the overlay file in the dialog, and shows the thumbnails from their files', async () => {
    await page.locator('#images tbody tr', { hasText: 'set/photo-060.jpg' }).locator('button.open').click();
    const dialog = page.locator('#detail');
    await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(true);
    expect(await page.locator('#detail-title').textContent()).toBe('set/photo-060.jpg');
    const overlay = page.locator('#detail-image');
    await expect.poll(() => overlay.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(200);
    expect(await overlay.getAttribute('src')).toBe(`overlays/${fileStem('set/photo-060.jpg')}.webp`);
    expect(await page.locator('#detail-list').textContent()).toContain('Share inside');
    await page.keyboard.press('Escape');
    const thumb = page.locator('#images tbody tr').first().locator('img.thumb');
    // The first rows are errors, without pictures; the fourth has one.
    const fourth = page.locator('#images tbody tr').nth(3).locator('img.thumb');
    expect(await thumb.count()).toBe(0);
    await expect.poll(() => fourth.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(40);
  });

  it('requested nothing outside its folder, and raised no error', () => {
    const base = pathToFileURL(`${out}/`).href;
    expect(requests.filter((url) => !url.startsWith(base))).toEqual([]);
    expect(requests.some((url) => url.endsWith('report-rows/page-0003.js'))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('says which page file could not be read, and shows the rest', async () => {
    const copy = join(dir, 'paged-missing');
    await mkdir(join(copy, 'report-rows'), { recursive: true });
    await copyFile(join(out, 'report.html'), join(copy, 'report.html'));
    await copyFile(join(out, 'report-rows', 'page-0001.js'), join(copy, 'report-rows', 'page-0001.js'));
    await copyFile(join(out, 'report-rows', 'page-0003.js'), join(copy, 'report-rows', 'page-0003.js'));
    const other = await open(copy);
    await expect
      .poll(() => other.page.locator('#shown-count').textContent())
      .toBe(
        `Showing ${COUNT - PER_PAGE} of ${COUNT} images; 1 file of rows could not be read: report-rows/page-0002.js`,
      );
    await other.page.context().close();
  });
});

describe('the report layout', () => {
  it('keeps a small audit in one file with its pictures inline, and removes page files of an earlier run', async () => {
    const rows = Array.from({ length: 4 }, (_, i) => row(i));
    const out = await auditFolder('single', rows);
    await mkdir(join(out, 'report-rows'));
    await writeFile(join(out, 'report-rows', 'page-0001.js'), 'stale');
    await writeReports(out, rows, CONFIG);
    expect(existsSync(join(out, 'report-rows'))).toBe(false);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html.match(/<img class="thumb" src="data:image\/webp;base64,/g)).toHaveLength(4);
    expect(html).toContain('img-src data:;');
    expect(REPORT_INLINE_MAX_ROWS).toBeGreaterThanOrEqual(100);
  });

  it("shows a row whose picture file is not a picture without it, and pages a picture's file unread", async () => {
    const rows = Array.from({ length: 3 }, (_, i) => row(i));
    const out = await auditFolder('not-a-picture', rows);
    await writeFile(join(out, rows[1].overlay!), 'not a picture');
    const warnings: string[] = [];
    await writeReports(out, rows, CONFIG, (w) => warnings.push(w), { layout: 'single' });
    expect(warnings).toEqual([
      `1 image of the report is shown without its pictures: ${rows[1].file} (not a PNG, JPEG or WebP picture).`,
    ]);
    await unlink(join(out, rows[2].thumbnail!));
    warnings.length = 0;
    await writeReports(out, rows, CONFIG, (w) => warnings.push(w), { layout: 'pages' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${rows[2].file} ("${rows[2].thumbnail}": no such file or folder)`);
    const page = await readFile(join(out, 'report-rows', 'page-0001.js'), 'utf8');
    expect(page).toContain('"missing":true');
  });
});

describe('sightline audit --report-layout', () => {
  it('writes a paged report of a small audit when asked, with WebP pictures, and refuses an unknown layout', async () => {
    await mkdir(join(dir, 'cli'));
    const data = await watermarkAudit(join(dir, 'cli'), 3);
    const out = join(dir, 'cli-out');
    const args = ['audit', data.folder, ...data.modelArgs, '--method', 'gradient', '--regions', data.regions];
    const result = await runCli([...args, '--out', out, '--report-layout', 'pages']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `Report: ${join(out, 'report.html')} (its rows in report-rows/ beside it;`,
    );
    expect(await readdir(join(out, 'report-rows'))).toEqual(['page-0001.js']);
    const overlays = await readdir(join(out, 'overlays'));
    expect(overlays).toHaveLength(3);
    for (const name of overlays) {
      expect(name.endsWith('.webp')).toBe(true);
      expect((await sharp(join(out, 'overlays', name)).metadata()).format).toBe('webp');
    }
    const bad = await runCli([...args, '--out', out, '--report-layout', 'huge']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'huge'");
    expect(bad.stderr).toContain('single');
  }, 60_000);
});
