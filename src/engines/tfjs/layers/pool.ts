/** Pooling layers as ONNX pools on NCHW values. */
import { SightlineError } from '../../../core/errors.js';
import { attr } from '../../onnx/proto.js';
import type { LayerRule } from '../context.js';
import { configBool, configPadding, configPair, requireChannelsLast } from './config.js';
import { imageInput } from './conv.js';
import { windowGeometry } from './window.js';

/**
 * MaxPooling2D and AveragePooling2D; strides default to the pool size. TensorFlow averages over the pixels
 * inside the image only, which is ONNX's count_include_pad = 0.
 *
 * After a ZeroPadding2D the zeros are pixels of the image. ONNX Runtime folds a zero Pad into the pool that
 * reads it when the pool has a `pads` attribute (its PadFusion), which is exact for Conv but not for pools
 * (a folded MaxPool pads with −∞, a folded AveragePool does not count the zeros, and a fold can make pads
 * the kernel's size, which ORT then refuses). Such a pool says its padding with auto_pad instead (TF's 'same'
 * is SAME_UPPER), which the fusion leaves alone.
 */
function pool(op: 'MaxPool' | 'AveragePool'): LayerRule {
  return (call, ctx) => {
    const x = imageInput(call);
    requireChannelsLast(call);
    const kernel = configPair(call, 'pool_size', [2, 2]);
    const strides = configPair(call, 'strides', kernel);
    const padding = configPadding(call);
    const { out, pads } = windowGeometry(x.shape, { kernel, strides, dilations: [1, 1], padding });
    if (out[0] < 1 || out[1] < 1) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `TF.js layer '${call.name}' (${call.className}) pools ${kernel.join('×')} windows over a ${x.shape[0]}×${x.shape[1]} input, which leaves no output.`,
        { layer: call.name },
      );
    }
    const input = ctx.as(x, 'NCHW');
    const attributes = [
      attr('kernel_shape', kernel),
      attr('strides', strides),
      ctx.isZeroPadded(input)
        ? attr('auto_pad', padding === 'same' ? 'SAME_UPPER' : 'VALID')
        : attr('pads', pads),
    ];
    if (op === 'AveragePool') attributes.push(attr('count_include_pad', 0));
    const name = ctx.node(op, [input], attributes, call.path);
    return { name, shape: [out[0], out[1], x.shape[2]], layout: 'NCHW' };
  };
}

export const maxPooling2d = /* @__PURE__ */ pool('MaxPool');
export const averagePooling2d = /* @__PURE__ */ pool('AveragePool');

/** Global pools give [N, C, 1, 1]; without keepdims (TF.js' only form) that is flattened to [N, C]. */
function globalPool(op: 'GlobalMaxPool' | 'GlobalAveragePool'): LayerRule {
  return (call, ctx) => {
    const x = imageInput(call);
    requireChannelsLast(call);
    const channels = x.shape[2];
    const keep = configBool(call, 'keepdims', false);
    const pooled = ctx.node(op, [ctx.as(x, 'NCHW')], [], keep ? call.path : `${call.path}/pool`);
    if (keep) return { name: pooled, shape: [1, 1, channels], layout: 'NCHW' };
    const name = ctx.node('Flatten', [pooled], [attr('axis', 1)], call.path);
    return { name, shape: [channels], layout: 'NHWC' };
  };
}

export const globalMaxPooling2d = /* @__PURE__ */ globalPool('GlobalMaxPool');
export const globalAveragePooling2d = /* @__PURE__ */ globalPool('GlobalAveragePool');
