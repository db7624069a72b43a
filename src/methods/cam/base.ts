import type { AttributionMap } from '../../core/attribution.js';
import { SightlineError, throwIfAborted } from '../../core/errors.js';
import { inputView } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { resamplePlanes } from '../../core/resample.js';
import type { Tensor } from '../../core/tensor.js';
import { oneHot } from '../gradient/common.js';

/** A layer's activations A and gradients G for one image, channel-major: C planes of h × w. */
export interface LayerMaps {
  readonly channels: number;
  readonly width: number;
  readonly height: number;
  readonly activations: Float32Array;
  /** Absent for gradient-free variants. */
  readonly gradients?: Float32Array;
}

export interface CamVariant {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly usesGradients: boolean;
  /** The h × w map before the final ReLU and upsampling. */
  cam(maps: LayerMaps): Float32Array;
}

/**
 * The CAM family's template (after pytorch-grad-cam's BaseCAM): read a layer's activations (and, when the
 * variant needs them, the gradients of the raw target score with respect to them), let the variant combine
 * them into an h × w map, apply ReLU, and upsample bilinearly to the input size. Variants override only
 * `cam`. The layer is the model's default (the last spatial feature map before global pooling) unless
 * `layer` names another. Output: H × W, non-negative. Cost: one pass (with gradients when needed).
 */
export function camMethod(variant: CamVariant): AttributionMethod<MethodOptions> {
  return {
    id: variant.id,
    title: variant.title,
    description: variant.description,
    requires: ['layers'],
    random: false,
    defaults: {},
    options: {},
    passes: () => 1,
    async attribute(input: MethodInput): Promise<AttributionMap> {
      const maps = await readLayer(input, variant.usesGradients);
      return camToMap(input, maps, variant.cam(maps));
    },
  };
}

/** The family's common ending: ReLU of the h × w map (in place), upsampled bilinearly to the input size. */
export function camToMap(
  input: MethodInput,
  maps: LayerMaps,
  cam: Float32Array,
  details: Readonly<Record<string, number>> = {},
): AttributionMap {
  for (let i = 0; i < cam.length; i++) cam[i] = Math.max(0, cam[i]);
  const { width, height } = inputView(input);
  return {
    width,
    height,
    data: resamplePlanes(cam, 1, maps.width, maps.height, width, height),
    signed: false,
    details: {
      layerWidth: maps.width,
      layerHeight: maps.height,
      layerChannels: maps.channels,
      ...details,
    },
  };
}

/**
 * The layer `input.layer` (or the model's default) for one image: activations, and gradients on request, of
 * the target's score or (a seed [1, K]) of any weighted sum of the scores.
 */
export async function readLayer(input: MethodInput, withGradients: boolean | Tensor): Promise<LayerMaps> {
  const { model } = input;
  if (!model.layers || !model.layer) {
    throw new SightlineError(
      'MISSING_CAPABILITY',
      'This model exposes no layers; CAM methods need an ONNX (or converted) model.',
    );
  }
  throwIfAborted(input.signal);
  const name = input.layer ?? (await model.layers()).defaultLayer;
  input.onProgress?.({ done: 0, total: 1, unit: 'passes' });
  const seed = withGradients === true ? oneHot(1, input.classes, input.target) : withGradients || null;
  const result = await model.layer(name, input.input, seed, { signal: input.signal });
  input.onProgress?.({ done: 1, total: 1, unit: 'passes' });
  const dims = result.activations.dims;
  if (dims.length !== 4) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Layer '${name}' has shape [${dims.join(', ')}]; CAM methods need a spatial feature map [N, C, h, w].`,
      { layer: name },
    );
  }
  return {
    channels: dims[1],
    height: dims[2],
    width: dims[3],
    activations: result.activations.data,
    gradients: result.gradients?.data,
  };
}

/** Σ_k w_k A_k: the weighted channel sum most variants end with. */
export function weightedSum(maps: LayerMaps, weights: Float64Array): Float32Array {
  const plane = maps.width * maps.height;
  const out = new Float32Array(plane);
  for (let k = 0; k < maps.channels; k++) {
    const w = weights[k];
    const a = maps.activations.subarray(k * plane, (k + 1) * plane);
    for (let i = 0; i < plane; i++) out[i] += w * a[i];
  }
  return out;
}
