// Benchmarks the perturbation methods on the embedded default model, then everything outside the model on 768 × 576,
// 12 MP and 48 MP photos (scripts/bench-outside.mjs), then, when Debian's python3-torch is installed, the gradient
// methods against PyTorch (scripts/bench-gradients.mjs), after the autodiff's backward ÷ forward per conv kind
// (scripts/bench-autodiff.ts). Method speed is reported as ratios against the model's own
// batched forward time measured in the same process, never as absolute pass/fail numbers.
//   npm run bench                  all of it, methods at their defaults
//   BENCH_RISE_MASKS=400 npm run bench   a quicker RISE run
//   node scripts/bench.mjs --outside     only the part outside the model (after npm run build)
//   node scripts/bench.mjs --drise       only D-RISE on the square detector (scripts/bench-drise.mjs)
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { preprocess } from '../dist/core/preprocess.js';
import { decodeImage } from '../dist/io/decode.js';
import { getMethod, resolveOptions } from '../dist/methods/registry.js';
import { loadDefaultModel } from '../dist/models/default-model.js';

if (process.argv.includes('--outside')) {
  const { benchOutsideTheModel } = await import('./bench-outside.mjs');
  await benchOutsideTheModel();
  process.exit(0);
}
if (process.argv.includes('--drise')) {
  const { benchDrise } = await import('./bench-drise.mjs');
  await benchDrise();
  process.exit(0);
}

const image = process.env.BENCH_IMAGE ?? new URL('../examples/chelsea.png', import.meta.url).pathname;
const model = await loadDefaultModel();
const photo = await decodeImage(image);
const { tensor } = preprocess(photo, model.spec);

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
  `model: ${model.spec.width}×${model.spec.height}, batch ${batch}, forward ${(forwardPerImage * 1000).toFixed(1)} ms/image`,
);

const runs = [
  ['occlusion', {}],
  ['rise', process.env.BENCH_RISE_MASKS ? { masks: Number(process.env.BENCH_RISE_MASKS) } : {}],
];
const rows = [];
for (const [id, given] of runs) {
  const method = getMethod(id);
  const options = resolveOptions(method, given);
  const passes = method.passes(options, { width: model.spec.width, height: model.spec.height });
  t0 = performance.now();
  await method.attribute({ model, input: tensor, target: 1, classes: 1001 }, options);
  const seconds = (performance.now() - t0) / 1000;
  rows.push({
    method: id,
    options: JSON.stringify(given),
    'seconds/image': seconds.toFixed(2),
    'model passes': passes,
    'overhead ratio': (seconds / (passes * forwardPerImage)).toFixed(3),
  });
}
console.table(rows);
console.log(
  'overhead ratio = method time ÷ (passes × the model’s batched per-image forward time); goal ≤ 1.05',
);
await model.dispose();

const { benchDrise } = await import('./bench-drise.mjs');
await benchDrise();

const { benchOutsideTheModel } = await import('./bench-outside.mjs');
await benchOutsideTheModel();

// Per conv kind, the autodiff's input-gradient backward ÷ the layer's forward (TypeScript sources, through tsx).
execFileSync('npx', ['tsx', 'scripts/bench-autodiff.ts'], {
  stdio: 'inherit',
  cwd: new URL('..', import.meta.url).pathname,
});

// Last: it exits early when torch is missing.
await import('./bench-gradients.mjs');
