/**
 * Conv2D, DepthwiseConv2D and SeparableConv2D as ONNX Conv nodes on NCHW values. Keras kernels are
 * [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]); ONNX wants [out, in / group, kh, kw].
 */
import { SightlineError } from '../../../core/errors.js';
import { attr } from '../../onnx/proto.js';
import type { ConversionContext, LayerCall, LayerRule, Value } from '../context.js';
import { fusedActivation } from './activation.js';
import {
  configBool,
  configNumber,
  configPadding,
  configPair,
  requireChannelsLast,
  unsupported,
} from './config.js';
import { type Window, windowGeometry } from './window.js';

export const conv2d: LayerRule = (call, ctx) => {
  const x = imageInput(call);
  const [, , channels] = x.shape;
  const filters = configNumber(call, 'filters', Number.NaN);
  const groups = configNumber(call, 'groups', 1);
  const [kh, kw] = configPair(call, 'kernel_size', [1, 1]);
  if (!Number.isInteger(filters) || filters < 1) throw unsupported(call, 'has no whole number of filters');
  if (channels % groups !== 0 || filters % groups !== 0) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TF.js layer '${call.name}' (Conv2D) splits ${channels} channels and ${filters} filters into ${groups} groups; expected whole multiples.`,
      { layer: call.name },
    );
  }
  const perGroup = channels / groups;
  const kernel = call.weight('kernel', [kh, kw, perGroup, filters]);
  const weights = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++) {
    for (let xx = 0; xx < kw; xx++) {
      for (let i = 0; i < perGroup; i++) {
        for (let o = 0; o < filters; o++) {
          weights[((o * perGroup + i) * kh + y) * kw + xx] =
            kernel[((y * kw + xx) * perGroup + i) * filters + o];
        }
      }
    }
  }
  const y = convolution(ctx, call, x, window(call, [kh, kw]), {
    weights,
    dims: [filters, perGroup, kh, kw],
    group: groups,
    bias: bias(call, filters),
    hint: `${call.path}/conv`,
  });
  return fusedActivation(ctx, y, call);
};

export const depthwiseConv2d: LayerRule = (call, ctx) => {
  const x = imageInput(call);
  const [kh, kw] = configPair(call, 'kernel_size', [1, 1]);
  const multiplier = depthMultiplier(call);
  // TF.js' DepthwiseConv2D ignores its dilation_rate (it never passes it on), so the model as TF.js runs it
  // and as Keras defines it differ; such a model stays on TF.js rather than be explained as something else.
  if (configPair(call, 'dilation_rate', [1, 1]).some((d) => d !== 1))
    throw unsupported(call, 'has a dilation_rate');
  const y = depthwise(
    ctx,
    call,
    x,
    [kh, kw],
    multiplier,
    bias(call, x.shape[2] * multiplier),
    `${call.path}/depthwise`,
  );
  return fusedActivation(ctx, y, call);
};

/** A depthwise convolution (no bias), then a 1×1 pointwise convolution with the layer's bias. */
export const separableConv2d: LayerRule = (call, ctx) => {
  const x = imageInput(call);
  const [kh, kw] = configPair(call, 'kernel_size', [1, 1]);
  const multiplier = depthMultiplier(call);
  const filters = configNumber(call, 'filters', Number.NaN);
  const middle = x.shape[2] * multiplier;
  const d = depthwise(ctx, call, x, [kh, kw], multiplier, undefined, `${call.path}/depthwise`);
  // Pointwise [1, 1, middle, filters] → [filters, middle, 1, 1].
  const pointwise = call.weight('pointwise_kernel', [1, 1, middle, filters]);
  const weights = new Float32Array(pointwise.length);
  for (let i = 0; i < middle; i++) {
    for (let o = 0; o < filters; o++) weights[o * middle + i] = pointwise[i * filters + o];
  }
  const unit: Window = { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], padding: 'valid' };
  const y = convolution(ctx, call, d, unit, {
    weights,
    dims: [filters, middle, 1, 1],
    group: 1,
    bias: bias(call, filters),
    hint: `${call.path}/pointwise`,
  });
  return fusedActivation(ctx, y, call);
};

/**
 * TF.js leaves depth_multiplier out of a SeparableConv2D's saved config (and so reloads such layers wrongly
 * itself); the depthwise kernel [kh, kw, C, M] says it whatever the config.
 */
function depthMultiplier(call: LayerCall): number {
  const given = call.config.depth_multiplier;
  if (given !== undefined && given !== null) return configNumber(call, 'depth_multiplier', 1);
  return call.weightShape('depthwise_kernel')?.[3] ?? 1;
}

/** Output channel c·M + m reads input channel c: an ONNX Conv with C groups of M filters. */
function depthwise(
  ctx: ConversionContext,
  call: LayerCall,
  x: Value,
  [kh, kw]: [number, number],
  multiplier: number,
  biasValues: Float32Array | undefined,
  hint: string,
): Value {
  const channels = x.shape[2];
  if (!Number.isInteger(multiplier) || multiplier < 1)
    throw unsupported(call, `has depth_multiplier ${multiplier}`);
  const kernel = call.weight('depthwise_kernel', [kh, kw, channels, multiplier]);
  const out = channels * multiplier;
  const taps = kh * kw;
  const weights = new Float32Array(kernel.length);
  for (let t = 0; t < taps; t++) {
    for (let c = 0; c < out; c++) weights[c * taps + t] = kernel[t * out + c];
  }
  return convolution(ctx, call, x, window(call, [kh, kw]), {
    weights,
    dims: [out, 1, kh, kw],
    group: channels,
    bias: biasValues,
    hint,
  });
}

function convolution(
  ctx: ConversionContext,
  call: LayerCall,
  x: Value,
  w: Window,
  k: { weights: Float32Array; dims: number[]; group: number; bias?: Float32Array; hint: string },
): Value {
  const { out, pads } = windowGeometry(x.shape, w);
  if (out[0] < 1 || out[1] < 1) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TF.js layer '${call.name}' (${call.className}) slides a ${w.kernel.join('×')} window over a ${x.shape[0]}×${x.shape[1]} input, which leaves no output.`,
      { layer: call.name },
    );
  }
  const inputs = [ctx.as(x, 'NCHW'), ctx.initializer(`${k.hint}/weights`, k.dims, k.weights)];
  if (k.bias) inputs.push(ctx.initializer(`${k.hint}/bias`, [k.dims[0]], k.bias));
  const name = ctx.node(
    'Conv',
    inputs,
    [
      attr('kernel_shape', [k.dims[2], k.dims[3]]),
      attr('strides', [...w.strides]),
      attr('dilations', [...w.dilations]),
      attr('pads', pads),
      attr('group', k.group),
    ],
    k.hint,
  );
  return { name, shape: [out[0], out[1], k.dims[0]], layout: 'NCHW' };
}

function window(call: LayerCall, kernel: [number, number]): Window {
  requireChannelsLast(call);
  const strides = configPair(call, 'strides', [1, 1]);
  const dilations = configPair(call, 'dilation_rate', [1, 1]);
  if (strides.some((s) => s > 1) && dilations.some((d) => d > 1)) {
    throw unsupported(call, 'has both strides and dilation above 1');
  }
  return { kernel, strides, dilations, padding: configPadding(call) };
}

function bias(call: LayerCall, channels: number): Float32Array | undefined {
  return configBool(call, 'use_bias', true) ? call.weight('bias', [channels]) : undefined;
}

/** The layer's one input, which must be an image [H, W, C]. */
export function imageInput(call: LayerCall): Value {
  const x = call.inputs[0];
  if (call.inputs.length !== 1 || x.shape.length !== 3) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TF.js layer '${call.name}' (${call.className}) expects one image input [N, H, W, C]; got ${call.inputs.map((v) => `[N, ${v.shape.join(', ')}]`).join(', ')}.`,
      { layer: call.name },
    );
  }
  return x;
}
