/**
 * DeepLIFT with the Rescale rule (Shrikumar, Greenside & Kundaje, ICML 2017, §3.3 and eq. 1): attributions
 * A = (x − x₀) ⊙ m, the multipliers m back-propagated with each nonlinearity's slope replaced by
 * (f(x) − f(x₀)) / (x − x₀), max pooling and softmax by Captum's rules (engines/onnx/autodiff/rules/rescale.ts
 * says which ops, and where the exact gradient stays). Summation-to-delta: Σ A = S(x) − S(x₀) for networks of
 * linear layers, max pooling and those nonlinearities; `details.completenessDelta` reports Σ A − (S(x) − S(x₀))
 * and `details.relativeDelta` that as a fraction of |S(x) − S(x₀)| (not 0 where a softmax, a LogSoftmax or a
 * product of activations lies between the input and the score: Captum's softmax rule is a heuristic that keeps
 * no sum); `details.scoreAtInput` and `details.scoreAtBaseline` (the references' mean)
 * are the scores, as integrated gradients reports them. DeepLiftShap (Lundberg & Lee 2017, as Captum's) averages DeepLIFT over
 * several references. Output: H × W (channels summed), signed.
 */
import type { AttributionMap } from '../../core/attribution.js';
import { runGradientBatches } from '../../core/batch.js';
import { SightlineError } from '../../core/errors.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { createRng } from '../../core/random.js';
import { batchLike } from '../../core/tensor.js';
import { BASELINE_TYPES, type BaselineType, baseline, oneHot } from './common.js';
import { channelMap } from './vanilla.js';

/** The references DeepLiftShap averages over when no training set is at hand (as Expected Gradients). */
const SHAP_REFERENCES: readonly BaselineType[] = ['black', 'white', 'blur', 'noise'];

/** Mean DeepLIFT attributions over `references`, with the mean score change they should sum to. */
async function rescaleAttributions(
  input: MethodInput,
  references: readonly Float32Array[],
): Promise<AttributionMap> {
  const { model } = input;
  if (model.maxBatch < 2)
    throw new SightlineError(
      'MISSING_CAPABILITY',
      'DeepLIFT runs an input and its reference in one batch, and this model takes one image per call.',
      { maxBatch: model.maxBatch },
    );
  const x = input.input.data;
  const size = x.length;
  const total = new Float64Array(size);
  let atInput = 0;
  let atReference = 0;
  await runGradientBatches(
    model,
    {
      total: references.length,
      batchSize: Math.floor(model.maxBatch / 2),
      build(start, end) {
        // Inputs first, then their references: the rule pairs row i with row i + n.
        const n = end - start;
        const batch = batchLike(input.input, 2 * n);
        for (let j = 0; j < n; j++) {
          batch.data.set(x, j * size);
          batch.data.set(references[start + j], (n + j) * size);
        }
        return batch;
      },
      consume(result, start, end) {
        const n = end - start;
        const k = result.scores.dims[1];
        for (let j = 0; j < n; j++) {
          const reference = references[start + j];
          const m = result.gradients.data.subarray(j * size, (j + 1) * size);
          for (let i = 0; i < size; i++) total[i] += (x[i] - reference[i]) * m[i];
          atInput += result.scores.data[j * k + input.target];
          atReference += result.scores.data[(n + j) * k + input.target];
        }
      },
      signal: input.signal,
      onProgress: input.onProgress,
    },
    (n) => oneHot(n, input.classes, input.target),
    'deeplift',
  );
  const attributions = new Float32Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    attributions[i] = total[i] / references.length;
    sum += attributions[i];
  }
  const scoreAtInput = atInput / references.length;
  const scoreAtBaseline = atReference / references.length;
  const delta = sum - (scoreAtInput - scoreAtBaseline);
  return {
    ...channelMap(input, attributions, 'sum', true),
    details: {
      completenessDelta: delta,
      relativeDelta: Math.abs(delta) / Math.max(Math.abs(scoreAtInput - scoreAtBaseline), 1e-12),
      scoreAtInput,
      scoreAtBaseline,
    },
  };
}

export interface DeepLiftOptions extends MethodOptions {
  baselineType: BaselineType;
  seed: number;
}

export const deepLift: AttributionMethod<DeepLiftOptions> = {
  id: 'deeplift',
  title: 'DeepLIFT (Rescale)',
  description:
    'Differences from a reference image propagated with each nonlinearity’s average slope; they add up to the score change.',
  requires: ['inputGradients', 'backwardRules'],
  random: false,
  defaults: { baselineType: 'black', seed: 0 },
  options: {
    baselineType: { type: 'choice', choices: BASELINE_TYPES, description: 'reference image' },
    seed: { type: 'int', min: 0, description: 'seed for the noise reference' },
  },
  passes: () => 2,
  attribute: (input, options) =>
    rescaleAttributions(input, [
      baseline(
        options.baselineType,
        input.input,
        input.model.spec,
        createRng(options.seed),
        input.baselineInput,
      ),
    ]),
};

export interface DeepLiftShapOptions extends MethodOptions {
  samples: number;
  seed: number;
}

export const deepLiftShap: AttributionMethod<DeepLiftShapOptions> = {
  id: 'deeplift-shap',
  title: 'DeepLiftShap',
  description:
    'DeepLIFT averaged over random references (black, white, blurred, noise): SHAP values approximated.',
  requires: ['inputGradients', 'backwardRules'],
  random: true,
  defaults: { samples: 8, seed: 0 },
  options: {
    samples: { type: 'int', min: 1, max: 1024, description: 'references drawn' },
    seed: { type: 'int', min: 0, description: 'random seed; the same seed gives the same map' },
  },
  passes: (o) => 2 * o.samples,
  attribute(input, options) {
    const rng = createRng(options.seed);
    const references = Array.from({ length: options.samples }, () => {
      const type = SHAP_REFERENCES[Math.floor(rng.next() * SHAP_REFERENCES.length)];
      return baseline(type, input.input, input.model.spec, rng);
    });
    return rescaleAttributions(input, references);
  },
};
