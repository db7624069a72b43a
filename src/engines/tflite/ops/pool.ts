import { attr } from '../../onnx/proto.js';
import { type ConversionContext, sanitize } from '../context.js';
import { pool2dOptions } from '../options.js';
import type { TfliteOperator } from '../reader.js';
import { Padding } from '../schema.js';
import { windowPads } from './padding.js';
import type { OpRule } from './rule.js';

/**
 * AVERAGE_POOL_2D and MAX_POOL_2D. TFLite averages over the pixels inside the image only, which is ONNX's
 * count_include_pad = 0; a max never picks padding, so both keep the bounds of their input.
 */
function pool(onnxOp: 'AveragePool' | 'MaxPool'): OpRule {
  return (op, ctx) => {
    const o = pool2dOptions(op);
    const [inputIndex] = op.inputs;
    const x = ctx.tensor(inputIndex);
    const kernel = [o.filterH, o.filterW] as const;
    const strides = [o.strideH, o.strideW] as const;
    const pads = windowPads(op, [x.shape[1], x.shape[2]], {
      kernel,
      strides,
      dilations: [1, 1],
      padding: o.padding,
    });
    const attributes = [
      attr('kernel_shape', [...kernel]),
      attr('strides', [...strides]),
      explicitPadsSafe(onnxOp, op, ctx, kernel, pads)
        ? attr('pads', pads)
        : attr('auto_pad', o.padding === Padding.SAME ? 'SAME_UPPER' : 'VALID'),
    ];
    if (onnxOp === 'AveragePool') attributes.push(attr('count_include_pad', 0));
    const hint = `${sanitize(ctx.tensor(op.outputs[0]).name)}/${onnxOp === 'AveragePool' ? 'avgpool' : 'maxpool'}`;
    const out = ctx.node(onnxOp, [ctx.input(inputIndex, 'NCHW', op)], attributes, hint);
    ctx.defineOutput(op, {
      value: out,
      layout: 'NCHW',
      bounds: ctx.value(inputIndex).bounds,
      activation: o.activation,
    });
  };
}

/**
 * Whether the pool may state its padding as explicit `pads`; if not it uses auto_pad (TFLite's SAME is
 * SAME_UPPER). After a zero PAD the zeros are pixels of the image, but ONNX Runtime's PadFusion (graph
 * optimization level 'basic' and up; the engine uses 'all') folds a zero Pad into the `pads` of a Conv,
 * MaxPool or AveragePool that reads it, and leaves a node with auto_pad alone. For pools that fold is not
 * exact: a MaxPool's pads count as −∞, so on negative inputs the max came out 0.95 to 3.9 off TFLite's in
 * test/unit/tflite-pad-pool.test.ts (onnxruntime-node 1.30); pads that reach the kernel's size make the
 * session fail to load ("Pad should be smaller than kernel"). For an AveragePool 1.30 folds only where it can
 * set count_include_pad = 1, but ORT's PadFusion has not always done that, so average pools after a PAD
 * always take auto_pad. The fold is exact for a MaxPool whose input is known ≥ 0 (after a ReLU: the usual
 * ZeroPadding → MaxPool stem) while the summed pads stay below the kernel, since every window then keeps a
 * pixel of the unpadded input and zeros beside values ≥ 0 do not change their max. That case keeps
 * explicit pads because the fold saves the Pad's copy: best of 15 runs, 1×1 conv + ReLU + pad 1 + 3×3/2 max
 * pool on 8 × 112 × 112 × 64 took 51–58 ms folded against 64–84 ms with auto_pad (two shared cores).
 */
function explicitPadsSafe(
  onnxOp: 'AveragePool' | 'MaxPool',
  op: TfliteOperator,
  ctx: ConversionContext,
  kernel: readonly [number, number],
  pads: readonly number[],
): boolean {
  const input = ctx.value(op.inputs[0]);
  const zeroPads = ctx.zeroPadding(input.name);
  if (!zeroPads) return true;
  if (onnxOp === 'AveragePool' || input.bounds[0] < 0) return false;
  return pads.every((p, i) => p + zeroPads[i] < kernel[i % 2]);
}

export const averagePool2d = pool('AveragePool');
export const maxPool2d = pool('MaxPool');
