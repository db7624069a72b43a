import { attr } from '../../onnx/proto.js';
import { sanitize } from '../context.js';
import { type Layout, nchwAxis, removedAxesInNchw } from '../layout.js';
import { reducerKeepDims } from '../options.js';
import type { OpRule } from './rule.js';

/**
 * MEAN over constant axes. An NCHW input stays NCHW when the dims are kept, or when the axes left keep
 * TFLite's order (the usual global pool over H and W leaves [N, C] either way).
 */
export const mean: OpRule = (op, ctx) => {
  const [inputIndex, axesIndex] = op.inputs;
  const rank = ctx.tensor(inputIndex).shape.length;
  const byValue = (a: number, b: number) => a - b;
  const axes = [...new Set(ctx.constantInts(axesIndex, op, 'axes').map((a) => (a + rank) % rank))].sort(
    byValue,
  );
  const keepDims = reducerKeepDims(op);
  const v = ctx.value(inputIndex);
  let nchwAxes: number[] | undefined;
  if (v.layout === 'NCHW') nchwAxes = keepDims ? axes.map(nchwAxis).sort(byValue) : removedAxesInNchw(axes);
  const source = nchwAxes ? v.name : ctx.input(inputIndex, 'NHWC', op);
  const layout: Layout = nchwAxes && keepDims ? 'NCHW' : 'NHWC';
  const out = ctx.node(
    'ReduceMean',
    [source],
    [attr('axes', nchwAxes ?? axes), attr('keepdims', keepDims ? 1 : 0)],
    `${sanitize(ctx.tensor(op.outputs[0]).name)}/mean`,
  );
  ctx.defineOutput(op, { value: out, layout, bounds: v.bounds });
};
