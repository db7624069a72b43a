// Times everything `sightline explain` does outside the model, on synthetic JPEG photos of 768 × 576, 12 MP
// (4000 × 3000) and 48 MP (8000 × 6000): decode → preprocess (resize, normalise) → [a fixed map at the model's
// input size instead of the method] → map back to the photo → overlay with outline → legend and PNG. The goal
// (issue 12) is ≤ 0.1 s at 768 × 576 and ≤ 1.5 s at 48 MP. Each size runs once to warm up, then `--reps` times
// (default 3); the table shows the fastest run's stages, the first run's total (a fresh process, as one
// `sightline explain`, also compiles the code), the median total and the fastest run's CPU time (user + system,
// all threads: on a busy machine the wall time also counts waiting for a core), under the machine's load average.
//   node scripts/bench.mjs --outside          only this part (after `npm run build`; `npm run bench` runs it too)
//   node scripts/bench-outside.mjs [--reps 3] [--sizes 768x576,4000x3000,8000x6000]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { mapToImage, preprocess } from '../dist/core/preprocess.js';
import { decodeImage } from '../dist/io/decode.js';
import { loadDefaultModel } from '../dist/models/default-model.js';
import { encodeRgbPng, renderOverlayWithLegend } from '../dist/render/png.js';

const GOAL_48MP_SECONDS = 1.5;
const GOAL_SMALL_SECONDS = 0.1;

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const reps = Math.max(1, Number(argument('--reps', '3')) || 3);
const sizes = argument('--sizes', '768x576,4000x3000,8000x6000')
  .split(',')
  .map((s) => s.split('x').map(Number));

/** A photo-like JPEG: smooth random colour fields with grain, as a phone would save it (quality 90). */
async function syntheticJpeg(width, height, seed) {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const coarse = Buffer.from(Array.from({ length: 32 * 24 * 3 }, () => Math.floor(random() * 256)));
  const fields = await sharp(coarse, { raw: { width: 32, height: 24, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .png({ compressionLevel: 0 })
    .toBuffer();
  const grain = await sharp({
    create: { width, height, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 24 } },
  })
    .png({ compressionLevel: 0 })
    .toBuffer();
  return sharp(fields)
    .composite([{ input: grain, blend: 'soft-light' }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** What a saliency method would give at the model's input size: two smooth blobs and some speckle. */
function fakeMap(width, height) {
  const map = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = Math.exp(-((x - 0.35 * width) ** 2 + (y - 0.4 * height) ** 2) / (2 * (0.12 * width) ** 2));
      const b =
        0.6 * Math.exp(-((x - 0.7 * width) ** 2 + (y - 0.65 * height) ** 2) / (2 * (0.08 * width) ** 2));
      map[y * width + x] = a + b + 0.05 * (((x * 7919 + y * 104729) % 97) / 97);
    }
  }
  return map;
}

async function timeOnce(jpeg, spec) {
  const stages = {};
  const cpuStart = process.cpuUsage();
  let t = performance.now();
  const lap = (name) => {
    const now = performance.now();
    stages[name] = (now - t) / 1000;
    t = now;
  };
  const photo = await decodeImage(jpeg);
  lap('decode');
  const { geometry } = preprocess(photo, spec);
  lap('preprocess');
  const inputMap = fakeMap(spec.width, spec.height);
  t = performance.now();
  const map = mapToImage(inputMap, spec.width, spec.height, geometry);
  lap('map back');
  // renderOverlayPng, in its two halves.
  const pixels = await renderOverlayWithLegend(photo, map, {
    mode: 'absolute',
    colormap: 'turbo',
    legend: { method: 'Grad-CAM', target: 'golden retriever' },
  });
  lap('overlay, outline, legend');
  const png = await encodeRgbPng(pixels);
  lap('PNG');
  const cpu = process.cpuUsage(cpuStart);
  return { stages, bytes: png.length, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** Per photo size: the fastest run's stages, first/fastest/median totals and CPU seconds (seconds). */
export async function benchOutsideTheModel() {
  const model = await loadDefaultModel();
  const spec = model.spec;
  await model.dispose();
  console.log(
    `\nload average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} on ${os.cpus().length} cores`,
  );
  console.log(
    `outside the model: decode → preprocess → map back (${spec.width}×${spec.height} map) → overlay, outline, legend → PNG`,
  );
  const rows = [];
  const results = [];
  let verdict = '';
  for (const [width, height] of sizes) {
    const jpeg = await syntheticJpeg(width, height, width * 7 + height);
    // The first run also compiles the code (a fresh process, as one `sightline explain`); it is shown on its own.
    const cold = await timeOnce(jpeg, spec);
    const runs = [];
    for (let r = 0; r < reps; r++) runs.push(await timeOnce(jpeg, spec));
    const total = (run) => Object.values(run.stages).reduce((a, b) => a + b, 0);
    const sorted = [...runs].sort((a, b) => total(a) - total(b));
    const fastest = sorted[0];
    const median = total(sorted[Math.floor((sorted.length - 1) / 2)]);
    const megapixels = (width * height) / 1e6;
    results.push({
      width,
      height,
      stages: fastest.stages,
      first: total(cold),
      fastest: total(fastest),
      median,
      cpu: fastest.cpu,
    });
    rows.push({
      photo: `${width}×${height} (${megapixels.toFixed(1)} MP, JPEG ${(jpeg.length / 1e6).toFixed(1)} MB)`,
      ...Object.fromEntries(Object.entries(fastest.stages).map(([k, v]) => [k, v.toFixed(3)])),
      'total (first)': total(cold).toFixed(3),
      'total (fastest)': total(fastest).toFixed(3),
      'total (median)': median.toFixed(3),
      // On a shared machine wall time includes waiting for a core; CPU time (all threads) is what the work costs.
      'CPU s (fastest)': fastest.cpu.toFixed(3),
      'PNG MB': (fastest.bytes / 1e6).toFixed(1),
    });
    if (width * height >= 40e6) {
      verdict += `${megapixels.toFixed(0)} MP: ${median.toFixed(2)} s (median of ${reps}) ${median <= GOAL_48MP_SECONDS ? '≤' : '>'} ${GOAL_48MP_SECONDS} s goal: ${median <= GOAL_48MP_SECONDS ? 'met' : 'NOT met'}\n`;
    }
    if (width * height <= 768 * 576) {
      verdict += `${width}×${height}: ${median.toFixed(3)} s ${median <= GOAL_SMALL_SECONDS ? '≤' : '>'} ${GOAL_SMALL_SECONDS} s goal: ${median <= GOAL_SMALL_SECONDS ? 'met' : 'NOT met'}\n`;
    }
  }
  console.table(rows);
  process.stdout.write(verdict);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchOutsideTheModel();
