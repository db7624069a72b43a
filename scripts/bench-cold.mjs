// Cold start (issue 15, item 2): in a child process with an empty temporary cache ($SIGHTLINE_CACHE_DIR), the
// default model is converted and loaded, then the first Grad-CAM (layer list, shape probe, gradient graph, session,
// one run) and the first input gradient are timed against a second, warm call of each: graph build = first − warm.
// The full run also times the README's first command (`sightline explain examples/chelsea.png --out …`) from
// another empty cache, conversion included. Wall seconds with the CPU seconds beside them (on a shared machine
// the wall time also counts waiting for a core).
//   node scripts/bench-cold.mjs [--quick]     (after npm run build; npm run bench runs it)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = new URL('..', import.meta.url).pathname;
const photo = join(root, 'examples/chelsea.png');

async function child() {
  const { preprocess } = await import('../dist/core/preprocess.js');
  const { decodeImage } = await import('../dist/io/decode.js');
  const { loadDefaultModel } = await import('../dist/models/default-model.js');
  const timed = async (fn) => {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const used = process.cpuUsage(cpu);
    return { wall: (performance.now() - t0) / 1000, cpu: (used.user + used.system) / 1e6 };
  };
  let model;
  const load = await timed(async () => {
    model = await loadDefaultModel();
  });
  const { tensor } = preprocess(await decodeImage(photo), model.spec);
  const classes = (await model.predict(tensor)).dims[1];
  const seed = { data: new Float32Array(classes), dims: [1, classes] };
  seed.data[1] = 1;
  const gradcam = () => model.layers().then(({ defaultLayer }) => model.layer(defaultLayer, tensor, seed));
  const result = {
    load,
    gradcamFirst: await timed(gradcam),
    gradcamWarm: await timed(gradcam),
    gradientFirst: await timed(() => model.inputGradients(tensor, seed)),
    gradientWarm: await timed(() => model.inputGradients(tensor, seed)),
  };
  await model.dispose();
  process.stdout.write(JSON.stringify(result));
}

/** Runs `args` with node in a fresh process and an empty cache; returns its stdout and wall seconds. */
function fresh(args) {
  const cache = mkdtempSync(join(tmpdir(), 'sightline-cold-'));
  try {
    const t0 = performance.now();
    const out = execFileSync(process.execPath, args, {
      cwd: root,
      env: { ...process.env, SIGHTLINE_CACHE_DIR: cache },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    return { out, wall: (performance.now() - t0) / 1000, cache };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

/** { load, gradcamFirst, gradcamWarm, gradientFirst, gradientWarm, gradcamGraph, gradientGraph, firstCommand }. */
export async function benchColdStart({ quick = false } = {}) {
  const r = JSON.parse(fresh([join(root, 'scripts/bench-cold.mjs'), '--child']).out);
  r.gradcamGraph = r.gradcamFirst.wall - r.gradcamWarm.wall;
  r.gradientGraph = r.gradientFirst.wall - r.gradientWarm.wall;
  r.gradcamGraphCpu = r.gradcamFirst.cpu - r.gradcamWarm.cpu;
  r.gradientGraphCpu = r.gradientFirst.cpu - r.gradientWarm.cpu;
  if (!quick) {
    const out = join(mkdtempSync(join(tmpdir(), 'sightline-cold-out-')), 'chelsea-grad-cam.png');
    r.firstCommand = fresh([join(root, 'dist/cli/main.js'), 'explain', photo, '--out', out]).wall;
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
  const s = (t) => `${t.wall.toFixed(2)} s (CPU ${t.cpu.toFixed(2)} s)`;
  console.log('\ncold start, default model, empty cache, fresh process:');
  console.log(`  convert + load ${s(r.load)}`);
  console.log(
    `  first Grad-CAM ${s(r.gradcamFirst)}, warm ${s(r.gradcamWarm)}: graph ${r.gradcamGraph.toFixed(2)} s (CPU ${r.gradcamGraphCpu.toFixed(2)} s)`,
  );
  console.log(
    `  first input gradient ${s(r.gradientFirst)}, warm ${s(r.gradientWarm)}: graph ${r.gradientGraph.toFixed(2)} s (CPU ${r.gradientGraphCpu.toFixed(2)} s)`,
  );
  if (r.firstCommand !== undefined)
    console.log(
      `  the README's first command (explain examples/chelsea.png): ${r.firstCommand.toFixed(2)} s`,
    );
  return r;
}

if (process.argv.includes('--child')) await child();
else if (import.meta.url === `file://${process.argv[1]}`)
  await benchColdStart({ quick: process.argv.includes('--quick') });
