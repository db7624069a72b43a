// Issue 16 item 5, reports that scale: bytes per image of report.html and how soon Chromium shows the first rows
// of a 10,000-image report (goals: ≤ 60 KB an image, ≤ 3 s). The rows are generated here (verdicts, shares,
// predictions, summary maps drawn from a seeded generator); each row's pictures are the real WebP overlay and
// thumbnail of one of the sample photos (a smooth synthetic map over the photo, drawn by renderRowPictures as
// an audit does), hard-linked so 10,000 rows cost ten photos' disk. writeReports writes the report as
// `sightline audit` does (auto: paged beyond REPORT_INLINE_MAX_ROWS), then Chromium opens it from file://,
// alternating fresh contexts, and the median of the runs is taken for: first rows shown (the table's first row
// drawn from report-rows/page-0001.js) and every row read (the last page file's rows in; sorting and
// filtering then cover all of them). Also measured: a single-file report of the ten photos (--report-layout
// single), bytes per image.
//   node scripts/bench-report.mjs            after `npm run build`; prints the figures as JSON
//   BENCH_REPORT_ROWS=10000 BENCH_REPORT_REPS=3
//   BENCH_REPORT_IMAGES=folder               the photos (default ../shared/images, else examples/)
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { summaryGrid } from '../dist/audit/aggregate.js';
import { fileStem, renderRowPictures } from '../dist/audit/row-pictures.js';
import { writeReports } from '../dist/audit/write.js';

const CHROMIUM = '/usr/bin/chromium';
const GOAL_BYTES = 60_000;
const GOAL_SECONDS = 3;
const root = fileURLToPath(new URL('..', import.meta.url));

async function photos() {
  const folders = process.env.BENCH_REPORT_IMAGES
    ? [process.env.BENCH_REPORT_IMAGES]
    : [join(root, '..', 'shared', 'images'), join(root, 'examples')];
  for (const folder of folders) {
    const names = (await readdir(folder).catch(() => [])).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
    if (names.length > 0) return names.map((n) => join(folder, n));
  }
  throw new Error('bench-report: no photos (set BENCH_REPORT_IMAGES)');
}

/** A deterministic generator (mulberry32), so every run reports on the same rows. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A smooth blob centred at (cx, cy) in [0, 1]², the shape of a Grad-CAM map. */
function blob(width, height, cx, cy) {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const dx = x / width - cx;
      const dy = y / height - cy;
      data[y * width + x] = Math.exp(-(dx * dx + dy * dy) * 14);
    }
  return data;
}

const LABELS = ['tabby', 'tiger cat', 'golden retriever', 'kite', 'horse cart', 'space shuttle', 'espresso'];

function syntheticRow(i, rand, pictures, errors = true) {
  const file = `batch-${String(Math.floor(i / 1000)).padStart(2, '0')}/photo-${String(i).padStart(5, '0')}.jpg`;
  if (errors && rand() < 0.02) {
    return { file, status: 'error', error: { code: 'IMAGE_DECODE', message: `'${file}' is not an image.` } };
  }
  const share = rand();
  const verdict = share > 0.6 ? 'object' : share > 0.3 ? 'partly' : 'background';
  const top = LABELS[Math.floor(rand() * LABELS.length)];
  const label = LABELS[Math.floor(rand() * LABELS.length)];
  const stem = fileStem(file);
  return {
    file,
    status: 'ok',
    width: 640,
    height: 480,
    predictions: [
      { index: 1, label: top, score: 0.4 + rand() * 0.6 },
      { index: 2, label, score: rand() * 0.3 },
    ],
    label: { text: label, index: 2 },
    correct: top === label,
    target: { index: 1, label: top },
    region: {
      share,
      areaShare: 0.25,
      concentration: share / 0.25,
      peakInside: share > 0.5,
      tolerance: 15,
      verdict,
    },
    borderShare: rand() * 0.5,
    summary: summaryGrid({ width: 16, height: 16, data: blob(16, 16, rand(), rand()) }, false),
    seconds: 0.3,
    overlay: `overlays/${stem}.webp`,
    thumbnail: `thumbnails/${stem}.webp`,
    picture: i % pictures,
  };
}

async function folderBytes(path) {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    total += entry.isDirectory() ? await folderBytes(p) : (await stat(p)).size;
  }
  return total;
}

/** The report's own bytes: report.html, its page files, and the pictures it shows (not the journal or CSV). */
async function reportBytes(out) {
  let total = (await stat(join(out, 'report.html'))).size;
  for (const sub of ['report-rows', 'overlays', 'thumbnails'])
    if (existsSync(join(out, sub))) total += await folderBytes(join(out, sub));
  return total;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export default async function benchReport({ quick = false } = {}) {
  const count = Number(process.env.BENCH_REPORT_ROWS ?? (quick ? 1000 : 10_000));
  const reps = Number(process.env.BENCH_REPORT_REPS ?? (quick ? 1 : 3));
  const dir = await mkdtemp(join(tmpdir(), 'sightline-bench-report-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    // The photos' pictures, drawn once each as an audit draws them.
    const samples = [];
    for (const path of await photos()) {
      const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const image = { width: info.width, height: info.height, data: new Uint8Array(data) };
      const map = {
        width: info.width,
        height: info.height,
        data: blob(info.width, info.height, 0.45, 0.5),
        signed: false,
      };
      samples.push({
        path,
        pictures: await renderRowPictures(
          { image, map },
          { file: path, status: 'ok', target: { index: 0, label: 'tabby' } },
          'Grad-CAM',
        ),
      });
    }
    const config = { model: 'synthetic', method: 'grad-cam', options: {} };

    // The ten photos as a small audit's single-file report.
    const small = join(dir, 'small');
    await mkdir(join(small, 'overlays'), { recursive: true });
    await mkdir(join(small, 'thumbnails'), { recursive: true });
    const smallRows = [];
    for (const [i, s] of samples.entries()) {
      const { picture, ...named } = syntheticRow(i, random(i + 1), samples.length, false);
      await writeFile(join(small, named.overlay), s.pictures.overlay);
      await writeFile(join(small, named.thumbnail), s.pictures.thumbnail);
      smallRows.push(named);
    }
    await writeReports(small, smallRows, config, undefined, { layout: 'single' });
    const singleBytes = (await stat(join(small, 'report.html'))).size / samples.length;

    // The large audit.
    const out = join(dir, 'large');
    await mkdir(join(out, 'overlays'), { recursive: true });
    await mkdir(join(out, 'thumbnails'), { recursive: true });
    const shared = join(dir, 'shared');
    await mkdir(shared);
    for (const [i, s] of samples.entries()) {
      await writeFile(join(shared, `o${i}.webp`), s.pictures.overlay);
      await writeFile(join(shared, `t${i}.webp`), s.pictures.thumbnail);
    }
    const rand = random(16);
    const rows = [];
    for (let i = 0; i < count; i++) {
      const { picture, ...row } = syntheticRow(i, rand, samples.length);
      if (row.status === 'ok') {
        await link(join(shared, `o${picture}.webp`), join(out, row.overlay));
        await link(join(shared, `t${picture}.webp`), join(out, row.thumbnail));
      }
      rows.push(row);
    }
    const t0 = performance.now();
    const warnings = [];
    await writeReports(out, rows, config, (w) => warnings.push(w));
    if (warnings.length > 0) throw new Error(`bench-report: ${warnings.join(' ')}`);
    const writeSeconds = (performance.now() - t0) / 1000;
    const pagedBytes = (await reportBytes(out)) / count;
    const pageFiles = existsSync(join(out, 'report-rows'))
      ? (await readdir(join(out, 'report-rows'))).length
      : 0;

    const url = pathToFileURL(join(out, 'report.html')).href;
    const first = [];
    const all = [];
    for (let r = 0; r < reps; r++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const start = performance.now();
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForSelector('#images tbody tr[data-index]', { timeout: 60_000 });
      first.push((performance.now() - start) / 1000);
      await page.waitForFunction(
        (n) => document.getElementById('shown-count')?.textContent === `Showing ${n} of ${n} images`,
        count,
        { timeout: 120_000, polling: 50 },
      );
      all.push((performance.now() - start) / 1000);
      if (errors.length > 0) throw new Error(`bench-report: the page raised ${errors.join('; ')}`);
      await context.close();
    }
    const firstRows = median(first);
    const result = {
      rows: count,
      photos: samples.length,
      pageFiles,
      writeReportsSeconds: Number(writeSeconds.toFixed(2)),
      pagedBytesPerImage: Math.round(pagedBytes),
      singleFileBytesPerImage: Math.round(singleBytes),
      reportHtmlBytes: (await stat(join(out, 'report.html'))).size,
      chromiumFirstRowsSeconds: Number(firstRows.toFixed(2)),
      chromiumAllRowsSeconds: Number(median(all).toFixed(2)),
      runs: { first: first.map((s) => Number(s.toFixed(2))), all: all.map((s) => Number(s.toFixed(2))) },
      goals: {
        bytesPerImage: `≤ ${GOAL_BYTES}: ${Math.max(pagedBytes, singleBytes) <= GOAL_BYTES ? 'met' : 'not met'}`,
        firstRows: `≤ ${GOAL_SECONDS} s: ${firstRows <= GOAL_SECONDS ? 'met' : 'not met'}`,
      },
    };
    return result;
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchReport(), null, 2));
}
