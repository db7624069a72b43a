/**
 * DeepLIFT's summation-to-delta on torchvision ResNet18, VGG11-BN and MobileNetV2 with random weights (issue
 * 18): for each model, deeplift from a black and a noise reference and deeplift-shap over 4 references, on a
 * random-normal input; prints Σ attributions − (S(x) − S(x₀)) relative to |S(x) − S(x₀)| and exits 1 when
 * any exceeds 1e-3. Run scripts/golden/deeplift_zoo.py first (see there).
 *
 *   npx tsx scripts/deeplift-zoo.ts DIR
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '../src/core/random.js';
import { OnnxModel } from '../src/engines/onnx/session.js';
import { getMethod, resolveOptions } from '../src/methods/registry.js';

const MODELS = ['resnet18', 'vgg11_bn', 'mobilenet_v2'];
const SIZE = 224;
const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx tsx scripts/deeplift-zoo.ts DIR');
  process.exit(2);
}
let failed = false;
for (const name of MODELS) {
  const spec = {
    inputName: 'input',
    layout: 'NCHW' as const,
    width: SIZE,
    height: SIZE,
    channelOrder: 'RGB' as const,
    mean: [0.485, 0.456, 0.406] as const,
    std: [0.229, 0.224, 0.225] as const,
    resize: 'squash' as const,
    cropFraction: 1,
    labels: [],
    outputs: 'logits' as const,
    task: 'classify' as const,
  };
  const model = await OnnxModel.create(new Uint8Array(readFileSync(join(dir, `${name}.onnx`))), spec, {
    maxBatch: 8,
  });
  const rng = createRng(18);
  const gauss = () =>
    Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-12))) * Math.cos(2 * Math.PI * rng.next());
  const input = { data: Float32Array.from({ length: 3 * SIZE * SIZE }, gauss), dims: [1, 3, SIZE, SIZE] };
  const scores = await model.predict(input);
  const target = scores.data.indexOf(Math.max(...scores.data));
  for (const [id, options] of [
    ['deeplift', { baselineType: 'black' }],
    ['deeplift', { baselineType: 'noise' }],
    ['deeplift-shap', { samples: 4 }],
  ] as const) {
    const method = getMethod(id);
    const t0 = performance.now();
    const map = await method.attribute(
      { model, input, target, classes: 1000 },
      resolveOptions(method, options),
    );
    const d = map.details!;
    const ok = d.relativeDelta < 1e-3;
    failed ||= !ok;
    console.log(
      `${name.padEnd(14)} ${`${id} ${JSON.stringify(options)}`.padEnd(40)} S(x)−S(x₀) ${(d.scoreAtInput - d.scoreAtBaseline).toFixed(4).padStart(9)}  relative delta ${d.relativeDelta.toExponential(2)}  ${ok ? 'pass' : 'FAIL'}  ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  await model.dispose();
}
process.exit(failed ? 1 : 0);
