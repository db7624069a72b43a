// Times D-RISE (issue 14) on the hand-set square detector (test/fixtures/detectors/yolov8.onnx, 64 × 64, three
// detections) against the detector's own raw passes in the same process: the same number of passes, in batches of
// the size D-RISE runs (the model's maxBatch), on copies of the unmasked input. The overhead ratio = D-RISE time ÷
// that raw time; what it adds is mask rendering, masking and the similarity over every anchor (goal ≤ 1.1).
//   node scripts/bench.mjs --drise      only this part (after `npm run build`; `npm run bench` runs it too)
//   BENCH_DRISE_MASKS=1000              masks per detection (default 1000, D-RISE's default)
//   BENCH_DRISE_REPS=3                  interleaved repetitions; the fastest of each side is reported
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { preprocess } from '../dist/core/preprocess.js';
import { explain } from '../dist/explain.js';
import { readNpy } from '../dist/io/npy-file.js';
import { openOnnxModel } from '../dist/models/open.js';

const GOAL = 1.1;

/** { masks, reps, batch, driseSeconds, rawSeconds, ratio } per detection; quick: 64 masks, one rep. */
export async function benchDrise({ quick = false } = {}) {
  const dir = new URL('../test/fixtures/detectors/', import.meta.url).pathname;
  const masks = Number(process.env.BENCH_DRISE_MASKS ?? (quick ? 64 : 1000));
  const reps = Number(process.env.BENCH_DRISE_REPS ?? (quick ? 1 : 3));
  const model = await openOnnxModel(readFileSync(`${dir}yolov8.onnx`), { iouThreshold: 0.45 });
  try {
    const x = await readNpy(`${dir}input.npy`);
    const [, , h, w] = x.shape;
    const data = new Uint8Array(w * h * 3);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < w * h; p++) data[p * 3 + c] = Math.round(x.data[c * w * h + p] * 255);
    const image = { width: w, height: h, data };
    const { tensor } = preprocess(image, model.spec);
    const detections = 3;

    // Warm-up: one explanation (also draws the cached masks, as a second detection of the same photo finds them).
    await explain({ model, image, method: 'd-rise', target: 0, options: { masks } });

    // The raw passes: `masks` inputs in batches of maxBatch, as runBatched splits them, through the detector's
    // outputs (what the D-RISE similarity reads).
    const batch = model.maxBatch;
    const full = new Float32Array(batch * tensor.data.length);
    for (let i = 0; i < batch; i++) full.set(tensor.data, i * tensor.data.length);
    const run = (n) =>
      model.outputs({ data: full.subarray(0, n * tensor.data.length), dims: [n, ...tensor.dims.slice(1)] });
    await run(batch);
    // Interleaved and the fastest of `reps` kept for each, so a busy machine's pauses fall on neither side alone.
    let drise = Number.POSITIVE_INFINITY;
    let raw = Number.POSITIVE_INFINITY;
    for (let r = 0; r < reps; r++) {
      let t0 = performance.now();
      for (let i = 0; i < detections; i++)
        await explain({ model, image, method: 'd-rise', target: i, options: { masks } });
      drise = Math.min(drise, (performance.now() - t0) / 1000 / detections);
      t0 = performance.now();
      for (let i = 0; i < detections; i++)
        for (let start = 0; start < masks; start += batch) await run(Math.min(batch, masks - start));
      raw = Math.min(raw, (performance.now() - t0) / 1000 / detections);
    }

    console.table([
      {
        detector: `yolov8 squares ${w}×${h}`,
        masks,
        reps,
        batch,
        'D-RISE s/detection': drise.toFixed(3),
        'raw passes s': raw.toFixed(3),
        'overhead ratio': (drise / raw).toFixed(3),
      },
    ]);
    console.log(`D-RISE overhead ratio = D-RISE time ÷ time of the same raw detector passes; goal ≤ ${GOAL}`);
    return { masks, reps, batch, driseSeconds: drise, rawSeconds: raw, ratio: drise / raw };
  } finally {
    await model.dispose();
  }
}
