// Times `audit` with Grad-CAM on the default model (issue 15 item 5) against the model's own rate in the same
// process: the model rate is the passes the audit makes per image (the prediction's forward, then Grad-CAM's
// forward + backward), run back to back on the same images' inputs, preprocessed beforehand; the audit decodes,
// preprocesses, explains, renders the overlay and thumbnail as PNGs, writes them and journals each row, as
// `sightline audit` does. The audit's rate is its steady state: rows 2..N over the time from the first row's end
// to the last's (filling the pipeline is a fixed latency, not throughput). Goal: ratio ≥ 0.9.
// Also printed: gradCamPassRate (the Grad-CAM pass alone, without the prediction's forward pass) and
// modelBusyShare (the share of the audit's time the model was working: 1 when the rest is fully overlapped).
//   node scripts/bench-audit.mjs                 after `npm run build`; prints the figures as JSON
//   BENCH_AUDIT_IMAGES=folder                     the photos (default: examples/ and ../shared/images if present)
//   BENCH_AUDIT_COUNT=24 BENCH_AUDIT_REPS=3       images per run (the photos repeated) and alternated runs
//   BENCH_AUDIT_CONCURRENCY=2                     the audit's --concurrency
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { auditImages } from '../dist/audit/audit.js';
import { AuditJournal } from '../dist/audit/journal.js';
import { preprocess } from '../dist/core/preprocess.js';
import { decodeImage } from '../dist/io/decode.js';
import { loadModel } from '../dist/models/load.js';
import { renderOverlayPng } from '../dist/render/png.js';

const GOAL = 0.9;
const root = fileURLToPath(new URL('..', import.meta.url));

async function photos() {
  const folders = process.env.BENCH_AUDIT_IMAGES
    ? [process.env.BENCH_AUDIT_IMAGES]
    : [join(root, 'examples'), join(root, '..', 'shared', 'images')];
  const found = new Map();
  for (const folder of folders) {
    const names = await readdir(folder).catch(() => []);
    for (const name of names.sort())
      if (/\.(png|jpe?g)$/i.test(name) && !found.has(name)) found.set(name, join(folder, name));
  }
  return [...found.values()];
}

/**
 * Counts the time some model call is pending: the session thread serves one run at a time and takes the next as
 * soon as one is queued, so this is the time the model works, and its share of the audit's time says how well
 * the audit keeps it fed (a figure a busy machine moves less than rates).
 */
function busyMeter(model) {
  let pending = 0;
  let since = 0;
  let busy = 0;
  for (const name of ['predict', 'layer']) {
    const call = model[name];
    model[name] = async function (...args) {
      if (pending++ === 0) since = performance.now();
      try {
        return await call.apply(this, args);
      } finally {
        if (--pending === 0) busy += performance.now() - since;
      }
    };
  }
  return {
    read: () => busy,
    stop() {
      delete model.predict;
      delete model.layer;
    },
  };
}

/** Figures of one run: { imagesPerSecond, modelRate, ratio, ... }; see the header. */
export async function benchAudit() {
  const count = Number(process.env.BENCH_AUDIT_COUNT ?? 24);
  const reps = Number(process.env.BENCH_AUDIT_REPS ?? 3);
  const concurrency = Number(process.env.BENCH_AUDIT_CONCURRENCY ?? 2);
  const paths = await photos();
  const files = Array.from({ length: count }, (_, i) => paths[i % paths.length]);
  const model = await loadModel('default');
  const out = await mkdtemp(join(tmpdir(), 'sightline-bench-audit-'));
  try {
    const { defaultLayer } = await model.layers();
    const inputs = [];
    for (const path of paths) {
      const { tensor } = preprocess(await decodeImage(path), model.spec);
      const { dims } = await model.predict(tensor);
      inputs.push({ tensor, classes: dims[1] });
    }
    // Also the Grad-CAM pass's own rate (without the prediction's forward pass the audit makes first).
    const modelRun = async () => {
      let pass = 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const { tensor, classes } = inputs[i % inputs.length];
        const scores = await model.predict(tensor);
        const seed = new Float32Array(classes);
        seed[scores.data.indexOf(Math.max(...scores.data))] = 1;
        const t1 = performance.now();
        await model.layer(defaultLayer, tensor, { data: seed, dims: [1, classes] });
        pass += performance.now() - t1;
      }
      return { rate: count / ((performance.now() - t0) / 1000), passRate: count / (pass / 1000) };
    };
    const auditRun = async (run) => {
      const dir = join(out, String(run));
      const journal = await AuditJournal.open(dir, { model: 'default', method: 'grad-cam', options: {} });
      const ends = [];
      const meter = busyMeter(model);
      const t0 = performance.now();
      await auditImages(
        files.map((path, i) => ({
          file: `${i}-${path.slice(path.lastIndexOf('/') + 1)}`,
          load: () => decodeImage(path),
        })),
        {
          model,
          method: 'grad-cam',
          concurrency,
          async onRow(row, result) {
            if (row.status !== 'ok') throw new Error(`${row.file}: ${row.error?.message}`);
            if (result) {
              const png = await renderOverlayPng(result.image, result.map.data, {
                mode: 'absolute',
                legend: { method: 'Grad-CAM', target: row.target?.label ?? '' },
                maxSide: 640,
              });
              const overlay = sharp(png).resize(640, 640, { fit: 'inside', withoutEnlargement: true });
              await writeFile(join(dir, `${row.file}.png`), await overlay.png().toBuffer());
              const { width, height, data } = result.image;
              const thumb = sharp(Buffer.from(data), { raw: { width, height, channels: 3 } });
              await writeFile(
                join(dir, `${row.file}-t.png`),
                await thumb.resize(120, 120, { fit: 'inside' }).png().toBuffer(),
              );
            }
            await journal.append(row);
            ends.push(performance.now());
          },
        },
      );
      const wall = performance.now() - t0;
      meter.stop();
      await journal.close();
      return {
        steady: (count - 1) / ((ends.at(-1) - ends[0]) / 1000),
        whole: count / (wall / 1000),
        modelBusy: meter.read() / wall,
      };
    };
    // Warm-up: the gradient session, sharp's and the renderer's first calls.
    await modelRun();
    await auditRun('warm');
    // Alternated, the best of each kept, so a busy machine's pauses fall on neither side alone.
    let best = { rate: 0, passRate: 0 };
    let audit = { steady: 0, whole: 0, modelBusy: 0 };
    for (let r = 0; r < reps; r++) {
      const m = await modelRun();
      if (m.rate > best.rate) best = m;
      const a = await auditRun(r);
      if (a.steady > audit.steady) audit = a;
    }
    return {
      imagesPerSecond: audit.steady,
      modelRate: best.rate,
      ratio: audit.steady / best.rate,
      gradCamPassRate: best.passRate,
      wholeRunImagesPerSecond: audit.whole,
      modelBusyShare: audit.modelBusy,
      images: count,
      photos: paths.length,
      concurrency,
      goal: GOAL,
    };
  } finally {
    await model.dispose();
    await rm(out, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchAudit();
  const r = (v) => Number(v.toFixed(3));
  console.log(
    JSON.stringify(
      Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, typeof v === 'number' ? r(v) : v])),
    ),
  );
}
