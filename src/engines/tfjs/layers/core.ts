/** Dense, shape layers, normalisation, rescaling and padding/cropping. */
import { SightlineError } from '../../../core/errors.js';
import { attr } from '../../onnx/proto.js';
import type { ConversionContext, LayerCall, LayerRule, Value } from '../context.js';
import { fusedActivation } from './activation.js';
import { configBool, configNumber, requireChannelsLast, unsupported } from './config.js';
import { imageInput } from './conv.js';

/** Dropout and noise layers do nothing at inference. */
export const identity: LayerRule = (call) => call.inputs[0];

/**
 * Dense: y = x·W + b over the last axis, W [in, units]. A [N, in] input is one Gemm; a higher-rank input
 * (Keras applies the kernel to its last axis) is a MatMul in Keras' axis order.
 */
export const dense: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const depth = x.shape[x.shape.length - 1];
  const units = configNumber(call, 'units', Number.NaN);
  const kernel = ctx.initializer(
    `${call.path}/kernel`,
    [depth, units],
    call.weight('kernel', [depth, units]),
  );
  const bias = configBool(call, 'use_bias', true)
    ? ctx.initializer(`${call.path}/bias`, [units], call.weight('bias', [units]))
    : undefined;
  let name: string;
  if (x.shape.length === 1) {
    name = ctx.node('Gemm', [x.name, kernel, ...(bias ? [bias] : [])], [], `${call.path}/dense`);
  } else {
    name = ctx.node('MatMul', [ctx.as(x, 'NHWC'), kernel], [], `${call.path}/matmul`);
    if (bias) name = ctx.node('Add', [name, bias], [], `${call.path}/dense`);
  }
  const y: Value = { name, shape: [...x.shape.slice(0, -1), units], layout: 'NHWC' };
  return fusedActivation(ctx, y, call);
};

/** Flatten in Keras' (H, W, C) order; an NCHW value whose C or H·W is 1 has that order already. */
export const flatten: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  if (x.shape.length === 1) return x;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const sameOrder = x.layout === 'NHWC' || x.shape[2] === 1 || x.shape[0] * x.shape[1] === 1;
  const source = sameOrder ? x.name : ctx.as(x, 'NHWC');
  return { name: ctx.node('Flatten', [source], [attr('axis', 1)], call.path), shape: [size], layout: 'NHWC' };
};

export const reshape: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const given = call.config.target_shape;
  if (!Array.isArray(given) || given.some((d) => !Number.isInteger(d))) {
    throw unsupported(call, `has target_shape ${JSON.stringify(given)}`);
  }
  const size = x.shape.reduce((a, b) => a * b, 1);
  const known = (given as number[]).reduce((a, d) => (d === -1 ? a : a * d), 1);
  const target = (given as number[]).map((d) => (d === -1 ? size / known : d));
  if (target.reduce((a, b) => a * b, 1) !== size || target.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TF.js layer '${call.name}' (Reshape) cannot reshape [N, ${x.shape.join(', ')}] to [N, ${(given as number[]).join(', ')}].`,
      { layer: call.name },
    );
  }
  const source = x.shape.length === 3 ? ctx.as(x, 'NHWC') : x.name;
  const name = ctx.node('Reshape', [source, ctx.ints(`${call.path}/shape`, [-1, ...target])], [], call.path);
  return { name, shape: target, layout: 'NHWC' };
};

/** Rescaling: x · scale + offset, each a number or one per channel (the last axis). */
export const rescaling: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const scale = channelConstant(ctx, call, x, 'scale', 1);
  const offset = channelConstant(ctx, call, x, 'offset', 0);
  let name = x.name;
  if (scale !== undefined)
    name = ctx.node('Mul', [name, scale], [], offset ? `${call.path}/scale` : call.path);
  if (offset !== undefined) name = ctx.node('Add', [name, offset], [], call.path);
  return { ...x, name };
};

/** A config number or per-channel list as a constant that broadcasts over `x`; undefined when it is `neutral`. */
function channelConstant(
  ctx: ConversionContext,
  call: LayerCall,
  x: Value,
  key: string,
  neutral: number,
): string | undefined {
  const v = call.config[key] ?? neutral;
  if (typeof v === 'number') return v === neutral ? undefined : ctx.scalar(v);
  const channels = x.shape[x.shape.length - 1];
  if (!Array.isArray(v) || v.length !== channels || v.some((e) => typeof e !== 'number')) {
    throw unsupported(call, `has ${key} ${JSON.stringify(v)}`);
  }
  const dims = x.layout === 'NCHW' ? [channels, 1, 1] : [channels];
  return ctx.initializer(`${call.path}/${key}`, dims, Float32Array.from(v as number[]));
}

/**
 * What both normalisation layers share: they must normalise the last axis (Keras' default; channels in NHWC),
 * and their scale γ and shift β are ones and zeros when the layer has `scale` or `center` off.
 */
function lastAxisAffine(call: LayerCall): { channels: number; gamma: Float32Array; beta: Float32Array } {
  const x = call.inputs[0];
  const rank = x.shape.length + 1;
  const given = call.config.axis ?? -1;
  const axisList = Array.isArray(given) ? given : [given];
  const axis = axisList.length === 1 && typeof axisList[0] === 'number' ? axisList[0] : Number.NaN;
  if ((axis < 0 ? axis + rank : axis) !== rank - 1)
    throw unsupported(call, `normalises axis ${JSON.stringify(given)}`);
  const channels = x.shape[x.shape.length - 1];
  return {
    channels,
    gamma: configBool(call, 'scale', true)
      ? call.weight('gamma', [channels])
      : new Float32Array(channels).fill(1),
    beta: configBool(call, 'center', true) ? call.weight('beta', [channels]) : new Float32Array(channels),
  };
}

/**
 * BatchNormalization at inference: ONNX BatchNormalization over the channels of an image or the features of
 * a [N, C] value; over the last axis of other ranks, the same affine map as a Mul and an Add.
 */
export const batchNormalization: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const rank = x.shape.length + 1;
  const { channels, gamma, beta } = lastAxisAffine(call);
  const epsilon = configNumber(call, 'epsilon', 1e-3);
  const mean = call.weight('moving_mean', [channels]);
  const variance = call.weight('moving_variance', [channels]);
  if (rank === 4 || rank === 2) {
    const inputs = [
      rank === 4 ? ctx.as(x, 'NCHW') : x.name,
      ctx.initializer(`${call.path}/gamma`, [channels], gamma),
      ctx.initializer(`${call.path}/beta`, [channels], beta),
      ctx.initializer(`${call.path}/moving_mean`, [channels], mean),
      ctx.initializer(`${call.path}/moving_variance`, [channels], variance),
    ];
    const name = ctx.node('BatchNormalization', inputs, [attr('epsilon', epsilon, 'float')], call.path);
    return { name, shape: x.shape, layout: rank === 4 ? 'NCHW' : 'NHWC' };
  }
  const factor = gamma.map((g, c) => g / Math.sqrt(variance[c] + epsilon));
  const shift = beta.map((b, c) => b - mean[c] * factor[c]);
  const scaled = ctx.node(
    'Mul',
    [x.name, ctx.initializer(`${call.path}/factor`, [channels], factor)],
    [],
    `${call.path}/scale`,
  );
  const name = ctx.node(
    'Add',
    [scaled, ctx.initializer(`${call.path}/shift`, [channels], shift)],
    [],
    call.path,
  );
  return { ...x, name };
};

/** LayerNormalization over the last axis (Keras' default), as ONNX LayerNormalization. */
export const layerNormalization: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const { channels, gamma, beta } = lastAxisAffine(call);
  const name = ctx.node(
    'LayerNormalization',
    [
      ctx.as(x, 'NHWC'),
      ctx.initializer(`${call.path}/gamma`, [channels], gamma),
      ctx.initializer(`${call.path}/beta`, [channels], beta),
    ],
    [attr('axis', -1), attr('epsilon', configNumber(call, 'epsilon', 1e-3), 'float')],
    call.path,
  );
  return { name, shape: x.shape, layout: 'NHWC' };
};

/** ZeroPadding2D: padding n, [rows, cols] or [[top, bottom], [left, right]], as an ONNX Pad on NCHW. */
export const zeroPadding2d: LayerRule = (call, ctx) => {
  const x = imageInput(call);
  requireChannelsLast(call);
  const [[top, bottom], [left, right]] = edges(call, 'padding');
  const pads = ctx.ints(`${call.path}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
  const name = ctx.node('Pad', [ctx.as(x, 'NCHW'), pads], [attr('mode', 'constant')], call.path);
  ctx.markZeroPadded(name);
  return { name, shape: [x.shape[0] + top + bottom, x.shape[1] + left + right, x.shape[2]], layout: 'NCHW' };
};

/** Cropping2D: the same forms as ZeroPadding2D, as an ONNX Slice on NCHW. */
export const cropping2d: LayerRule = (call, ctx) => {
  const x = imageInput(call);
  requireChannelsLast(call);
  const [[top, bottom], [left, right]] = edges(call, 'cropping');
  const [h, w, c] = x.shape;
  if (top + bottom >= h || left + right >= w) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TF.js layer '${call.name}' (Cropping2D) crops ${top}+${bottom} rows and ${left}+${right} columns from a ${h}×${w} input.`,
      { layer: call.name },
    );
  }
  const name = ctx.node(
    'Slice',
    [
      ctx.as(x, 'NCHW'),
      ctx.ints(`${call.path}/starts`, [top, left]),
      ctx.ints(`${call.path}/ends`, [h - bottom, w - right]),
      ctx.ints(`${call.path}/axes`, [2, 3]),
    ],
    [],
    call.path,
  );
  return { name, shape: [h - top - bottom, w - left - right, c], layout: 'NCHW' };
};

function edges(call: LayerCall, key: string): [[number, number], [number, number]] {
  const v = call.config[key] ?? 1;
  const whole = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  if (whole(v))
    return [
      [v, v],
      [v, v],
    ];
  if (Array.isArray(v) && v.length === 2) {
    if (whole(v[0]) && whole(v[1]))
      return [
        [v[0], v[0]],
        [v[1], v[1]],
      ];
    if (v.every((p) => Array.isArray(p) && p.length === 2 && p.every(whole))) {
      return [
        [v[0][0], v[0][1]],
        [v[1][0], v[1][1]],
      ];
    }
  }
  throw unsupported(call, `has ${key} ${JSON.stringify(v)}`);
}
