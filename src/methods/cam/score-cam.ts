import type { AttributionMap } from '../../core/attribution.js';
import { runBatched } from '../../core/batch.js';
import { imageView } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import type { ModelSpec } from '../../core/model.js';
import { resamplePlanes } from '../../core/resample.js';
import { softmax } from '../../core/scores.js';
import { batchLike, type Tensor } from '../../core/tensor.js';
import { applyMasks } from '../perturbation/masking.js';
import { camToMap, type LayerMaps, readLayer, weightedSum } from './base.js';

export interface ScoreCamOptions extends MethodOptions {
  /** How many channels to mask with: 0 = all; otherwise the ones with the highest mean activation. */
  channels: number;
  /** Value masked-out pixels take, in normalised input space (0 = the dataset mean). */
  baseline: number;
}

/**
 * What passes() assumes when every channel is used: the layer's size is known only once it is read, and
 * 2048 is the last block of the common ImageNet backbones (ResNet-50, InceptionV3), the default model's too.
 */
const ASSUMED_CHANNELS = 2048;

/**
 * Score-CAM (Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks",
 * CVPR Workshops 2020, Algorithm 1 and eq. 5–6). Gradient-free: each channel k of the layer's activations
 * A_k is upsampled to the input size, min–max normalised to a mask H_k in [0, 1], and the photo is shown
 * through it, x ⊙ H_k + baseline · (1 − H_k). The weight of channel k is the softmax over channels of the
 * target's score on those masked photos, α_k = exp(S_k) / Σ_j exp(S_j), and the map is
 * ReLU(Σ_k α_k A_k) upsampled bilinearly, as the rest of the CAM family ends.
 * Which score: the paper's S_k is the increase in confidence f(x ⊙ H_k) − f(x_b); the softmax over k
 * cancels the constant f(x_b), so this is the same as pytorch-grad-cam's softmax of the raw target score
 * on the masked inputs, which is what is computed: the logit for a model that outputs logits. For a model
 * that outputs probabilities the log-probability is used, so α_k = p_k / Σ_j p_j (the masked target
 * probabilities, normalised, as the authors' own code weights by probability); a softmax of probabilities
 * themselves could not tell channels apart by more than a factor e.
 * Constant channels (max = min on the layer) give no mask and are skipped (weight 0). `channels` > 0 keeps
 * only that many channels with the highest mean activation, to bound the cost on wide layers.
 * Defaults: every channel, baseline 0. Output: H × W, non-negative. Cost: one pass to read the layer plus
 * one model pass per channel used, batched (passes() assumes 2048 channels when `channels` is 0).
 */
export const scoreCam: AttributionMethod<ScoreCamOptions> = {
  id: 'score-cam',
  title: 'Score-CAM',
  description:
    'Shows the photo through each feature map and weights the maps by the score each keeps (no gradients).',
  requires: ['layers', 'predict'],
  random: false,
  defaults: { channels: 0, baseline: 0 },
  options: {
    channels: {
      type: 'int',
      min: 0,
      description: 'feature maps used as masks, the most active first (0 = all; fewer = faster)',
    },
    baseline: { type: 'number', description: 'fill value for masked pixels in normalised input space' },
  },
  passes: (o) => (o.channels > 0 ? o.channels : ASSUMED_CHANNELS) + 1,
  async attribute(input: MethodInput, options: ScoreCamOptions): Promise<AttributionMap> {
    const maps = await readLayer({ ...input, onProgress: undefined }, false);
    const chosen = maskChannels(maps, options.channels);
    const scores = await maskedScores(input, maps, chosen, options.baseline);
    const weights = new Float64Array(maps.channels);
    const alphas = softmax(scores);
    chosen.forEach((k, i) => {
      weights[k] = alphas[i];
    });
    return camToMap(input, maps, weightedSum(maps, weights), { channelsUsed: chosen.length });
  },
};

/**
 * The channels to mask with, in channel order: the `cap` with the highest mean activation (all when cap is
 * 0), less those that are constant over the layer's positions.
 */
export function maskChannels(maps: LayerMaps, cap: number): number[] {
  const plane = maps.width * maps.height;
  const candidates: { k: number; mean: number }[] = [];
  for (let k = 0; k < maps.channels; k++) {
    const a = maps.activations.subarray(k * plane, (k + 1) * plane);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    for (const v of a) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    candidates.push({ k, mean: max > min ? sum / plane : Number.NEGATIVE_INFINITY });
  }
  const useful = candidates.filter((c) => c.mean > Number.NEGATIVE_INFINITY);
  // A stable sort keeps channel order among equal means, so the choice is deterministic.
  const kept =
    cap > 0 && cap < useful.length ? [...useful].sort((a, b) => b.mean - a.mean).slice(0, cap) : useful;
  return kept.map((c) => c.k).sort((a, b) => a - b);
}

/** The target's score (logit, or log-probability) on the photo masked by each chosen channel, batched. */
async function maskedScores(
  input: MethodInput,
  maps: LayerMaps,
  chosen: readonly number[],
  baseline: number,
): Promise<Float64Array> {
  const s = imageView(input.input.dims, input.model.spec.layout);
  const plane = maps.width * maps.height;
  const scores = new Float64Array(chosen.length);
  const onProgress = input.onProgress;
  await runBatched(input.model, {
    total: chosen.length,
    signal: input.signal,
    // The layer read counts as the first pass.
    onProgress: onProgress && ((p) => onProgress({ done: p.done + 1, total: p.total + 1, unit: p.unit })),
    build(start, end): Tensor {
      const count = end - start;
      const planes = new Float32Array(count * plane);
      for (let i = 0; i < count; i++) {
        const k = chosen[start + i];
        planes.set(maps.activations.subarray(k * plane, (k + 1) * plane), i * plane);
      }
      const masks = resamplePlanes(planes, count, maps.width, maps.height, s.width, s.height);
      normalisePlanes(masks, count, s.plane);
      const batch = batchLike(input.input, count);
      applyMasks(input.input.data, s, masks, count, baseline, batch.data);
      return batch;
    },
    consume(result, start, end) {
      const k = result.dims[1];
      for (let i = start; i < end; i++) {
        scores[i] = targetScore(result.data[(i - start) * k + input.target], input.model.spec);
      }
    },
  });
  return scores;
}

/** Each plane min–max scaled to [0, 1] in place; a plane left constant by resampling becomes 0. */
function normalisePlanes(planes: Float32Array, count: number, size: number): void {
  for (let n = 0; n < count; n++) {
    const p = planes.subarray(n * size, (n + 1) * size);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of p) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const range = max - min;
    for (let i = 0; i < size; i++) p[i] = range > 0 ? (p[i] - min) / range : 0;
  }
}

/** The smallest probability taken to the log, so a target probability of exactly 0 stays finite. */
const MIN_PROBABILITY = 1e-38;

/** A score model's output is explained raw: it is no probability, and may be negative. */
function targetScore(raw: number, spec: Pick<ModelSpec, 'outputs' | 'task'>): number {
  return spec.outputs === 'probabilities' && spec.task !== 'score'
    ? Math.log(Math.max(raw, MIN_PROBABILITY))
    : raw;
}
