/**
 * Conv: the input gradient only (weights are constants). Stride 1 (full, 1×1, grouped, depthwise, dilated):
 * one plain Conv with the flipped, channel-transposed kernel (computed in the graph from the weight, folded
 * by ONNX Runtime at load; conv-geometry.ts), which costs what the forward does (0.95–1.1× at batch 1 and 16; ConvTranspose costs 1.1–5×, worst on depthwise). Strided: one
 * ConvTranspose. scripts/bench-conv-forms.ts (1 thread, batch 16 and 1, MobileNetV2/ResNet50 layers) tried
 * every stride-2 kind four other ways: the exact phase split (stride-1 Convs per phase, Concat,
 * DepthToSpace), all phases from one stride-1 Conv over a zero-filled shared window (+ DepthToSpace CRD),
 * the same with dy's channels copied so depthwise stays multiplier 1, and zeros inserted into dy before a
 * stride-1 Conv. ConvTranspose won on every layer (e.g. depthwise 3×3 s2: 1.7–2.3× the forward against
 * 3.2–5.2× for the best other form; full 3×3 s2: 1.05–1.2× against 1.15–2.2×): any form that computes the
 * phases apart pays about one forward just to interleave them, since a depthwise layer is memory-bound.
 */
import { attr } from '../../proto.js';
import { attrInt, attrInts, attrString } from '../attributes.js';
import { unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';
import { beginPads, convInputGradient } from './conv-geometry.js';

export const conv: GradientRule = (node, [dy], ctx) => {
  const [x, w, bias] = node.input!;
  if (ctx.isActive(w) || ctx.isActive(bias)) {
    throw unsupported(node, 'weights or bias computed from the input are not supported');
  }
  const weights = ctx.requireConstant(node, 1, 'weight');
  const xShape = ctx.shape(x);
  const kernel = weights.dims.slice(2);
  const rank = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(rank).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(rank).fill(1);
  const inSize = xShape.dims.slice(2);
  if (xShape.batch.slice(1).some(Boolean)) throw unsupported(node, 'only the batch axis may vary in size');
  const padsBegin = beginPads(attrString(node, 'auto_pad', 'NOTSET'), attrInts(node, 'pads'), {
    inSize,
    kernel,
    strides,
    dilations,
  });
  const geometry = {
    inSize,
    outSize: ctx.shape(node.output![0]).dims.slice(2),
    kernel,
    strides,
    dilations,
    padsBegin,
  };
  const group = attrInt(node, 'group', 1);
  if (strides.every((v) => v === 1)) {
    const kernelValues = {
      name: w,
      dims: weights.dims,
      group,
      get data() {
        return weights.floats;
      },
    };
    return [convInputGradient(ctx, dy!, geometry, kernelValues)];
  }
  // Strided: one ConvTranspose, whose output_padding restores the rows the forward's floor dropped.
  const extra = inSize.map(
    (h, i) => h + padsBegin[i] - (kernel[i] - 1) * dilations[i] - 1 - strides[i] * (geometry.outSize[i] - 1),
  );
  return [
    ctx.emit(
      'ConvTranspose',
      [dy!, w],
      [
        attr('kernel_shape', kernel),
        attr('strides', strides),
        attr('dilations', dilations),
        attr('pads', [...padsBegin, ...extra.map((e) => Math.max(0, -e))]),
        attr(
          'output_padding',
          extra.map((e) => Math.max(0, e)),
        ),
        attr('group', group),
      ],
    ),
  ];
};
