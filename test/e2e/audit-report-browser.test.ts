// report.html in Debian's headless Chromium, opened from disk as a person would open it from a USB stick:
// it must make no request but for itself and its data: pictures, raise no error, and its table must sort,
// filter and open the detail dialog.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarize, summaryGrid } from '../../src/audit/aggregate.js';
import { renderReport } from '../../src/audit/report/index.js';
import type { AuditRow, AuditVerdict } from '../../src/audit/types.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/audit/', import.meta.url));
const HOSTILE = '<img src=x onerror=alert(1)>.jpg';

function summaryOf(values: number[]): number[] {
  return summaryGrid({ width: 2, height: 2, data: Float32Array.from(values) }, false);
}

function row(
  file: string,
  verdict: AuditVerdict | null,
  share: number,
  top: string,
  correct: boolean,
): AuditRow {
  return {
    file,
    status: 'ok',
    width: 64,
    height: 48,
    predictions: [{ index: 1, label: top, score: 0.5 + share / 2 }],
    label: { text: 'tabby', index: 1 },
    correct,
    target: { index: 1, label: 'tabby' },
    region:
      verdict === null
        ? undefined
        : {
            share,
            areaShare: 0.25,
            concentration: share / 0.25,
            peakInside: share > 0.5,
            tolerance: 15,
            verdict,
          },
    borderShare: 1 - share,
    summary: share > 0.4 ? summaryOf([1, 0.2, 0.1, 0]) : summaryOf([0, 0.1, 0.2, 1]),
    seconds: 0.4,
  };
}

const ROWS: AuditRow[] = [
  row('cats/object-high.jpg', 'object', 0.81, 'tabby', true),
  row('cats/object-low.jpg', 'object', 0.55, 'tabby', true),
  row('cats/partly.jpg', 'partly', 0.35, 'tiger cat', false),
  row(HOSTILE, 'background', 0.12, '"&\'<>', false),
  row('dogs/no-box.jpg', null, 0, 'tabby', true),
  {
    file: 'broken.jpg',
    status: 'error',
    error: { code: 'IMAGE_DECODE', message: 'Not an image <b>at all</b>' },
  },
];

/** File names in the table's default order: errors, background, partly, object (lowest share first), no region. */
const WORST_FIRST = [
  'broken.jpg',
  HOSTILE,
  'cats/partly.jpg',
  'cats/object-low.jpg',
  'cats/object-high.jpg',
  'dogs/no-box.jpg',
];

let scratch: string;
let reportUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const problems: string[] = [];

async function png(width: number, height: number, r: number, g: number, b: number): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = x / width;
      raw.set([Math.round(r * (1 - t)), g, Math.round(b * t + 60 * (y / height))], (y * width + x) * 3);
    }
  }
  return new Uint8Array(
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

async function fileOrder(): Promise<string[]> {
  return page.$$eval('#images tbody tr', (trs) =>
    (trs as HTMLTableRowElement[])
      .filter((tr) => !tr.hidden)
      .map((tr) => tr.querySelector('button.open')?.textContent ?? ''),
  );
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium).`);
  }
  await mkdir(ARTIFACTS, { recursive: true });
  scratch = await mkdtemp(join(tmpdir(), 'sightline-report-'));
  const images = new Map<string, { thumbnail: Uint8Array; overlay: Uint8Array }>();
  for (const [i, r] of ROWS.entries()) {
    if (r.status !== 'ok') continue;
    images.set(r.file, {
      thumbnail: await png(32, 24, 40 * i, 120, 200),
      overlay: await png(320, 240, 255, 40 * i, 90),
    });
  }
  const html = await renderReport({
    rows: ROWS,
    summary: summarize(ROWS, { clusters: 2 }),
    config: { model: 'default', method: 'grad-cam', options: { layer: 'Mixed_7c' }, regions: 'boxes.json' },
    title: 'Cats and dogs',
    images,
  });
  const path = join(scratch, 'report.html');
  await writeFile(path, html);
  reportUrl = pathToFileURL(path).href;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.on('request', (request) => {
    requests.push(request.url());
  });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('dialog', (dialog) => {
    problems.push(`unexpected ${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(reportUrl);
  await page.waitForLoadState('load');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('report.html in Chromium', () => {
  it('lists the images worst first and shows the hostile name as text', async () => {
    expect(await fileOrder()).toEqual(WORST_FIRST);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('#images tbody tr', { hasText: '"&\'<>' }).count()).toBe(1);
    expect(await page.locator('#shown-count').textContent()).toBe('Showing 6 of 6 images');
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  });

  it('sorts by share when its header is clicked, and reverses on a second click', async () => {
    const share = page.locator('thead button[data-sort="share"]');
    await share.click();
    // Rows without a share (the error, the image without a region) come last, in the default order.
    expect(await fileOrder()).toEqual([
      HOSTILE,
      'cats/partly.jpg',
      'cats/object-low.jpg',
      'cats/object-high.jpg',
      'broken.jpg',
      'dogs/no-box.jpg',
    ]);
    expect(await page.getAttribute('th[data-sort="share"]', 'aria-sort')).toBe('ascending');
    expect(await page.getAttribute('th[data-sort="verdict"]', 'aria-sort')).toBe('none');
    await share.press('Enter');
    expect((await fileOrder()).slice(0, 2)).toEqual(['cats/object-high.jpg', 'cats/object-low.jpg']);
    expect((await fileOrder()).slice(-2)).toEqual(['broken.jpg', 'dogs/no-box.jpg']);
    expect(await page.getAttribute('th[data-sort="share"]', 'aria-sort')).toBe('descending');
    await page.locator('thead button[data-sort="verdict"]').click();
    expect(await fileOrder()).toEqual(WORST_FIRST);
  });

  it('filters by text and by verdict', async () => {
    await page.fill('#filter-text', 'cats/');
    expect(await fileOrder()).toEqual(['cats/partly.jpg', 'cats/object-low.jpg', 'cats/object-high.jpg']);
    expect(await page.locator('#shown-count').textContent()).toBe('Showing 3 of 6 images');
    await page.fill('#filter-text', 'OBJECT high');
    expect(await fileOrder()).toEqual(['cats/object-high.jpg']);
    await page.fill('#filter-text', 'not an image');
    expect(await fileOrder()).toEqual(['broken.jpg']);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-verdict', 'background');
    expect(await fileOrder()).toEqual([HOSTILE]);
    await page.selectOption('#filter-verdict', 'all');
    expect(await fileOrder()).toHaveLength(6);
  });

  it("a finding's button filters the table to the images it names", async () => {
    await page.fill('#filter-text', 'cats/');
    await page.locator('button[data-finding="finding-background"]').click();
    expect(await page.inputValue('#filter-text')).toBe('');
    expect(await page.inputValue('#filter-verdict')).toBe('finding-background');
    expect(await fileOrder()).toEqual([HOSTILE]);
    expect(await page.locator('#shown-count').textContent()).toBe('Showing 1 of 6 images');
    await page.locator('button[data-finding="finding-errors"]').click();
    expect(await fileOrder()).toEqual(['broken.jpg']);
    await page.selectOption('#filter-verdict', 'all');
    expect(await fileOrder()).toHaveLength(6);
  });

  it('opens a row’s overlay and details in a dialog, by click and by keyboard', async () => {
    await page.locator('#images tbody tr', { hasText: 'cats/partly.jpg' }).locator('td').nth(8).click();
    const dialog = page.locator('#detail');
    await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(true);
    expect(await page.locator('#detail-title').textContent()).toBe('cats/partly.jpg');
    const image = await page.locator('#detail-image').evaluate((img) => ({
      src: (img as HTMLImageElement).src.slice(0, 22),
      width: (img as HTMLImageElement).naturalWidth,
      visible: !(img as HTMLImageElement).hidden,
      alt: (img as HTMLImageElement).alt,
    }));
    expect(image).toEqual({
      src: 'data:image/png;base64,',
      width: 320,
      visible: true,
      alt: 'Heat map over cats/partly.jpg',
    });
    expect(await page.locator('#detail-list').textContent()).toContain('looks partly outside');
    await page.screenshot({ path: join(ARTIFACTS, 'report-dialog.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(false);
    // The dialog's close event, which returns focus to the row's button, comes a task after `open` turns false:
    // focusing the next button before it lands let it take the focus back, and Enter reopened this row.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('cats/partly.jpg');

    await page.locator('#images tbody tr', { hasText: 'broken.jpg' }).locator('button.open').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(true);
    expect(await page.locator('#detail-image').isHidden()).toBe(true);
    expect(await page.locator('#detail-list').textContent()).toContain(
      'Not an image <b>at all</b> (IMAGE_DECODE)',
    );
    await page.locator('#detail-close').click();
    await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open)).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('broken.jpg');
  });

  it('fits a phone’s width without the page scrolling sideways', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(ARTIFACTS, 'report-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('made no request but for itself and data: pictures, and logged no error', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => url !== reportUrl && !url.startsWith('data:'))).toEqual([]);
    expect(problems).toEqual([]);
  });
});

/** A detector's row: each detection [label, verdict or 'none' (a zero map), share in its box, found object]. */
function detectRow(
  file: string,
  objects: number,
  detections: [string, AuditVerdict | 'none', number, number | undefined][],
  misses: string[] = [],
): AuditRow {
  return {
    file,
    status: 'ok',
    task: 'detect',
    width: 64,
    height: 64,
    predictions: detections.map(([label], index) => ({ index, label, score: 0.9 })),
    detect: {
      objects,
      explained: detections.length,
      detections: detections.map(([label, verdict, share, object], index) => ({
        index,
        label,
        classIndex: 0,
        score: 0.9,
        box: [0, 0, 16, 16],
        ...(object === undefined ? {} : { object, iou: 1 }),
        ...(verdict === 'none' ? { noEvidence: true } : { verdict, boxShare: share }),
      })),
      misses: misses.map((label, j) => ({
        object: detections.length + j,
        label,
        classIndex: 1,
        box: [30, 30, 40, 40],
        bestIou: 0,
        noEvidence: true,
      })),
    },
  };
}

describe("report.html of a detector's audit in Chromium: the verdict filter", () => {
  const DETECT_ROWS: AuditRow[] = [
    // A false positive looking partly outside its box beside a found red looking at it.
    detectRow('det/fp.png', 1, [
      ['blue', 'partly', 0.34, undefined],
      ['red', 'object', 0.9, 0],
    ]),
    detectRow('det/miss.png', 2, [['red', 'object', 0.8, 0]], ['green']),
    detectRow('det/bg.png', 1, [['red', 'background', 0.1, 0]]),
    detectRow('det/zero.png', 1, [['red', 'none', 0, 0]]),
    detectRow('det/empty.png', 0, []),
  ];
  let detectPage: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const html = await renderReport({
      rows: DETECT_ROWS,
      summary: summarize(DETECT_ROWS),
      config: { model: 'det.onnx', method: 'd-rise', options: {}, regions: 'coco.json' },
    });
    const path = join(scratch, 'detect-report.html');
    await writeFile(path, html);
    detectPage = await context.newPage();
    detectPage.on('pageerror', (error) => errors.push(error.message));
    await detectPage.goto(pathToFileURL(path).href);
    await detectPage.waitForLoadState('load');
  }, 60_000);

  const shown = () =>
    detectPage.$$eval('#images tbody tr', (trs) =>
      (trs as HTMLTableRowElement[])
        .filter((tr) => !tr.hidden)
        .map((tr) => tr.querySelector('button.open')?.textContent ?? ''),
    );

  it('files each row under its worst detection, and finds it under every verdict its detections have', async () => {
    // Worst first: no evidence, background, partly (0.34), object (0.8), then the row with no detection.
    expect(await shown()).toEqual([
      'det/zero.png',
      'det/bg.png',
      'det/fp.png',
      'det/miss.png',
      'det/empty.png',
    ]);
    const badges = await detectPage.$$eval('#images tbody tr .badge', (els) => els.map((e) => e.textContent));
    expect(badges).toEqual([
      'no evidence for the class',
      'looks at the background',
      'looks partly outside',
      'looks at the object',
      'no region',
    ]);
    const filter = async (kind: string) => {
      await detectPage.selectOption('#filter-verdict', kind);
      return shown();
    };
    expect(await filter('object')).toEqual(['det/fp.png', 'det/miss.png']);
    expect(await filter('partly')).toEqual(['det/fp.png']);
    expect(await filter('background')).toEqual(['det/bg.png']);
    expect(await filter('noevidence')).toEqual(['det/zero.png']);
    expect(await filter('falsepositive')).toEqual(['det/fp.png']);
    expect(await filter('missed')).toEqual(['det/miss.png']);
    expect(await detectPage.locator('#shown-count').textContent()).toBe('Showing 1 of 5 images');
    expect(await filter('all')).toHaveLength(5);
    // The dataset's table counts detections per verdict, and false positives among them.
    const table = await detectPage.locator('table.small').first().textContent();
    expect(table).toContain('Verdicts of the explained detections');
    // object: fp.png's red and miss.png's red, both found; partly: fp.png's blue, the false positive.
    expect(table?.replace(/\s+/g, ' ')).toContain(
      'looks at the object20 looks partly outside11 looks at the background10 no evidence for the class10',
    );
    expect(errors).toEqual([]);
  });

  it("reads the verdicts as judged against each detection's box, without a classifier's accuracy", async () => {
    const text = (await detectPage.locator('main').textContent()) ?? '';
    expect(text).toContain("each explained detection's map is judged against its own box");
    expect(text).not.toContain('accuracy');
    expect(text).not.toContain('Accuracy');
    expect(await page.locator('main').textContent()).toContain('Accuracy: 60%');
    expect(await page.locator('main').textContent()).not.toContain('judged against its own box');
  });

  it('offers the detector kinds only in a detector audit', async () => {
    expect(await detectPage.locator('#filter-verdict option[value="missed"]').count()).toBe(1);
    expect(await page.locator('#filter-verdict option[value="missed"]').count()).toBe(0);
    expect(await page.locator('#filter-verdict option[value="falsepositive"]').count()).toBe(0);
  });
});
