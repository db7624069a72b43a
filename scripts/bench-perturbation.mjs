// Occlusion and RISE on the embedded default model against the model's own batched forward time, in the same
// process: overhead ratio = method time ÷ (passes × batched per-image forward time); goal ≤ 1.05 (what the
// method adds around the model: masks, copies, scoring).
//   node scripts/bench-perturbation.mjs       (after npm run build; npm run bench runs it)
//   BENCH_RISE_MASKS=2000                     RISE masks (default 400 here, to keep the whole bench short)
import { performance } from 'node:perf_hooks';
import { preprocess } from '../dist/core/preprocess.js';
import { decodeImage } from '../dist/io/decode.js';
import { getMethod, resolveOptions } from '../dist/methods/registry.js';
import { loadDefaultModel } from '../dist/models/default-model.js';

/** [{ method, options, seconds, passes, forwardPerImage, ratio }] */
export async function benchPerturbation() {
  const image = process.env.BENCH_IMAGE ?? new URL('../examples/chelsea.png', import.meta.url).pathname;
  const model = await loadDefaultModel();
  try {
    const { tensor } = preprocess(await decodeImage(image), model.spec);
    // The model's own cost: full batches of copies of the input, after one warm-up call.
    const batch = model.maxBatch;
    const data = new Float32Array(batch * tensor.data.length);
    for (let i = 0; i < batch; i++) data.set(tensor.data, i * tensor.data.length);
    const full = { data, dims: [batch, ...tensor.dims.slice(1)] };
    await model.predict(full);
    const reps = 3;
    let t0 = performance.now();
    for (let r = 0; r < reps; r++) await model.predict(full);
    const forwardPerImage = (performance.now() - t0) / (reps * batch) / 1000;
    console.log(
      `\nmodel: ${model.spec.width}×${model.spec.height}, batch ${batch}, forward ${(forwardPerImage * 1000).toFixed(1)} ms/image`,
    );
    const runs = [
      ['occlusion', {}],
      ['rise', { masks: Number(process.env.BENCH_RISE_MASKS ?? 400) }],
    ];
    const results = [];
    for (const [id, given] of runs) {
      const method = getMethod(id);
      const options = resolveOptions(method, given);
      const passes = method.passes(options, { width: model.spec.width, height: model.spec.height });
      t0 = performance.now();
      await method.attribute({ model, input: tensor, target: 1, classes: 1001 }, options);
      const seconds = (performance.now() - t0) / 1000;
      results.push({
        method: id,
        options: given,
        seconds,
        passes,
        forwardPerImage,
        ratio: seconds / (passes * forwardPerImage),
      });
    }
    console.table(
      results.map((r) => ({
        method: r.method,
        options: JSON.stringify(r.options),
        'seconds/image': r.seconds.toFixed(2),
        'model passes': r.passes,
        'overhead ratio': r.ratio.toFixed(3),
      })),
    );
    console.log(
      'overhead ratio = method time ÷ (passes × the model’s batched per-image forward time); goal ≤ 1.05',
    );
    return results;
  } finally {
    await model.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchPerturbation();
