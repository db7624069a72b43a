// Gradient methods through Sightline's ONNX autodiff vs PyTorch autograd on the same networks, weights and
// images, in the same run: MobileNetV2 and ResNet50 (torchvision, random seeded weights), 224×224, batch 16,
// 2 threads on both sides. scripts/golden/bench_torch.py times torch and exports the networks; this script
// runs ours and prints seconds per image and ratios (ours ÷ torch). Needs Debian's python3-torch
// (scripts/golden/install.sh).
//   node scripts/bench-gradients.mjs [--images 2]   (per-image methods run on the first N of the 16 images)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OnnxModel } from '../dist/engines/onnx/session.js';
import { readNpy } from '../dist/io/npy-file.js';
import { getMethod, resolveOptions } from '../dist/methods/registry.js';

const PYTHON = '/usr/bin/python3';
const root = new URL('..', import.meta.url).pathname;
const images = Number(process.argv[process.argv.indexOf('--images') + 1] || 2) || 2;

function hasTorch() {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!hasTorch()) {
  console.log(
    'gradient benchmark skipped: Debian python3-torch is not installed (run scripts/golden/install.sh).',
  );
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'sightline-bench-'));
console.log('timing PyTorch autograd (this takes several minutes)…');
const torch = JSON.parse(
  execFileSync(PYTHON, [join(root, 'scripts/golden/bench_torch.py'), '--export', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  }),
);

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

const rows = [];
for (const name of Object.keys(torch.models)) {
  const spec = {
    inputName: 'input',
    layout: 'NCHW',
    width: 224,
    height: 224,
    channelOrder: 'RGB',
    mean: [0, 0, 0],
    std: [1, 1, 1],
    resize: 'squash',
    cropFraction: 1,
    labels: [],
    outputs: 'logits',
  };
  const model = await OnnxModel.create(new Uint8Array(readFileSync(join(dir, `${name}.onnx`))), spec, {
    maxBatch: 16,
    intraOpThreads: 2,
  });
  const x = await readNpy(join(dir, `${name}.input.npy`));
  const batch = { data: x.data, dims: x.shape };
  const n = x.shape[0];
  const scores = await model.predict(batch);
  const k = scores.dims[1];
  const targets = Array.from({ length: n }, (_, i) => {
    const row = scores.data.subarray(i * k, (i + 1) * k);
    return row.indexOf(Math.max(...row));
  });
  const seed = oneHot(n, k, targets);
  const forward = (await time(() => model.predict(batch))) / n;
  // Preparing the gradient graphs (transform + session) is a one-off cost, kept out of the timings.
  await model.inputGradients(batch, seed);
  const { defaultLayer } = await model.layers();
  await model.layer(defaultLayer, batch, seed);

  const perImage = async (id, options) => {
    const method = getMethod(id);
    const resolved = resolveOptions(method, options);
    const per = x.data.length / n;
    return (
      (await time(async () => {
        for (let i = 0; i < images; i++) {
          const input = { data: x.data.subarray(i * per, (i + 1) * per), dims: [1, ...x.shape.slice(1)] };
          await method.attribute({ model, input, target: targets[i], classes: k }, resolved);
        }
      })) / images
    );
  };
  const ours = {
    forward,
    vanilla: (await time(() => model.inputGradients(batch, seed))) / n,
    ig: await perImage('integrated-gradients', { steps: 50, rule: 'riemann-middle' }),
    smoothgrad: await perImage('smoothgrad', { samples: 25 }),
    gradcam: (await time(() => model.layer(defaultLayer, batch, seed))) / n,
  };
  for (const method of ['forward', 'vanilla', 'ig', 'smoothgrad', 'gradcam']) {
    const frozen = method === 'forward' ? torch.models[name].forward : torch.models[name].frozen[method];
    const dflt = method === 'forward' ? torch.models[name].forward : torch.models[name].default[method];
    rows.push({
      model: name,
      method,
      'ours s/img': ours[method].toFixed(3),
      'torch (requires_grad=False) s/img': frozen.toFixed(3),
      'torch (default) s/img': dflt.toFixed(3),
      'ours ÷ torch default': (ours[method] / dflt).toFixed(2),
      'ours ÷ torch frozen': (ours[method] / frozen).toFixed(2),
    });
  }
  await model.dispose();
}
console.table(rows);
console.log(
  `batch ${torch.batch}, ${torch.threads} threads, IG ${torch.ig_steps} midpoint steps, SmoothGrad ${torch.smoothgrad_samples} samples; ` +
    `vanilla and Grad-CAM run all 16 images as one batch on both sides; IG and SmoothGrad run per image (ours on the first ${images}, ` +
    'batching the path points or noisy copies 16 at a time). Torch ' +
    torch.versions.torch +
    ', ' +
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name +
    ' on onnxruntime-node.',
);
