// Times D-RISE (issue 14) on the hand-set square detector (test/fixtures/detectors/yolov8.onnx, 64 × 64, three
// detections) against the detector's own raw passes in the same process: the same number of passes, in batches of
// the size D-RISE runs (the model's maxBatch), on copies of the unmasked input. The overhead ratio = D-RISE time ÷
// that raw time; what it adds is masking, the similarity over every anchor and the map sums (goal ≤ 1.1).
// Two rows: each detection explained alone through explain() (N passes per detection; the masks are drawn once
// and reused, as for a photo's second detection), and all three from one set of N passes
// (explain/drise-detections.ts), whose reference is those N passes; its seconds per detection are a third of
// the run's.
//   node scripts/bench.mjs --drise      only this part (after `npm run build`; `npm run bench` runs it too)
//   BENCH_DRISE_MASKS=1000              masks per detection (default 1000, D-RISE's default)
//   BENCH_DRISE_REPS=3                  repetitions (each explains every detection alone, then all together)
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { preprocess } from '../dist/core/preprocess.js';
import { dRiseDetections } from '../dist/explain/drise-detections.js';
import { explain } from '../dist/explain.js';
import { readNpy } from '../dist/io/npy-file.js';
import { decodeDetections } from '../dist/models/detect-decode.js';
import { decodeOptions, detectorOutputs } from '../dist/models/detect-target.js';
import { openOnnxModel } from '../dist/models/open.js';

const GOAL = 1.1;

/**
 * { masks, reps, batch, driseSeconds, rawSeconds, ratio } per detection explained alone (the pair whose ratio is
 * the median), with `together` the same for all of the photo's detections from one run (seconds per detection,
 * ratio over the run's N raw passes) and `ownPasses` the medians of D-RISE time ÷ time inside its own passes;
 * quick: 64 masks, one rep.
 */
export async function benchDrise({ quick = false } = {}) {
  const dir = new URL('../test/fixtures/detectors/', import.meta.url).pathname;
  const masks = Number(process.env.BENCH_DRISE_MASKS ?? (quick ? 64 : 1000));
  const reps = Number(process.env.BENCH_DRISE_REPS ?? (quick ? 1 : 3));
  const detector = await openOnnxModel(readFileSync(`${dir}yolov8.onnx`), { iouThreshold: 0.45 });
  // The detector as D-RISE sees it, with a clock on its passes: the time inside them is the third reference,
  // the same passes on the same batches within the same run, which a busy machine slows alike.
  const model = Object.create(detector);
  let inside = 0;
  model.outputs = async (batch, run) => {
    const t0 = performance.now();
    try {
      return await detector.outputs(batch, run);
    } finally {
      inside += (performance.now() - t0) / 1000;
    }
  };
  try {
    const x = await readNpy(`${dir}input.npy`);
    const [, , h, w] = x.shape;
    const data = new Uint8Array(w * h * 3);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < w * h; p++) data[p * 3 + c] = Math.round(x.data[c * w * h + p] * 255);
    const image = { width: w, height: h, data };
    const { tensor } = preprocess(image, model.spec);
    const outputs = await detectorOutputs(model, tensor);
    const decoded = decodeDetections(outputs, decodeOptions(model.spec));
    const found = decoded.images[0];
    const detections = found.length;
    const together = () => dRiseDetections(model, tensor, outputs, decoded.layout, found, { masks });

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
    await together();
    const passes = async () => {
      for (let start = 0; start < masks; start += batch) await run(Math.min(batch, masks - start));
    };
    // Wall seconds and this process's CPU seconds (ONNX Runtime's threads included), which a busy machine
    // disturbs less.
    const seconds = async (f) => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      inside = 0;
      await f();
      const c = process.cpuUsage(c0);
      return [(performance.now() - t0) / 1000, (c.user + c.system) / 1e6, inside];
    };
    // Each D-RISE run is paired with the raw passes run right after it, so a busy machine's slow spell falls on
    // both; the medians of the pairs' ratios and times are reported. Entries: [wall, CPU, inside its passes] of
    // D-RISE, then the same of the raw passes.
    const alone = [];
    const together3 = [];
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < detections; i++) {
        const t = await seconds(() =>
          explain({ model, image, method: 'd-rise', target: i, options: { masks } }),
        );
        alone.push([...t, ...(await seconds(passes))]);
      }
      const t = await seconds(together);
      together3.push([...t, ...(await seconds(passes))]);
    }
    const median = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    };
    const row = (how, pairs, per) => ({
      detector: `yolov8 squares ${w}×${h}`,
      how,
      masks,
      runs: pairs.length,
      batch,
      'D-RISE s/detection': (median(pairs.map(([t]) => t)) / per).toFixed(3),
      'raw passes s': median(pairs.map(([, , , raw]) => raw)).toFixed(3),
      'overhead ratio': median(pairs.map(([t, , , raw]) => t / raw)).toFixed(3),
      'CPU-time ratio': median(pairs.map(([, c, , , raw]) => c / raw)).toFixed(3),
      'ratio to its own passes': median(pairs.map(([t, , own]) => t / own)).toFixed(3),
    });
    console.table([
      row('one detection (explain)', alone, 1),
      row(`all ${detections} in one run`, together3, detections),
    ]);
    console.log(
      `D-RISE overhead ratio = D-RISE time ÷ time of the same ${masks} raw detector passes run right after (median of
  the pairs; wall and CPU seconds); "ratio to its own passes" = D-RISE time ÷ the time inside its own detector
  passes in the same run (what a busy machine disturbs least); goal ≤ ${GOAL}`,
    );
    const middle = (pairs, per) => {
      const [t, , , raw] = [...pairs].sort((a, b) => a[0] / a[3] - b[0] / b[3])[(pairs.length - 1) >> 1];
      return { driseSeconds: t / per, rawSeconds: raw / per, ratio: t / raw };
    };
    const ownPasses = (pairs) => median(pairs.map(([t, , own]) => t / own));
    return {
      masks,
      reps,
      batch,
      ...middle(alone, 1),
      together: { detections, ...middle(together3, detections) },
      ownPasses: { alone: ownPasses(alone), together: ownPasses(together3) },
    };
  } finally {
    await detector.dispose();
  }
}
