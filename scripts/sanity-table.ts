/**
 * The README's cascading model-randomization table for any methods (Adebayo et al. 2018), as
 * test/e2e/sanity-default.test.ts computes it for the gradient and Grad-CAM: the embedded InceptionV3, dog.jpg
 * from ../shared/images, the top 5 blocks randomized in turn (seed 0); prints ρ of |map| and SSIM per step.
 * Heavy (a gradient graph per method and step on InceptionV3), so run by hand:
 *
 *   npx tsx scripts/sanity-table.ts guided-backprop deconvnet fullgrad deeplift
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepare } from '../src/explain.js';
import { decodeImage } from '../src/io/decode.js';
import { modelRandomizations } from '../src/metrics/sanity.js';
import { loadDefaultModel } from '../src/models/default-model.js';

const methods = process.argv.slice(2);
if (methods.length === 0) {
  console.error('usage: npx tsx scripts/sanity-table.ts METHOD...');
  process.exit(2);
}
const images = fileURLToPath(new URL('../../shared/images/', import.meta.url));
const model = await loadDefaultModel();
try {
  const { input, target, classes } = await prepare({
    model,
    image: await decodeImage(join(images, 'dog.jpg')),
  });
  const checked = await modelRandomizations({
    model,
    input,
    target: target.index,
    classes,
    methods: methods.map((method) => ({ method })),
    mode: 'cascading',
    layers: 5,
    group: 'block',
    seed: 0,
  });
  console.log(`| randomized down to | ${methods.map((m) => `${m} ρ (abs) | ${m} SSIM`).join(' | ')} |`);
  console.log(`|---|${methods.map(() => '---|---').join('|')}|`);
  for (const [i, step] of checked[0].steps.entries()) {
    const cells = checked.map((c) => `${c.steps[i].spearmanAbs.toFixed(3)} | ${c.steps[i].ssim.toFixed(3)}`);
    console.log(`| ${step.layer.split('/').pop()} | ${cells.join(' | ')} |`);
  }
} finally {
  await model.dispose();
}
