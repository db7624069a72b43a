// What one model-randomization step (Adebayo et al.; metrics/sanity.ts) costs beyond the map it recomputes,
// in gradient passes of the same model measured in the same process: (seconds per step − seconds of the
// method's own map on a warm model) ÷ seconds of one input-gradient pass (batch 1). A step swaps one
// block's weights (cascading, from the top, grouped by blocks) and recomputes the vanilla gradient, whose
// map is one gradient pass, so the figure is what the swap itself costs: weight noise, loading the graphs
// whose randomized weights are fed at run time (once per check, engines/onnx/weight-feeds.ts), the slower
// passes with fed weights, and comparing the maps. The goal is ≤ 2 (issue 15, item 4).
// Two checks run: the first (stepOverheadGradientPasses: the mean over its steps, the session load shared
// among them; the worst step beside it) and a second on another photo with the same seed (laterCheck: the
// graphs and the noise are the first's, as for a library caller checking photos with the default seed;
// evaluate seeds each photo by its file name, so each of its photos pays the noise, as the first check does).
// Also reported: the weight swap alone with the weights baked (withWeights without `variable` and the new
// model's first gradient, less one pass).
// The model: `model` (an ONNX file), else $SIGHTLINE_ZOO_DIR/mobilenet_v2.onnx (npm run test:zoo exports
// it), else the default model (InceptionV3, 299 × 299). Times are medians; the machine's load goes with them.
//   node scripts/bench-sanity.mjs [model.onnx]   (after npm run build)
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRng } from '../dist/core/random.js';
import { getMethod, resolveOptions } from '../dist/methods/registry.js';
import { modelRandomizations } from '../dist/metrics/sanity.js';
import { defaultModelFiles } from '../dist/models/default-model.js';
import { convertTfliteModel, openConvertedTflite, openOnnxModel } from '../dist/models/open.js';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Wall and CPU seconds (every thread of the process) since `from` (a mark()). */
const mark = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const since = (from) => {
  const cpu = process.cpuUsage(from.cpu);
  return { wall: (performance.now() - from.wall) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
};

async function timed(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const from = mark();
    await fn();
    out.push(since(from));
  }
  return { wall: median(out.map((t) => t.wall)), cpu: median(out.map((t) => t.cpu)) };
}

async function openModel(path, options) {
  if (path) {
    const bytes = new Uint8Array(readFileSync(path));
    return { model: await openOnnxModel(bytes, { outputs: 'logits', maxBatch: 1 }, options), name: path };
  }
  const tflite = new Uint8Array(readFileSync(defaultModelFiles().model));
  const model = await openConvertedTflite(convertTfliteModel(tflite), { maxBatch: 1 }, options);
  return { model, name: 'the default model (InceptionV3 299²)' };
}

/**
 * Returns { stepOverheadGradientPasses, ... }: the overhead from CPU seconds (one ONNX Runtime thread, so
 * other jobs on the machine barely change it), and the wall-clock figures beside it. Options: model (an
 * ONNX path), steps (randomization steps timed, default 3), reps (timings of each pass, default 5; 3 and
 * one baked swap with quick, as npm run bench --quick passes it).
 */
export async function benchSanity(options = {}) {
  const zoo = process.env.SIGHTLINE_ZOO_DIR && join(process.env.SIGHTLINE_ZOO_DIR, 'mobilenet_v2.onnx');
  const path = options.model ?? (zoo && existsSync(zoo) ? zoo : undefined);
  // A gradient cache as the CLI has (on disk there), so the graphs shared with the randomized models are
  // read from it rather than made a second time.
  const stored = new Map();
  const gradientCache = {
    async load(key, make) {
      if (!stored.has(key)) stored.set(key, await make());
      return stored.get(key);
    },
  };
  const { model, name } = await openModel(path, { intraOpThreads: 1, gradientCache });
  const steps = options.steps ?? 3;
  const reps = options.reps ?? (options.quick ? 3 : 5);
  try {
    const { width, height, layout } = model.spec;
    const dims = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
    const rng = createRng(1);
    const size = dims.reduce((a, b) => a * b, 1);
    const input = { data: Float32Array.from({ length: size }, () => rng.next()), dims };
    const classes = (await model.predict(input)).dims[1];
    const seed = { data: new Float32Array(classes), dims: [1, classes] };
    seed.data[0] = 1;
    const method = getMethod('gradient');
    const methodOptions = resolveOptions(method, {});
    const map = () => method.attribute({ model, input, target: 0, classes }, methodOptions);
    const original = await map(); // builds the gradient graph
    const gradientPass = await timed(reps, () => model.inputGradients(input, seed));
    const mapTime = await timed(reps, map);
    const forwardPass = await timed(reps, () => model.predict(input));
    const check = async (photo, first) => {
      const perStep = [];
      let last = mark();
      await modelRandomizations({
        model,
        input: photo,
        target: 0,
        classes,
        methods: [{ method, original: first }],
        group: 'block',
        layers: steps,
        clampLayers: true,
        onProgress: () => {
          perStep.push(since(last));
          last = mark();
        },
      });
      const mean = (k) => perStep.reduce((n, t) => n + t[k], 0) / perStep.length;
      const most = (k) => Math.max(...perStep.map((t) => t[k]));
      return {
        perStep,
        mean: { wall: mean('wall'), cpu: mean('cpu') },
        most: { wall: most('wall'), cpu: most('cpu') },
      };
    };
    const firstCheck = await check(input, original);
    const other = { data: Float32Array.from(input.data, (v) => 1 - v), dims };
    const otherMap = await method.attribute({ model, input: other, target: 0, classes }, methodOptions);
    const laterCheck = await check(other, otherMap);
    const step = firstCheck.mean;
    // The swap alone: a model with the top layer's weights negated, its first gradient (graph bytes and
    // session loads included), disposed; less one gradient pass.
    const top = model.weightLayers()[0].weights;
    const swap = await timed(Math.min(reps, options.quick ? 1 : 3), async () => {
      const randomized = await model.withWeights((n, v) => (top.includes(n) ? v.map((x) => -x) : undefined));
      await randomized.inputGradients(input, seed);
      await randomized.dispose();
    });
    const overhead = (k, t = step) => (t[k] - mapTime[k]) / gradientPass[k];
    return {
      model: name,
      steps: firstCheck.perStep.length,
      step,
      firstCheck,
      laterCheck,
      worstStepOverheadGradientPasses: overhead('cpu', firstCheck.most),
      laterStepOverheadGradientPasses: overhead('cpu', laterCheck.mean),
      map: mapTime,
      gradientPass,
      forwardPass,
      stepOverheadGradientPasses: overhead('cpu'),
      stepOverheadGradientPassesWall: overhead('wall'),
      swap,
      swapOverheadGradientPasses: (swap.cpu - gradientPass.cpu) / gradientPass.cpu,
      load: Math.round(loadavg()[0] * 10) / 10,
    };
  } finally {
    await model.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchSanity({ model: process.argv[2] });
  const f = (t) => `${t.cpu.toFixed(3)} CPU s (${t.wall.toFixed(3)} s wall)`;
  console.log(
    `sanity step on ${r.model}, 1 thread, load ${r.load}: step ${f(r.step)} (mean of ${r.steps}), ` +
      `its map ${f(r.map)}, gradient pass ${f(r.gradientPass)}, forward ${f(r.forwardPass)} → ` +
      `overhead ${r.stepOverheadGradientPasses.toFixed(2)} gradient passes per step in CPU time ` +
      `(${r.stepOverheadGradientPassesWall.toFixed(2)} in wall time); the weight swap alone ${f(r.swap)}, ` +
      `${r.swapOverheadGradientPasses.toFixed(2)} gradient passes beyond its gradient`,
  );
  console.log(
    `first check: steps ${r.firstCheck.perStep.map((t) => t.cpu.toFixed(3)).join(', ')} CPU s, worst step ` +
      `${r.worstStepOverheadGradientPasses.toFixed(2)} gradient passes of overhead; a second check (another ` +
      `photo, as evaluate's next): steps ${r.laterCheck.perStep.map((t) => t.cpu.toFixed(3)).join(', ')} CPU s, ` +
      `${r.laterStepOverheadGradientPasses.toFixed(2)} gradient passes of overhead per step`,
  );
}

export default benchSanity;
