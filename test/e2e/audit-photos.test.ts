// `sightline audit` on the real photos with the embedded model: one row per photo, the same predictions as
// `sightline explain`, the dog's region measured by the definition, and a report that opens in Chromium
// without a single network request or console error.
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { decodeNpy } from '../../src/io/npy.js';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';
import { DOG_BOX } from '../helpers/regions.js';

const REGIONS = fileURLToPath(new URL('../fixtures/audit/dog-only-coco.json', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/audit/', import.meta.url));
let dir: string;
let out: string;
let rows: AuditRow[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-photos-'));
  out = join(dir, 'audit');
  const result = await runCli(['audit', SHARED_IMAGES, '--regions', REGIONS, '--out', out]);
  expect(result.code, result.stderr).toBe(0);
  rows = (await readFile(join(out, 'results.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
}, 300_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sightline audit ../shared/images', () => {
  it('writes report.html, results.jsonl and results.csv with one row per photo', async () => {
    const photos = (await readdir(SHARED_IMAGES)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    expect(rows.map((r) => r.file)).toEqual(photos);
    expect(rows.every((r) => r.status === 'ok')).toBe(true);
    const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split(/\r?\n/);
    expect(csv).toHaveLength(photos.length + 1);
    const names = (await readdir(out)).sort();
    expect(names).toEqual(
      expect.arrayContaining(['report.html', 'results.csv', 'results.jsonl', 'summary.json']),
    );
  });

  it('gives dog.jpg the same predictions as `sightline explain`, and its region share by the definition', async () => {
    const npy = join(dir, 'dog.npy');
    const explained = await runCli([
      'explain',
      join(SHARED_IMAGES, 'dog.jpg'),
      '--method',
      'grad-cam',
      '--json',
      '--out',
      join(dir, 'dog.png'),
      '--save-map',
      npy,
    ]);
    expect(explained.code, explained.stderr).toBe(0);
    const reference = JSON.parse(explained.stdout);
    const dog = rows.find((r) => r.file === 'dog.jpg')!;
    expect(dog.predictions?.map((p) => p.label)).toEqual(
      reference.predictions.map((p: { label: string }) => p.label),
    );
    for (const [i, p] of (dog.predictions ?? []).entries())
      expect(p.score).toBeCloseTo(reference.predictions[i].score, 6);

    // Share of attention inside the dog's box, from the raw Grad-CAM map (unsigned: |v|), pixel centres.
    const { data, shape } = decodeNpy(new Uint8Array(await readFile(npy)));
    const [h, w] = shape;
    const [x0, y0, x1, y1] = DOG_BOX;
    let inside = 0;
    let total = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = Math.abs(data[y * w + x]);
        total += v;
        if (x >= x0 && x < x1 && y >= y0 && y < y1) inside += v;
      }
    expect(dog.region?.share).toBeCloseTo(inside / total, 5);
    expect(dog.region?.areaShare).toBeCloseTo(((x1 - x0) * (y1 - y0)) / (w * h), 6);
    // Grad-CAM on the malamute concentrates on the dog (the CLI test measures 3.5× the box's area share).
    expect(dog.region?.concentration).toBeGreaterThan(2);
    expect(['object', 'partly']).toContain(dog.region?.verdict);
    // Photos without regions get no region measures.
    expect(rows.filter((r) => r.region).map((r) => r.file)).toEqual(['dog.jpg']);
  }, 120_000);

  it('opens report.html in headless Chromium with no network request and no console error', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      context.on('request', (r) => {
        requests.push(r.url());
      });
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      const url = `file://${join(out, 'report.html')}`;
      await page.goto(url);
      await page.waitForLoadState('load');
      const text = (await page.textContent('body')) ?? '';
      expect(text).toContain('dog.jpg');
      await page.getByRole('button', { name: 'dog.jpg' }).click();
      await page.waitForSelector('dialog[open] img');
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'shared-images-dialog.png') });
      await page.keyboard.press('Escape');
      await page.screenshot({ path: join(ARTIFACTS, 'shared-images-report.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
