/**
 * The methods that change ReLU's backward rule (engines/onnx/autodiff/rules/modified-relu.ts says which ops
 * count as ReLU-like and what each rule does there). The model refuses (MISSING_CAPABILITY) when it has none
 * of those ops, since the map would be the plain gradient's drawn under another name.
 */
import type { AttributionMap } from '../../core/attribution.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { gradCam } from '../cam/variants.js';
import { channelMap, gradientOf } from './vanilla.js';

/** Guided Backprop's input gradient as a map: the largest |value| over the channels, as the vanilla gradient's. */
async function guidedMap(input: MethodInput): Promise<AttributionMap> {
  return channelMap(input, await gradientOf(input, 'guided-backprop'), 'max-abs', false);
}

/**
 * Guided Backprop (Springenberg et al., "Striving for Simplicity", 2015, §3.4): the input gradient of the raw
 * class score with every ReLU passing only positive gradients where its input was positive,
 * R_l = 1[x_l > 0] · 1[R_{l+1} > 0] · R_{l+1}. M(p) = max_c |R(p, c)|. Output: H × W, non-negative.
 * Cost: one gradient pass. Adebayo et al. 2018 found it nearly blind to the model's weights.
 */
export const guidedBackprop: AttributionMethod<MethodOptions> = {
  id: 'guided-backprop',
  title: 'Guided Backprop',
  description:
    'The gradient with ReLUs passing only positive gradients where they were active (sharp edges).',
  requires: ['inputGradients', 'backwardRules'],
  random: false,
  defaults: {},
  options: {},
  passes: () => 1,
  attribute: guidedMap,
};

/**
 * DeconvNet (Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", 2014, §2.1): the
 * backward pass with each ReLU applied to the gradient instead of masked by the forward input,
 * R_l = max(R_{l+1}, 0); max pooling keeps its switches (the exact rule). M(p) = max_c |R(p, c)|.
 * Output: H × W, non-negative. Cost: one gradient pass.
 */
export const deconvnet: AttributionMethod<MethodOptions> = {
  id: 'deconvnet',
  title: 'DeconvNet',
  description: 'The backward pass with ReLUs rectifying the gradient instead of gating it by the input.',
  requires: ['inputGradients', 'backwardRules'],
  random: false,
  defaults: {},
  options: {},
  passes: () => 1,
  attribute: async (input) => channelMap(input, await gradientOf(input, 'deconvnet'), 'max-abs', false),
};

/**
 * Guided Grad-CAM (Selvaraju et al., "Grad-CAM", 2017, §3.1): Guided Backprop times Grad-CAM upsampled to
 * the input, pixel by pixel; with Grad-CAM ≥ 0 the largest |·| over channels of the product is the guided
 * map times Grad-CAM. Output: H × W, non-negative. Cost: one gradient pass and one pass to the layer.
 */
export const guidedGradCam: AttributionMethod<MethodOptions> = {
  id: 'guided-grad-cam',
  title: 'Guided Grad-CAM',
  description: 'Guided Backprop times Grad-CAM: fine detail inside the class-discriminative region.',
  requires: ['inputGradients', 'backwardRules', 'layers'],
  random: false,
  defaults: {},
  options: {},
  passes: () => 2,
  async attribute(input) {
    const guided = await guidedMap(input);
    const cam = await gradCam.attribute(input, {});
    const data = new Float32Array(guided.data.length);
    for (let i = 0; i < data.length; i++) data[i] = guided.data[i] * cam.data[i];
    return { ...guided, data, details: cam.details };
  },
};
