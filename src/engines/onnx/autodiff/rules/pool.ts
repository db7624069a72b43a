/** Windowed pools: MaxPool (exact, through its argmax indices) and AveragePool (as a ones-kernel conv). */
import { attr, floatTensor, type NodeProto } from '../../proto.js';
import { attrInt, attrInts, attrString } from '../attributes.js';
import { type GradientContext, unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';
import { beginPads, convInputGradient } from './conv-geometry.js';

function windows(node: NodeProto, ctx: GradientContext) {
  const x = node.input![0];
  const shape = ctx.shape(x);
  if (shape.batch.slice(1).some(Boolean)) throw unsupported(node, 'only the batch axis may vary in size');
  const kernel = attrInts(node, 'kernel_shape')!;
  const rank = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(rank).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(rank).fill(1);
  const inSize = shape.dims.slice(2);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const padsBegin = beginPads(attrString(node, 'auto_pad', 'NOTSET'), pads, {
    inSize,
    kernel,
    strides,
    dilations,
  });
  return {
    inSize,
    outSize: ctx.shape(node.output![0]).dims.slice(2),
    kernel,
    strides,
    dilations,
    padsBegin,
    padsEnd: pads.slice(rank),
    channels: shape.dims[1],
  };
}

/**
 * MaxPool: each output's gradient goes to the element its window picked. A MaxPool's Indices output (flat positions into the whole input, as ONNX Runtime computes them) and the gradient is
 * scattered there with ScatterElements; overlapping windows can pick one element twice, so those need
 * reduction='add' (opset 16).
 */
export const maxPool: GradientRule = (node, [dy], ctx) => {
  const x = node.input![0];
  const w = windows(node, ctx);
  if (attrInt(node, 'storage_order', 0) !== 0) throw unsupported(node, 'storage_order=1 is not supported');
  const overlapping = w.kernel.some((k, i) => (k - 1) * w.dilations[i] + 1 > w.strides[i]);
  if (ctx.opset < 11 || (overlapping && ctx.opset < 16)) {
    throw unsupported(
      node,
      `${overlapping ? 'overlapping windows need opset 16' : 'it needs opset 11'} or later (the model imports opset ${ctx.opset})`,
    );
  }
  // A model that does not ask for the indices gets a second MaxPool that computes them, rather than an
  // extra output on its own node: leaving the forward nodes as they are lets the graph be written as the
  // source's bytes plus an appended tail (gradient-graph.ts), where an edit re-encoded the whole model
  // (InceptionV3: ~1 s). The repeated pool costs a few milliseconds at run time.
  const indices = node.output![1] || ctx.emitMany('MaxPool', node.input!, 2, node.attribute ?? [])[1];
  const flat = ctx.ints([-1]);
  const zeros = ctx.emit(
    'ConstantOfShape',
    [ctx.emit('Reshape', [ctx.emit('Size', [x]), ctx.ints([1])])],
    [attr('value', floatTensor('zero', [1], new Float32Array([0])))],
  );
  const scattered = ctx.emit(
    'ScatterElements',
    [zeros, ctx.emit('Reshape', [indices, flat]), ctx.emit('Reshape', [dy!, flat])],
    [attr('axis', 0), ...(overlapping ? [attr('reduction', 'add')] : [])],
  );
  return [ctx.reshapeLike(scattered, x)];
};

/**
 * AveragePool: y[o] = Σ_{i∈window(o)∩input} x[i] / D[o], so dx is the input gradient of a ones-kernel
 * depthwise conv applied to dy/D. D is the window's overlap with the input, or with count_include_pad its
 * overlap with the padded input (PyTorch's rule, which ONNX Runtime follows; with ceil_mode the part of a
 * window past the end padding never counts).
 */
export const averagePool: GradientRule = (node, [dy], ctx) => {
  const w = windows(node, ctx);
  if (w.dilations.some((d) => d !== 1)) throw unsupported(node, 'dilated average pooling is not supported');
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const rank = w.kernel.length;
  const counts = w.outSize.map((size, i) =>
    Array.from({ length: size }, (_, o) => {
      const start = o * w.strides[i] - w.padsBegin[i];
      const end = start + w.kernel[i];
      const cover = includePad
        ? Math.min(end, w.inSize[i] + (w.padsEnd[i] ?? 0)) - start
        : Math.min(end, w.inSize[i]) - Math.max(start, 0);
      return Math.max(1, cover);
    }),
  );
  const total = w.outSize.reduce((a, b) => a * b, 1);
  const inverse = new Float32Array(total);
  for (let o = 0; o < total; o++) {
    let rest = o;
    let divisor = 1;
    for (let i = rank - 1; i >= 0; i--) {
      divisor *= counts[i][rest % w.outSize[i]];
      rest = Math.floor(rest / w.outSize[i]);
    }
    inverse[o] = 1 / divisor;
  }
  const ones = new Float32Array(w.channels * w.kernel.reduce((a, b) => a * b, 1)).fill(1);
  const scaled = ctx.mul(dy!, ctx.floats(inverse, [1, 1, ...w.outSize]));
  return [
    convInputGradient(ctx, scaled, w, { data: ones, dims: [w.channels, 1, ...w.kernel], group: w.channels }),
  ];
};
