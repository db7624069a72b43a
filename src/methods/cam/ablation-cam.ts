import type { AttributionMap } from '../../core/attribution.js';
import { forEachBatch } from '../../core/batch.js';
import { SightlineError } from '../../core/errors.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import type { Tensor } from '../../core/tensor.js';
import { camToMap, readLayer, weightedSum } from './base.js';
import { maskChannels } from './score-cam.js';

export interface AblationCamOptions extends MethodOptions {
  /** How many channels to ablate: 0 = all; otherwise the ones with the highest mean activation. */
  channels: number;
}

/** What passes() assumes when every channel is ablated (as Score-CAM's, the common backbones' last block). */
const ASSUMED_CHANNELS = 2048;

/** Below this |y| the drops are left unscaled: dividing by ≈ 0 would only blow the map up, not reshape it. */
const TINY_SCORE = 1e-6;

/**
 * Ablation-CAM (Desai & Ramaswamy, "Ablation-CAM: Visual Explanations for Deep Convolutional Network via
 * Gradient-free Localization", WACV 2020, eq. 3): the weight of channel k of the layer is the relative drop
 * of the target's score when that channel is set to zero and the rest of the model runs on,
 * w_k = (y − y_k) / y, and the map is ReLU(Σ_k w_k A_k) upsampled, as the rest of the CAM family ends
 * (pytorch-grad-cam's AblationCAM computes the same). y is the raw output (the logit for a model of logits).
 * The paper divides by y, which for a negative score would flip every weight; dividing by |y| keeps its
 * meaning for y > 0 (a positive constant, which changes no map's shape) and the weights' signs for y < 0.
 * Every channel is ablated by default, constant ones too (removing a channel can matter even where it does
 * not vary); `channels` > 0 ablates only that many of the varying channels with the highest mean activation
 * (Score-CAM's choice; the others weigh 0), as pytorch-grad-cam's ratio_channels_to_ablate does, to bound
 * the cost on wide layers. Cost: one pass to read the layer, one forward pass for y and one per channel
 * ablated, batched.
 */
export const ablationCam: AttributionMethod<AblationCamOptions> = {
  id: 'ablation-cam',
  title: 'Ablation-CAM',
  description: 'Removes each feature map in turn and weights it by how much the score drops (no gradients).',
  requires: ['layers'],
  random: false,
  defaults: { channels: 0 },
  options: {
    channels: {
      type: 'int',
      min: 0,
      description: 'feature maps ablated, the most active first (0 = all; fewer = faster)',
    },
  },
  passes: (o) => (o.channels > 0 ? o.channels : ASSUMED_CHANNELS) + 2,
  async attribute(input: MethodInput, options: AblationCamOptions): Promise<AttributionMap> {
    const { model } = input;
    const ablate = model.ablate?.bind(model);
    if (!ablate) {
      throw new SightlineError(
        'MISSING_CAPABILITY',
        'Ablation-CAM runs the model with channels of a layer removed, which this model does not offer (ONNX models and the models converted to ONNX do); Grad-CAM and Score-CAM read the same layer without changing it.',
        { capability: 'ablate' },
      );
    }
    const maps = await readLayer({ ...input, onProgress: undefined }, false);
    // readLayer has checked that the model lists layers.
    const layer = input.layer ?? (await model.layers!()).defaultLayer;
    const chosen = options.channels > 0 ? maskChannels(maps, options.channels) : allChannels(maps.channels);
    const c = maps.channels;
    // Row 0 keeps every channel (y), row i + 1 removes chosen[i] (y_k): one call serves both.
    const total = chosen.length + 1;
    const scores = new Float64Array(total);
    let scale: Tensor = { data: new Float32Array(0), dims: [0, c] };
    const onProgress = input.onProgress;
    await forEachBatch<Tensor>(
      model,
      {
        total,
        signal: input.signal,
        onProgress,
        build(start, end) {
          const data = new Float32Array((end - start) * c).fill(1);
          for (let i = start; i < end; i++) if (i > 0) data[(i - start) * c + chosen[i - 1]] = 0;
          scale = { data, dims: [end - start, c] };
          return repeated(input.input, end - start);
        },
        consume(result, start, end) {
          const k = result.dims[1];
          for (let i = start; i < end; i++) scores[i] = result.data[(i - start) * k + input.target];
        },
      },
      (batch) => ablate(layer, batch, scale, { signal: input.signal }),
    );
    const y = scores[0];
    const norm = Math.abs(y) >= TINY_SCORE ? Math.abs(y) : 1;
    const weights = new Float64Array(c);
    chosen.forEach((k, i) => {
      weights[k] = (y - scores[i + 1]) / norm;
    });
    return camToMap(input, maps, weightedSum(maps, weights), { channelsUsed: chosen.length, score: y });
  },
};

function allChannels(c: number): number[] {
  return Array.from({ length: c }, (_, k) => k);
}

/** `count` copies of the one-image batch. */
function repeated(image: Tensor, count: number): Tensor {
  const data = new Float32Array(count * image.data.length);
  for (let i = 0; i < count; i++) data.set(image.data, i * image.data.length);
  return { data, dims: [count, ...image.dims.slice(1)] };
}
