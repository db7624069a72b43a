// Per method, seconds per image through Sightline (ONNX Runtime, the autodiff's gradient graphs) and through
// PyTorch autograd with its default requires_grad on the same networks, weights and images, at each batch size,
// in the same run: torchvision MobileNetV2 and ResNet50 (random seeded weights), 224×224, 2 threads on both
// sides. scripts/golden/bench_torch.py exports the networks and times torch first; then ours run here. Methods:
// forward alone, vanilla gradient, IG-50 (midpoint rule), SmoothGrad-25, Grad-CAM (last conv block), and the
// forward-only occlusion (default window) and RISE. Vanilla, Grad-CAM and forward run all images in chunks of the
// batch size; the others run on one image, their samples in batches of the batch size (model maxBatch), as torch
// pools them. Without Debian's python3-torch (CI has none) ours are timed alone and every torch ratio is null.
//   npm run bench                             (scripts/bench.mjs runs this)
//   node scripts/bench-gradients.mjs [--quick] [--no-torch]     this part alone, after npm run build
//   BENCH_NETS=mobilenet_v2                   only these networks (comma-separated)
//   BENCH_SESSION=thread                      ONNX Runtime on the session thread, as the CLI and Node's loaders
//                                             run it (default: on the calling thread, the library's default)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OnnxModel } from '../dist/engines/onnx/session.js';
import { openOnSessionThread } from '../dist/engines/onnx/session-thread.js';
import { readNpy } from '../dist/io/npy-file.js';
import { getMethod, resolveOptions } from '../dist/methods/registry.js';

// Debian's interpreter (the one with torch); BENCH_PYTHON=/nonexistent shows what a machine without torch prints.
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const root = new URL('..', import.meta.url).pathname;
const SESSION = process.env.BENCH_SESSION === 'thread' ? 'thread' : 'main';

/** Full: the figures (a few minutes). Quick: MobileNetV2 at 64×64 with a few samples (seconds). */
export const METHOD_CONFIGS = {
  full: {
    models: (process.env.BENCH_NETS ?? 'mobilenet_v2,resnet50').split(','),
    size: 224,
    batches: [1, 16],
    images: 16,
    steps: 50,
    samples: 25,
    riseMasks: 256,
  },
  // torchvision mobilenet_v2(width_mult=0.35, num_classes=10), as test/fixtures/golden/net_mobilenet_v2 (used
  // when torch is absent).
  quick: {
    models: ['mobilenet_v2'],
    size: 64,
    widthMult: 0.35,
    classes: 10,
    batches: [1, 2],
    images: 2,
    steps: 4,
    samples: 3,
    riseMasks: 8,
    fixture: { dir: join(root, 'test/fixtures/golden'), names: { mobilenet_v2: 'net_mobilenet_v2' } },
  },
};

function torchArguments(config, dir) {
  return [
    join(root, 'scripts/golden/bench_torch.py'),
    ...['--models', ...config.models, '--batches', ...config.batches.map(String)],
    ...['--modes', 'default', '--images', String(config.images), '--pooled', '1'],
    ...['--size', String(config.size), '--threads', String(config.threads)],
    ...['--width-mult', String(config.widthMult ?? 1), '--classes', String(config.classes ?? 1000)],
    ...['--steps', String(config.steps), '--samples', String(config.samples)],
    ...['--rise-masks', String(config.riseMasks), '--window', String(config.window)],
    ...['--stride', String(config.stride), '--export', dir],
  ];
}
export const METHODS = ['forward', 'vanilla', 'ig', 'smoothgrad', 'gradcam', 'occlusion', 'rise'];

/** Whether Debian's torch is there; the reason it is not, otherwise. */
export function torchAvailable() {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return { available: true };
  } catch {
    return {
      available: false,
      reason: `${PYTHON} has no torch/torchvision (Debian python3-torch; scripts/golden/install.sh)`,
    };
  }
}

const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

const oneHot = (n, k, targets) => {
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) data[i * k + targets[i]] = 1;
  return { data, dims: [n, k] };
};

function specFor(size) {
  return {
    inputName: 'input',
    layout: 'NCHW',
    width: size,
    height: size,
    channelOrder: 'RGB',
    mean: [0, 0, 0],
    std: [1, 1, 1],
    resize: 'squash',
    cropFraction: 1,
    labels: [],
    outputs: 'logits',
  };
}

/** Timed runs kept per method, the fastest counting: the cheap ones repeat (other jobs only ever add time). */
const REPEATS = { forward: 3, vanilla: 3, gradcam: 3, ig: 1, smoothgrad: 1, occlusion: 1, rise: 1 };

/** Ours at one batch size, ready to time: method → () => seconds per image; release() disposes the model. */
async function oursAt(bytes, x, config, batch, threads) {
  const model = await OnnxModel.create(bytes, specFor(config.size), {
    maxBatch: batch,
    intraOpThreads: threads,
    ...(SESSION === 'main' ? {} : { openSession: openOnSessionThread }),
  });
  const per = x.data.length / x.shape[0];
  const n = x.shape[0];
  const chunks = [];
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    chunks.push({ data: x.data.subarray(i * per, (i + m) * per), dims: [m, ...x.shape.slice(1)] });
  }
  const targets = [];
  for (const c of chunks) {
    const scores = await model.predict(c);
    const k = scores.dims[1];
    for (let i = 0; i < c.dims[0]; i++) {
      const row = scores.data.subarray(i * k, (i + 1) * k);
      targets.push(row.indexOf(Math.max(...row)));
    }
  }
  const classes = (await model.predict(chunks[0])).dims[1];
  const seeds = chunks.map((c, j) =>
    oneHot(c.dims[0], classes, targets.slice(j * batch, j * batch + c.dims[0])),
  );
  // Building the gradient graphs and sessions is a one-off cost (cold start is measured on its own).
  const { defaultLayer } = await model.layers();
  await model.inputGradients(chunks[0], seeds[0]);
  await model.layer(defaultLayer, chunks[0], seeds[0]);
  const overChunks = (fn) => async () =>
    (await time(async () => {
      for (const [j, c] of chunks.entries()) await fn(c, seeds[j]);
    })) / n;
  const one = { data: x.data.subarray(0, per), dims: [1, ...x.shape.slice(1)] };
  const method = (id, options) => {
    const m = getMethod(id);
    const resolved = resolveOptions(m, options);
    return () => time(() => m.attribute({ model, input: one, target: targets[0], classes }, resolved));
  };
  return {
    runs: {
      forward: overChunks((c) => model.predict(c)),
      vanilla: overChunks((c, s) => model.inputGradients(c, s)),
      gradcam: overChunks((c, s) => model.layer(defaultLayer, c, s)),
      ig: method('integrated-gradients', { steps: config.steps, rule: 'riemann-middle' }),
      smoothgrad: method('smoothgrad', { samples: config.samples }),
      occlusion: method('occlusion', { window: config.window, stride: config.stride }),
      rise: method('rise', { masks: config.riseMasks }),
    },
    release: () => model.dispose(),
  };
}

/** batch → method → seconds per image; per method the batch sizes alternate, so both see the same background. */
async function ours(bytes, x, config, threads) {
  const prepared = {};
  const best = {};
  try {
    for (const batch of config.batches) {
      prepared[batch] = await oursAt(bytes, x, config, batch, threads);
      best[batch] = {};
    }
    for (const method of METHODS) {
      for (let r = 0; r < (config.repeats?.[method] ?? REPEATS[method]); r++) {
        for (const batch of config.batches) {
          const seconds = await prepared[batch].runs[method]();
          best[batch][method] = Math.min(best[batch][method] ?? Number.POSITIVE_INFINITY, seconds);
        }
      }
    }
    return best;
  } finally {
    for (const p of Object.values(prepared)) await p.release();
  }
}

/**
 * Times every method on both sides; returns { config, torch, rows, batchScaling }. rows: one per model, batch
 * and method, with ours and torch in seconds per image and ratio = ours ÷ torch (null without torch).
 * batchScaling: ours at the largest batch ÷ ours at batch 1, per image.
 */
export async function benchMethods({ quick = false, torch = true, threads = 2 } = {}) {
  const config = { ...METHOD_CONFIGS[quick ? 'quick' : 'full'], threads, session: SESSION };
  config.window = Math.max(1, Math.round(config.size / 8));
  config.stride = Math.max(1, Math.floor(config.window / 2));
  const installed = torchAvailable();
  const status = torch ? installed : { available: false, reason: 'skipped (--no-torch)' };
  const dir = mkdtempSync(join(tmpdir(), 'sightline-bench-'));
  try {
    let torchResult;
    let source = dir;
    if (status.available) {
      console.log(
        `timing PyTorch autograd (${config.models.join(', ')}, batches ${config.batches.join(', ')})…`,
      );
      // Torch's OpenMP threads spin while they wait: on a machine where other jobs hold the cores, 2 threads
      // ran 70× slower than 1 (MobileNetV2 64², load 10 on 2 cores). Passive waiting is what a shared machine
      // needs; a quiet one keeps torch's default. bench.json records which ran.
      const busy = os.loadavg()[0] > os.cpus().length / 2;
      status.ompWaitPolicy = process.env.OMP_WAIT_POLICY ?? (busy ? 'PASSIVE' : 'default');
      const env = {
        ...process.env,
        ...(busy && !process.env.OMP_WAIT_POLICY ? { OMP_WAIT_POLICY: 'PASSIVE' } : {}),
      };
      torchResult = JSON.parse(
        execFileSync(PYTHON, torchArguments(config, dir), {
          env,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 24,
        }),
      );
      status.versions = torchResult.versions;
    } else if (installed.available) {
      // --no-torch with torch there: torch still exports the networks, only ours are timed.
      execFileSync(PYTHON, [...torchArguments(config, dir), '--export-only'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    } else if (config.fixture) {
      // The same architecture, committed: ours can still be timed (and batch scaling measured) without torch.
      source = config.fixture.dir;
    } else {
      console.log(`methods: not measured, ${status.reason}.`);
      return { config, torch: status, rows: [], batchScaling: [] };
    }
    const rows = [];
    const batchScaling = [];
    for (const name of config.models) {
      const file = source === dir ? name : config.fixture.names[name];
      const bytes = new Uint8Array(readFileSync(join(source, `${file}.onnx`)));
      const x = await readNpy(join(source, `${file}.input.npy`));
      const timed = await ours(bytes, x, config, threads);
      for (const batch of config.batches) {
        for (const method of METHODS) {
          const t = torchResult?.models[name]?.[String(batch)];
          const theirs = method === 'forward' ? t?.forward : t?.default?.[method];
          rows.push({
            model: name,
            batch,
            method,
            ours: timed[batch][method],
            torch: theirs ?? null,
            ratio: theirs ? timed[batch][method] / theirs : null,
          });
        }
      }
      const [small, large] = [Math.min(...config.batches), Math.max(...config.batches)];
      for (const method of ['vanilla', 'smoothgrad', 'ig']) {
        batchScaling.push({
          model: name,
          method,
          batches: [small, large],
          perImage: [timed[small][method], timed[large][method]],
          ratio: timed[large][method] / timed[small][method],
        });
      }
    }
    printMethods(config, rows, batchScaling, status);
    return { config, torch: status, rows, batchScaling };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printMethods(config, rows, batchScaling, status) {
  console.log(
    `\nper method, seconds per image: ours (onnxruntime-node) ÷ PyTorch autograd, default requires_grad (${config.threads} threads, ${config.size}², IG ${config.steps} midpoint steps, SmoothGrad ${config.samples}, RISE ${config.riseMasks} masks, occlusion ${config.window}/${config.stride})`,
  );
  console.table(
    rows.map((r) => ({
      model: r.model,
      batch: r.batch,
      method: r.method,
      'ours s/img': r.ours.toFixed(4),
      'torch s/img': r.torch === null ? '—' : r.torch.toFixed(4),
      'ours ÷ torch': r.ratio === null ? '—' : r.ratio.toFixed(2),
    })),
  );
  if (!status.available) console.log(`torch ratios not measured: ${status.reason}`);
  else console.log(`torch ${status.versions?.torch}, OMP_WAIT_POLICY ${status.ompWaitPolicy}`);
  console.table(
    batchScaling.map((s) => ({
      model: s.model,
      method: s.method,
      [`batch ${s.batches[0]} s/img`]: s.perImage[0].toFixed(4),
      [`batch ${s.batches[1]} s/img`]: s.perImage[1].toFixed(4),
      'large ÷ small per image': s.ratio.toFixed(2),
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchMethods({
    quick: process.argv.includes('--quick'),
    torch: !process.argv.includes('--no-torch'),
  });
}
