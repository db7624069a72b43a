import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { prepare } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { modelRandomizations, type RandomizationStep } from '../../src/metrics/sanity.js';
import { loadDefaultModel } from '../../src/models/default-model.js';
import { SHARED_IMAGES } from '../helpers/cli.js';

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/sanity/', import.meta.url));
/** Top-level blocks stepped through, from the classifier down (each costs a fresh gradient graph per method). */
const BLOCKS = 5;
const METHODS = ['gradient', 'grad-cam'] as const;
/**
 * Draws of the weight noise checked: one draw is a single sample, and Grad-CAM's coarse map on a randomized
 * network lands anywhere (over seeds 0–7 its ρ of |map| from the third step ranged −0.47 … 0.70, and seed 4
 * gave two constant maps; `npx tsx scripts/sanity-table.ts --seeds 8 grad-cam`), so the finding is asserted
 * over several.
 */
const SEEDS = [0, 1, 2, 3];
/**
 * Decided from the computed numbers (seeds 0–3, the third to fifth steps, Mixed_7b down to Mixed_6e): the
 * vanilla gradient's ρ of |map| stays at 0.38–0.44 on every draw (followed through all 17 blocks with seed 0 it
 * measured 0.34–0.44 down to Conv2d_3b_1x1, 0.18 at Conv2d_2a_3x3 and 0.33 with every weight random: the
 * photo's own structure, which even a random network's gradient follows, Adebayo et al.'s edge-detector
 * observation), so each must lie in [0.3, 0.5); Grad-CAM's ρ averages 0.03 over the draws (−0.47 … 0.65), so
 * its mean must stay below 0.3.
 */
const GRADIENT_BAND = [0.3, 0.5] as const;
const GRAD_CAM_MEAN_BELOW = 0.3;

/**
 * Adebayo et al.'s cascading model randomization on the embedded InceptionV3 and dog.jpg, by top-level block
 * ('InceptionV3/Logits/Conv2d_1c_1x1', 'InceptionV3/InceptionV3/Mixed_7c', …). The numbers are computed, not
 * matched to the paper; the assertions are what they show on this model: once the top blocks are noise,
 * Grad-CAM's map follows the trained model's no more than chance on average, while the vanilla gradient's keeps
 * a rank agreement of about 0.4 on every draw (see GRADIENT_BAND).
 */
describe('model randomization sanity check on the embedded InceptionV3', () => {
  let model: Model;
  let dog: RgbImage;
  const results = new Map<string, readonly RandomizationStep[]>();
  beforeAll(async () => {
    model = await loadDefaultModel();
    dog = await decodeImage(join(SHARED_IMAGES, 'dog.jpg'));
  });
  afterAll(async () => {
    await model.dispose();
    if (results.size === 0) return;
    const header = `| block | ${METHODS.map((m) => `${m} ρ abs | ${m} ρ | ${m} SSIM`).join(' | ')} |`;
    const rule = `|${' --- |'.repeat(1 + 3 * METHODS.length)}`;
    const first = results.get(METHODS[0]) ?? [];
    const rows = first.map((step, i) => {
      const cells = METHODS.flatMap((m) => {
        const s = results.get(m)?.[i];
        return s ? [s.spearmanAbs, s.spearman, s.ssim].map((v) => v.toFixed(3)) : ['', '', ''];
      });
      return `| ${step.layer} | ${cells.join(' | ')} |`;
    });
    const table = [header, rule, ...rows].join('\n');
    console.log(table);
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(
      join(ARTIFACTS, 'default-model.md'),
      `# Cascading model randomization, embedded InceptionV3, dog.jpg (seed 0)\n\n${table}\n`,
    );
  });

  it('gradient and Grad-CAM: the Spearman ρ of |map| once the top blocks are randomized, over several draws', async () => {
    // One randomized model per block serves both methods; 'block' finds the 17 TF-Slim blocks by name.
    const { input, target, classes } = await prepare({ model, image: dog });
    const gradCamLow: number[] = [];
    // The first step, the logits random: every map moves (means over seeds 0–3: gradient 0.67, Grad-CAM 0.63).
    const logits: Record<(typeof METHODS)[number], number[]> = { gradient: [], 'grad-cam': [] };
    for (const seed of SEEDS) {
      const checked = await modelRandomizations({
        model,
        input,
        target: target.index,
        classes,
        methods: METHODS.map((method) => ({ method })),
        mode: 'cascading',
        layers: BLOCKS,
        group: 'block',
        seed,
      });
      for (const [i, method] of METHODS.entries()) {
        const { steps } = checked[i];
        // The README's table is seed 0's.
        if (seed === 0) results.set(method, steps);
        expect(steps.map((s) => s.layer)).toEqual([
          'InceptionV3/Logits/Conv2d_1c_1x1',
          'InceptionV3/InceptionV3/Mixed_7c',
          'InceptionV3/InceptionV3/Mixed_7b',
          'InceptionV3/InceptionV3/Mixed_7a',
          'InceptionV3/InceptionV3/Mixed_6e',
        ]);
        logits[method].push(steps[0].spearmanAbs);
        const low = steps.slice(2).map((s) => s.spearmanAbs);
        if (method === 'gradient') {
          for (const rho of low) {
            expect(rho).toBeGreaterThanOrEqual(GRADIENT_BAND[0]);
            expect(rho).toBeLessThan(GRADIENT_BAND[1]);
          }
        } else gradCamLow.push(...low);
      }
    }
    // A constant map (ρ undefined: nothing of the original left) would be left out of the mean; none of these
    // draws gives one, and most must give a number for the mean to say anything.
    const finite = gradCamLow.filter(Number.isFinite);
    expect(finite.length).toBeGreaterThanOrEqual(gradCamLow.length / 2);
    const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
    console.log(
      `Grad-CAM ρ of |map|, steps 3–5, seeds ${SEEDS.join(', ')}: mean ${mean.toFixed(3)} of ${finite.length}`,
    );
    expect(mean).toBeLessThan(GRAD_CAM_MEAN_BELOW);
    for (const method of METHODS)
      expect(logits[method].reduce((a, b) => a + b, 0) / SEEDS.length).toBeLessThan(0.9);
  }, 900_000);
});
