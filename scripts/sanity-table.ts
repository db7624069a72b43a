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
 *
 * With `--seeds N` (implies --by-method) the whole check runs for seeds 0 … N − 1, each a different draw of the
 * weight noise (and of the other class), and each cell is the mean ± sample standard deviation of ρ of |map|
 * over the draws, with its range, and how many draws gave a constant map (left out of the mean): one draw
 * makes a CAM's coarse map land anywhere, so a single-seed table can rank methods by chance.
 *
 *   npx tsx scripts/sanity-table.ts --seeds 8 gradient grad-cam
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
const seedsAt = args.indexOf('--seeds');
const seeds = seedsAt >= 0 ? Number(args.splice(seedsAt, 2)[1]) : 1;
const byMethod = args.includes('--by-method') || seedsAt >= 0;
const specs = args.filter((a) => a !== '--by-method');
if (specs.length === 0 || !(Number.isInteger(seeds) && seeds >= 1)) {
  console.error(
    'usage: npx tsx scripts/sanity-table.ts [--by-method] [--seeds N] METHOD[:NAME=VALUE,...]...',
  );
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
/** ρ over several draws: "mean ± sd (min … max)", and the draws whose map was constant. */
function spread(values: readonly number[]): string {
  const finite = values.filter(Number.isFinite);
  const constant = values.length - finite.length;
  const note = constant > 0 ? `, ${constant} constant` : '';
  if (finite.length === 0) return `constant map${note}`;
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const sd =
    finite.length > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (finite.length - 1)) : 0;
  const two = (v: number) => v.toFixed(2).replace('-', '−');
  return `${two(mean)} ± ${two(sd)} (${two(Math.min(...finite))} … ${two(Math.max(...finite))}${note})`;
}

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
  const check = (seed: number) =>
    modelRandomizations({
      model,
      input,
      target: target.index,
      classes,
      methods: methods.map((m, i) => ({ ...m, original: originals[i] })),
      mode: 'cascading',
      layers: 5,
      group: 'block',
      seed,
    });
  const labelCheck = (i: number, seed: number) =>
    labelRandomization({
      model,
      input,
      target: target.index,
      classes,
      ...methods[i],
      original: originals[i],
      seed,
    });
  const checked = await check(0);
  const steps = checked[0].steps.map((s) => s.layer.split('/').pop());
  if (seeds > 1) {
    // rho[method][step] and labels[method]: ρ of |map| for each seed.
    const rho = checked.map((c) => c.steps.map((s) => [s.spearmanAbs]));
    const labels: number[][] = methods.map(() => []);
    for (let seed = 0; seed < seeds; seed++) {
      if (seed > 0)
        for (const [i, c] of (await check(seed)).entries())
          for (const [k, s] of c.steps.entries()) rho[i][k].push(s.spearmanAbs);
      for (const i of methods.keys()) labels[i].push((await labelCheck(i, seed)).spearmanAbs);
      console.error(`seed ${seed} done, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    console.log(`| method (${seeds} seeds) | ${steps.join(' | ')} | labels |`);
    console.log(`|---|${steps.map(() => '---|').join('')}---|`);
    for (const [i, spec] of specs.entries())
      console.log(`| ${spec} | ${rho[i].map(spread).join(' | ')} | ${spread(labels[i])} |`);
  } else if (byMethod) {
    const labels: MapSimilarity[] = [];
    for (const i of methods.keys()) labels.push(await labelCheck(i, 0));
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
