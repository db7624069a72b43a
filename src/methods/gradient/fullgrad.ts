/**
 * FullGrad (Srinivas & Fleuret, "Full-Gradient Representation for Neural Network Visualization", NeurIPS
 * 2019). For a network of linear layers with biases and piecewise-linear activations the score splits
 * exactly into an input part and one part per bias (eq. 2): f(x) = Σ ∇ₓf ⊙ x + Σ_l Σ ∂f/∂z_l ⊙ b_l.
 * The saliency (eq. 4) post-processes each part as the paper's code does: ψ(t) = |t| rescaled to [0, 1]
 * over its C × h × w (min-max, + 1e-6), summed over the channels and resized bilinearly to the input
 * (pixel centres aligned, as pytorch-grad-cam's cv2.resize); the maps of the input part and of every
 * spatial bias (Conv, BatchNormalization) are summed. Linear layers' biases have no spatial extent: they
 * enter the completeness check only, as in the paper's code.
 *
 * `details`: scoreAtInput (the score), inputPart, biasPart and completenessDelta = inputPart + biasPart − score (0 up to
 * float32 rounding for a ReLU network with folded batch norm; far from 0 where the network has other
 * nonlinearities, e.g. SiLU or a softmax in the graph), relativeDelta and biasLayers (how many biases).
 * Output: H × W, non-negative. Cost: one gradient pass.
 */
import type { AttributionMap } from '../../core/attribution.js';
import { SightlineError } from '../../core/errors.js';
import { inputView, reduceChannels } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { resamplePlanes } from '../../core/resample.js';
import { oneHot } from './common.js';

/** ψ before the resize: |t| rescaled to [0, 1] over the whole tensor (one image). */
function rescaledAbs(t: Float32Array): Float32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const out = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) {
    out[i] = Math.abs(t[i]);
    lo = Math.min(lo, out[i]);
    hi = Math.max(hi, out[i]);
  }
  const scale = 1 / (hi - lo + 1e-6);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - lo) * scale;
  return out;
}

async function fullGradMap(input: MethodInput): Promise<AttributionMap> {
  const { model } = input;
  if (!model.biasGradients)
    throw new SightlineError('MISSING_CAPABILITY', 'This model offers no bias gradients.', {
      capability: 'biasGradients',
    });
  const seed = oneHot(1, input.classes, input.target);
  const result = await model.biasGradients(input.input, seed, { signal: input.signal });
  const x = input.input.data;
  const gx = result.gradients.data;
  const product = new Float32Array(x.length);
  let inputPart = 0;
  for (let i = 0; i < x.length; i++) {
    product[i] = gx[i] * x[i];
    inputPart += product[i];
  }
  const view = inputView(input);
  const map = reduceChannels(rescaledAbs(product), view, 'sum');
  let biasPart = 0;
  for (const bias of result.biases) {
    const g = bias.gradients;
    for (const v of g.data) biasPart += v;
    if (g.dims.length !== 4 || (bias.op !== 'Conv' && bias.op !== 'BatchNormalization')) continue;
    const [, channels, h, w] = g.dims;
    const planes = rescaledAbs(g.data);
    const summed = new Float32Array(h * w);
    for (let c = 0; c < channels; c++) for (let i = 0; i < h * w; i++) summed[i] += planes[c * h * w + i];
    const resized = resamplePlanes(summed, 1, w, h, view.width, view.height);
    for (let i = 0; i < map.length; i++) map[i] += resized[i];
  }
  const score = result.scores.data[input.target];
  const delta = inputPart + biasPart - score;
  return {
    width: view.width,
    height: view.height,
    data: map,
    signed: false,
    details: {
      scoreAtInput: score,
      inputPart,
      biasPart,
      completenessDelta: delta,
      relativeDelta: Math.abs(delta) / Math.max(Math.abs(score), 1e-12),
      biasLayers: result.biases.length,
    },
  };
}

export const fullGrad: AttributionMethod<MethodOptions> = {
  id: 'fullgrad',
  title: 'FullGrad',
  description:
    'Input-gradient × input plus every convolution’s bias-gradient map (complete for ReLU networks).',
  requires: ['biasGradients'],
  random: false,
  defaults: {},
  options: {},
  passes: () => 1,
  attribute: fullGradMap,
};
