import type { AttributionMap } from '../../core/attribution.js';
import { SightlineError } from '../../core/errors.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { softmax } from '../../core/scores.js';
import { camToMap, readLayer, weightedSum } from './base.js';

export interface FinerCamOptions extends MethodOptions {
  /** How many of the classes scored closest to the target are contrasted with it. */
  compare: number;
  /** How strongly their scores are subtracted (0 = plain Grad-CAM). */
  alpha: number;
}

/**
 * Finer-CAM (Zhang et al., "Finer-CAM: Spotting the Difference Reveals Finer Details for Visual Explanation",
 * CVPR 2025) with Grad-CAM as its base, as the authors' pytorch-grad-cam FinerCAM defaults to: Grad-CAM of
 * the contrast score S = y_c − α Σ_j ω_j y_j, ω_j = p_j / Σ_i p_i, over the `compare` classes j ≠ c whose
 * scores lie closest to the target's, |y_j − y_c| smallest (the model's "most similar" classes; ranks 1–3
 * by default, as theirs), p the softmax of the scores (the probabilities themselves for a model that outputs
 * probabilities). Features the similar classes share cancel and what tells the target from them remains.
 * The weights ω are read from one prediction and held fixed, so S is a fixed mix of the outputs and its
 * gradient comes from one seeded pass; pytorch-grad-cam's FinerWeightedTarget also differentiates through
 * the softmax that makes ω, which the paper's equation does not. α = 0 is plain Grad-CAM.
 * Refused in words for a model with one output: there is nothing to contrast with.
 * Cost: one prediction and one pass with gradients.
 */
export const finerCam: AttributionMethod<FinerCamOptions> = {
  id: 'finer-cam',
  title: 'Finer-CAM',
  description: 'Grad-CAM of the target against its most similar classes: what tells them apart.',
  requires: ['layers'],
  random: false,
  defaults: { compare: 3, alpha: 1 },
  options: {
    compare: { type: 'int', min: 1, description: 'classes scored closest to the target to contrast with' },
    alpha: { type: 'number', min: 0, description: 'weight of the similar classes’ scores (0 = Grad-CAM)' },
  },
  passes: () => 2,
  async attribute(input: MethodInput, options: FinerCamOptions): Promise<AttributionMap> {
    const { model, target } = input;
    const scores = (await model.predict(input.input, { signal: input.signal })).data.subarray(
      0,
      input.classes,
    );
    if (scores.length < 2) {
      throw new SightlineError(
        'INVALID_ARGUMENT',
        'Finer-CAM contrasts the target with the classes scored closest to it, and this model explains a single output; use Grad-CAM.',
        { method: 'finer-cam', outputs: scores.length },
      );
    }
    const similar = closestClasses(scores, target, options.compare);
    const p = model.spec.outputs === 'probabilities' ? Float64Array.from(scores) : softmax(scores);
    const total = similar.reduce((sum, j) => sum + p[j], 0);
    const seed = new Float32Array(scores.length);
    seed[target] = 1;
    for (const j of similar) {
      // Equal weights when every similar class has probability 0 (a probability model's hard zeros).
      const omega = total > 0 ? p[j] / total : 1 / similar.length;
      seed[j] -= options.alpha * omega;
    }
    const maps = await readLayer(input, { data: seed, dims: [1, scores.length] });
    const g = maps.gradients!;
    const n = maps.width * maps.height;
    const weights = new Float64Array(maps.channels);
    for (let k = 0; k < maps.channels; k++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += g[k * n + i];
      weights[k] = sum / n;
    }
    const details: Record<string, number> = { compared: similar.length };
    similar.forEach((j, i) => {
      details[`similar${i + 1}`] = j;
    });
    return camToMap(input, maps, weightedSum(maps, weights), details);
  },
};

/** The `count` classes other than `target` whose scores lie closest to its score, closest first (ties by index). */
export function closestClasses(scores: ArrayLike<number>, target: number, count: number): number[] {
  const others: number[] = [];
  for (let j = 0; j < scores.length; j++) if (j !== target) others.push(j);
  const distance = (j: number) => Math.abs(scores[j] - scores[target]);
  return others.sort((a, b) => distance(a) - distance(b) || a - b).slice(0, count);
}
