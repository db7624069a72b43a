// The web app's no-code audit, end to end in Debian's headless Chromium: a folder of photos and a COCO file
// picked in the page, audited in the engine worker with a dropped ONNX model (the watermark model of
// audit.test.ts: it scores a corner patch), gives the CLI's results.csv for the same folder, model, method
// and regions; Cancel keeps the rows done and the CSV has exactly those.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/audit/report/csv.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { patchModelProto } from '../helpers/analytic.js';
import { CLI, runCli } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const MINUTE = 60_000;
const SIZE = 64;
const WATERMARK = { x0: 0, y0: 0, x1: 8, y1: 8 };
/** Per photo, the box the COCO file marks: on the watermark, half over it, and away from it. */
const BOXES = [
  [0, 0, 8, 8],
  [0, 0, 4, 8],
  [24, 24, 16, 16],
  [2, 2, 20, 12],
];

let scratch: string;
let server: ChildProcess;
let browser: Browser;
let page: Page;

async function photo(path: string, i: number): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE * 3);
  for (let p = 0; p < data.length; p++) data[p] = (p * 7 + i * 31 + ((p / 3) >> 6) * 13) % 256;
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

async function coco(path: string, files: string[]): Promise<void> {
  await writeFile(
    path,
    JSON.stringify({
      images: files.map((file_name, id) => ({ id, file_name, width: SIZE, height: SIZE })),
      annotations: files.map((_, id) => ({
        id,
        image_id: id,
        category_id: 1,
        bbox: BOXES[id % BOXES.length],
      })),
      categories: [{ id: 1, name: 'object' }],
    }),
  );
}

/** A CSV's data lines as cells, numbers rounded to 4 decimals (onnxruntime-web and -node differ past that). */
function cells(csv: string): string[][] {
  return csv
    .trim()
    .split('\r\n')
    .map((line) =>
      line.split(',').map((cell) => (/^-?\d+(\.\d+)?(e-?\d+)?$/.test(cell) ? Number(cell).toFixed(4) : cell)),
    );
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium.`);
  scratch = await mkdtemp(join(tmpdir(), 'sightline-web-audit-'));
  await writeFile(
    join(scratch, 'watermark.onnx'),
    encodeModel(patchModelProto(WATERMARK, { dims: ['N', 3, SIZE, SIZE] })),
  );
  await writeFile(join(scratch, 'classes.txt'), 'watermarked\nclean\n');
  server = spawn(process.execPath, [CLI, 'serve', '--port', '0']);
  const origin = await new Promise<string>((resolve, reject) => {
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
  page = await context.newPage();
  await page.goto(`${origin}/`);
  // The page starts the built-in model first; a dropped model is opened once it is up.
  await page.waitForFunction(
    () => document.getElementById('model-line')?.textContent?.startsWith('Model:'),
    null,
    {
      timeout: 2 * MINUTE,
    },
  );
  // The watermark model, as the CLI reads it with --mean 0 --std 1 --class-names classes.txt.
  await page.setInputFiles('#labels-input', join(scratch, 'classes.txt'));
  await page.setInputFiles('#model-input', join(scratch, 'watermark.onnx'));
  await page.waitForSelector('#model-form:not([hidden])', { timeout: MINUTE });
  await page.selectOption('#normalization', 'unit');
  await page.click('#model-form button[type="submit"]');
  await page.waitForFunction(
    () => document.getElementById('model-line')?.textContent?.startsWith('Model: watermark.onnx'),
    null,
    { timeout: MINUTE },
  );
  await page.evaluate(() => {
    const select = document.getElementById('method') as HTMLSelectElement;
    select.value = 'gradient';
    select.dispatchEvent(new Event('change'));
  });
}, 4 * MINUTE);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGINT');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function audit(folder: string, regions: string, cancelAfterFirstRow = false): Promise<string> {
  await page.setInputFiles('#audit-folder', folder);
  await page.setInputFiles('#audit-regions', regions);
  await page.click('#audit-start');
  if (cancelAfterFirstRow) {
    await page.waitForSelector('#audit-rows tr', { timeout: MINUTE });
    await page.click('#audit-cancel');
  }
  await page.waitForSelector('#audit-csv:not([hidden])', { timeout: 2 * MINUTE });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
  expect(download.suggestedFilename()).toBe('results.csv');
  return readFile((await download.path())!, 'utf8');
}

async function cliCsv(folder: string, regions: string, out: string): Promise<string> {
  const result = await runCli([
    'audit',
    folder,
    '--model',
    join(scratch, 'watermark.onnx'),
    '--mean',
    '0',
    '--std',
    '1',
    '--class-names',
    join(scratch, 'classes.txt'),
    '--method',
    'gradient',
    '--regions',
    regions,
    '--out',
    out,
  ]);
  expect(result.code, result.stderr).toBe(0);
  return readFile(join(out, 'results.csv'), 'utf8');
}

describe('the audit in the web app', () => {
  it(
    'gives the rows `sightline audit` gives for the same folder, COCO regions, model and method',
    async () => {
      const folder = join(scratch, 'photos');
      await mkdir(join(folder, 'sub'), { recursive: true });
      const files = ['a.png', 'b.png', 'c.png', 'sub/d.png'];
      for (const [i, file] of files.entries()) await photo(join(folder, file), i);
      await writeFile(join(folder, 'broken.png'), 'not a picture');
      const regions = join(scratch, 'regions.json');
      await coco(regions, files);

      const web = await audit(folder, regions);
      const out = join(scratch, 'out');
      const cli = await cliCsv(folder, regions, out);
      const { summary } = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
      expect(web.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
      const [webRows, cliRows] = [cells(web), cells(cli)];
      expect(webRows.map((r) => r[0])).toEqual([
        'file',
        'a.png',
        'b.png',
        'broken.png',
        'c.png',
        'sub/d.png',
      ]);
      // The broken file is an error row in both; its message comes from another decoder (sharp, the browser's).
      const error = CSV_COLUMNS.indexOf('error');
      expect(webRows[3].slice(0, error)).toEqual(cliRows[3].slice(0, error));
      expect(webRows[3][1]).toBe('error');
      expect(webRows.filter((_, i) => i !== 3)).toEqual(cliRows.filter((_, i) => i !== 3));
      // The numbers are the watermark's: the box on it holds all the attention, the one away from it none.
      const share = CSV_COLUMNS.indexOf('share');
      const verdict = CSV_COLUMNS.indexOf('verdict');
      expect([webRows[1][share], webRows[1][verdict]]).toEqual(['1.0000', 'object']);
      expect([webRows[4][share], webRows[4][verdict]]).toEqual(['0.0000', 'background']);

      expect(await page.textContent('#audit-status')).toBe('Done: 5 photos.');
      const count = (v: string) => cliRows.filter((r) => r[verdict] === v).length;
      expect(await page.textContent('#audit-summary')).toBe(
        `5 photos, 1 error. Of the 4 with regions, ${count('object')} look at the object, ${count('partly')} look partly outside, ${count('background')} look at the background. ` +
          `On average ${(Number(summary.borderShare) * 100).toFixed(1)}% of the attention falls on the photos' border band (an even spread would put ${(Number(summary.borderAreaShare) * 100).toFixed(1)}% there). ` +
          'The square shows where the model looks on average (red: most).',
      );
      expect(await page.$$eval('#audit-rows tr', (trs) => trs.length)).toBe(5);
    },
    3 * MINUTE,
  );

  it(
    'stops on Cancel and downloads the rows done so far, equal to the CLI’s for those photos',
    async () => {
      const folder = join(scratch, 'many');
      await mkdir(folder);
      const files = Array.from({ length: 150 }, (_, i) => `p${String(i).padStart(3, '0')}.png`);
      await Promise.all(files.map((file, i) => photo(join(folder, file), i)));
      const regions = join(scratch, 'many.json');
      await coco(regions, files);

      const web = cells(await audit(folder, regions, true));
      const status = (await page.textContent('#audit-status')) ?? '';
      const done = web.length - 1;
      expect(status).toBe(`Cancelled: ${done} of 150 photos done; the results below are for those.`);
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThan(150);
      // The CLI on just the photos the page did (the regions file names all 150; the others go unmatched).
      const subset = join(scratch, 'done');
      await mkdir(subset);
      for (const [file] of web.slice(1)) await copyFile(join(folder, file), join(subset, file));
      const cli = cells(await cliCsv(subset, regions, join(scratch, 'many-out')));
      expect(web).toEqual(cli);
    },
    3 * MINUTE,
  );

  it('says what is wrong with a regions file that is not COCO, and audits nothing', async () => {
    const bad = join(scratch, 'bad.json');
    await writeFile(bad, JSON.stringify({ images: 'none' }));
    await page.setInputFiles('#audit-regions', bad);
    await page.click('#audit-start');
    await page.waitForFunction(() =>
      document.getElementById('audit-status')?.textContent?.startsWith('The audit stopped'),
    );
    expect(await page.textContent('#audit-status')).toBe(
      "The audit stopped: 'bad.json' is JSON but not COCO; expected an object with the lists 'images' and 'annotations'.",
    );
    expect(await page.isEnabled('#audit-start')).toBe(true);
  });
});
