/**
 * The README's cascading model-randomization table for any methods (Adebayo et al. 2018), as
 * test/e2e/sanity-default.test.ts computes it for the gradient and Grad-CAM: the embedded InceptionV3, dog.jpg
 * from ../shared/images, the top 5 blocks randomized in turn (seed 0); prints ρ of |map| and SSIM per step.
 * Heavy (a gradient graph per method and step on InceptionV3), so run by hand:
 *
 *   npx tsx scripts/sanity-table.ts guided-backprop deconvnet fullgrad deeplift
 *
 * A method may carry options after a colon, so the costly ones fit in the time at hand on two cores:
 * `smoothgrad:samples=8`, `integrated-gradients:steps=16,rule=riemann-trapezoid`. With `--by-method` the
 * table has a row per method (cells "ρ (SSIM)") and a last column, labels: the ρ of |map| against the map of a
 * random other class (labelRandomization, seed 0), one more map per method. A map that cannot be ranked (a
 * constant map, whose ρ is undefined) is written as "constant map", never as NaN.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AttributionMap } from '../src/core/attribution.js';
import type { MethodOptions } from '../src/core/method.js';
import { prepare } from '../src/explain.js';
import { decodeImage } from '../src/io/decode.js';
import { getMethod, resolveOptions } from '../src/methods/registry.js';
import { labelRandomization, type MapSimilarity, modelRandomizations } from '../src/metrics/sanity.js';
import { loadDefaultModel } from '../src/models/default-model.js';

const args = process.argv.slice(2);
const byMethod = args.includes('--by-method');
const specs = args.filter((a) => a !== '--by-method');
if (specs.length === 0) {
  console.error('usage: npx tsx scripts/sanity-table.ts [--by-method] METHOD[:NAME=VALUE,...]...');
  process.exit(2);
}

/** 'smoothgrad:samples=8,noise=0.15' → the id and its options (numbers where the value reads as one). */
function parseSpec(spec: string): { method: string; options: MethodOptions } {
  const [method, rest] = spec.split(':', 2);
  const options: MethodOptions = {};
  for (const pair of rest ? rest.split(',') : []) {
    const [name, value] = pair.split('=', 2);
    if (!name || value === undefined) {
      console.error(`expected NAME=VALUE in '${spec}', got '${pair}'`);
      process.exit(2);
    }
    options[name] = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return { method, options };
}

/** A ρ or SSIM to three decimals, or words for a value that is not a number. */
const num = (v: number): string => (Number.isFinite(v) ? v.toFixed(3).replace('-', '−') : 'constant map');
const cell = (s: MapSimilarity): string =>
  Number.isFinite(s.spearmanAbs) ? `${num(s.spearmanAbs)} (${num(s.ssim)})` : 'constant map';

const methods = specs.map(parseSpec);
const images = fileURLToPath(new URL('../../shared/images/', import.meta.url));
const model = await loadDefaultModel();
const started = performance.now();
try {
  const { input, target, classes } = await prepare({
    model,
    image: await decodeImage(join(images, 'dog.jpg')),
  });
  const layer = (await model.layers?.())?.defaultLayer;
  // Computed once here, so the label check and every step compare with the same original map.
  const originals: AttributionMap[] = [];
  for (const { method, options } of methods) {
    const m = getMethod(method);
    const resolved = resolveOptions(m, options);
    const needsLayer = m.requires.includes('layers');
    originals.push(
      await m.attribute(
        { model, input, target: target.index, classes, layer: needsLayer ? layer : undefined },
        resolved,
      ),
    );
  }
  const checked = await modelRandomizations({
    model,
    input,
    target: target.index,
    classes,
    methods: methods.map((m, i) => ({ ...m, original: originals[i] })),
    mode: 'cascading',
    layers: 5,
    group: 'block',
    seed: 0,
  });
  const steps = checked[0].steps.map((s) => s.layer.split('/').pop());
  if (byMethod) {
    const labels: MapSimilarity[] = [];
    for (const [i, m] of methods.entries()) {
      labels.push(
        await labelRandomization({
          model,
          input,
          target: target.index,
          classes,
          ...m,
          original: originals[i],
          seed: 0,
        }),
      );
    }
    console.log(`| method | ${steps.join(' | ')} | labels |`);
    console.log(`|---|${steps.map(() => '---|').join('')}---|`);
    for (const [i, c] of checked.entries()) {
      const l = labels[i];
      const label = Number.isFinite(l.spearmanAbs) ? num(l.spearmanAbs) : 'constant map';
      console.log(`| ${specs[i]} | ${c.steps.map(cell).join(' | ')} | ${label} |`);
    }
  } else {
    console.log(`| randomized down to | ${specs.map((m) => `${m} ρ (abs) | ${m} SSIM`).join(' | ')} |`);
    console.log(`|---|${specs.map(() => '---|---').join('|')}|`);
    for (const [i, step] of steps.entries()) {
      const cells = checked.map((c) =>
        Number.isFinite(c.steps[i].spearmanAbs)
          ? `${c.steps[i].spearmanAbs.toFixed(3)} | ${c.steps[i].ssim.toFixed(3)}`
          : 'constant map | constant map',
      );
      console.log(`| ${step} | ${cells.join(' | ')} |`);
    }
  }
  console.error(`${specs.join(' ')}: ${((performance.now() - started) / 1000).toFixed(0)} s wall`);
} finally {
  await model.dispose();
}
