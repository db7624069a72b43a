/**
 * Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019) through the autodiff's LRP rule
 * sets (engines/onnx/autodiff/rules/lrp.ts): relevance R = x ⊙ g, g the input gradient with each layer's
 * rule in place of its exact one, seeded with the target's raw score, so R sums to f(x) where the rules
 * conserve (ε on a bias-free ReLU network; biases and ε take their share). Rules: 'composite' (zennit's
 * EpsilonGammaBox: zβ for the first layer with the bounds of the pixel range, γ = 0.25 for the other
 * convolutions, ε = 1e-6 for dense layers), 'epsilon' (ε everywhere), 'gamma', 'zplus', 'alpha2-beta1' and
 * 'alpha1-beta0' (that rule for convolutions, ε for dense layers). `details` holds the relevance's sum, the
 * score and the conservation delta. Output: H × W (channels summed), signed.
 */
import type { AttributionMap } from '../../core/attribution.js';
import { runGradientBatches } from '../../core/batch.js';
import { SightlineError } from '../../core/errors.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { createRng } from '../../core/random.js';
import { batchLike } from '../../core/tensor.js';
import { baseline, oneHot } from './common.js';
import { channelMap } from './vanilla.js';

export const LRP_RULES = ['composite', 'epsilon', 'gamma', 'zplus', 'alpha2-beta1', 'alpha1-beta0'] as const;
export type LrpRule = (typeof LRP_RULES)[number];

export interface LrpOptions extends MethodOptions {
  lrpRule: LrpRule;
}

/**
 * The relevance at the input and the target's score. The composite's zβ needs the lowest and highest input
 * values (pixels 0 and 255 through the model's normalisation) in the same batch, after the input.
 */
export async function relevance(
  input: MethodInput,
  rule: LrpRule,
): Promise<{ relevance: Float32Array; score: number }> {
  const { model } = input;
  const x = input.input.data;
  const rows = rule === 'composite' ? 3 : 1;
  if (model.maxBatch < rows)
    throw new SightlineError(
      'MISSING_CAPABILITY',
      "LRP's composite rule runs an input with its pixel range's bounds in one batch of 3, and this model takes fewer images per call; pass --lrp-rule epsilon (or gamma, zplus, alpha2-beta1).",
      { maxBatch: model.maxBatch },
    );
  const batch = batchLike(input.input, rows);
  batch.data.set(x, 0);
  const bounds: Float32Array[] = [];
  if (rows === 3) {
    const rng = createRng(0);
    const black = baseline('black', input.input, model.spec, rng);
    const white = baseline('white', input.input, model.spec, rng);
    bounds.push(
      black.map((b, i) => Math.min(b, white[i])),
      black.map((b, i) => Math.max(b, white[i])),
    );
    batch.data.set(bounds[0], x.length);
    batch.data.set(bounds[1], 2 * x.length);
  }
  // Only the input's row is seeded: the bounds' rows carry no relevance of their own.
  const seed = (n: number) => {
    const t = oneHot(n, input.classes, input.target);
    t.data.fill(0, input.classes);
    return t;
  };
  let g = new Float32Array(0);
  let score = 0;
  await runGradientBatches(
    model,
    {
      total: 1,
      build: () => batch,
      consume: (result) => {
        g = Float32Array.from(result.gradients.data);
        score = result.scores.data[input.target];
      },
      signal: input.signal,
      onProgress: input.onProgress,
    },
    seed,
    `lrp-${rule}`,
  );
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let r = x[i] * g[i];
    for (let b = 0; b < bounds.length; b++) r += bounds[b][i] * g[(b + 1) * x.length + i];
    out[i] = r;
  }
  return { relevance: out, score };
}

async function lrpMap(input: MethodInput, options: LrpOptions): Promise<AttributionMap> {
  const { relevance: r, score } = await relevance(input, options.lrpRule);
  let sum = 0;
  for (const v of r) sum += v;
  const delta = sum - score;
  return {
    ...channelMap(input, r, 'sum', true),
    details: {
      relevanceSum: sum,
      scoreAtInput: score,
      completenessDelta: delta,
      relativeDelta: Math.abs(delta) / Math.max(Math.abs(score), 1e-12),
    },
  };
}

export const lrp: AttributionMethod<LrpOptions> = {
  id: 'lrp',
  title: 'LRP',
  description:
    'Layer-wise relevance propagation: the score redistributed layer by layer to the pixels (zennit’s EpsilonGammaBox by default).',
  requires: ['inputGradients', 'backwardRules'],
  random: false,
  defaults: { lrpRule: 'composite' },
  options: {
    lrpRule: {
      type: 'choice',
      choices: LRP_RULES,
      description:
        'LRP rule: composite (zβ first layer, γ convolutions, ε dense), epsilon, or gamma, zplus, alpha2-beta1, alpha1-beta0 for convolutions with ε for dense layers',
    },
  },
  passes: (o) => (o.lrpRule === 'composite' ? 3 : 1),
  attribute: lrpMap,
};
