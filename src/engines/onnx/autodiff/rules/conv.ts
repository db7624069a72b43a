/**
 * Conv: the input gradient only (weights are constants). Stride 1: one plain Conv with the flipped,
 * channel-transposed kernel (conv-geometry.ts), which costs what the forward does. Strided: one
 * ConvTranspose. Measured with scripts/bench-autodiff.ts (batch 16, 2 threads), ConvTranspose beat the
 * exact stride-1 phase decomposition on every strided layer tried (depthwise 3×3 s2: forward+backward
 * 3.4× the forward against 4.5×; 1×1 s2: 1.6× against 3.4×), while for stride 1 the plain Conv wins
 * (ConvTranspose alone costs 1.3–2.9× the forward there).
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
  if (strides.every((v) => v === 1)) return [convInputGradient(ctx, dy!, geometry, { ...weights, group })];
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
