import type { Model, ModelSpec } from '../../src/core/model.js';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  type ModelProto,
  type NodeProto,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';

export interface Patch {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export function analyticSpec(size: number, layout: 'NCHW' | 'NHWC' = 'NCHW'): ModelSpec {
  return {
    inputName: 'x',
    layout,
    width: size,
    height: size,
    channelOrder: 'RGB',
    mean: [0, 0, 0],
    std: [1, 1, 1],
    resize: 'squash',
    cropFraction: 1,
    labels: ['patch', 'minus patch'],
    outputs: 'probabilities',
    task: 'classify',
  };
}

/**
 * An ONNX graph whose class 0 score is the mean input value inside one patch (all channels) and class 1 its
 * negative: every attribution method must find that patch and nothing else. `dims` may be symbolic.
 */
export function patchModelProto(
  patch: Patch,
  options: { layout?: 'NCHW' | 'NHWC'; inputName?: string; dims: (number | string)[] },
): ModelProto {
  const layout = options.layout ?? 'NCHW';
  const [hAxis, wAxis] = layout === 'NCHW' ? [2, 3] : [1, 2];
  const x = options.inputName ?? 'x';
  return buildModel({
    inputs: [valueInfo(x, options.dims)],
    outputs: [valueInfo('scores', ['N', 2])],
    initializers: [
      int64Tensor('starts', [2], [patch.y0, patch.x0]),
      int64Tensor('ends', [2], [patch.y1, patch.x1]),
      int64Tensor('axes', [2], [hAxis, wAxis]),
      int64Tensor('one', [1], [1]),
    ],
    nodes: [
      { opType: 'Slice', input: [x, 'starts', 'ends', 'axes'], output: ['crop'] },
      {
        opType: 'ReduceMean',
        input: ['crop'],
        output: ['m'],
        attribute: [attr('axes', [1, 2, 3]), attr('keepdims', 0)],
      },
      ...PLUS_MINUS,
    ],
  });
}

/** The analytic graphs' head: one score m [N] (and an int64 'one' initializer) → scores [N, 2] = [m, −m]. */
const PLUS_MINUS: NodeProto[] = [
  { opType: 'Unsqueeze', input: ['m', 'one'], output: ['m1'] },
  { opType: 'Neg', input: ['m1'], output: ['neg'] },
  { opType: 'Concat', input: ['m1', 'neg'], output: ['scores'], attribute: [attr('axis', 1)] },
];

/**
 * A linear ONNX graph: class 0 scores mean(w ⊙ x) over one input of `dims` (batch axis symbolic), class 1 its
 * negative. The weight tensor 'w' is read by the node 'weighted'.
 */
export function weightedModelProto(w: Float32Array, dims: readonly number[]): ModelProto {
  return buildModel({
    inputs: [valueInfo('x', ['N', ...dims.slice(1)])],
    outputs: [valueInfo('scores', ['N', 2])],
    initializers: [floatTensor('w', [1, ...dims.slice(1)], w), int64Tensor('one', [1], [1])],
    nodes: [
      { opType: 'Mul', input: ['x', 'w'], output: ['wx'], name: 'weighted' },
      {
        opType: 'ReduceMean',
        input: ['wx'],
        output: ['m'],
        attribute: [attr('axes', [1, 2, 3]), attr('keepdims', 0)],
      },
      ...PLUS_MINUS,
    ],
  });
}

export async function patchModel(
  size: number,
  patch: Patch,
  layout: 'NCHW' | 'NHWC' = 'NCHW',
  maxBatch = 16,
): Promise<OnnxModel> {
  const dims = layout === 'NCHW' ? ['N', 3, size, size] : ['N', size, size, 3];
  return OnnxModel.create(encodeModel(patchModelProto(patch, { layout, dims })), analyticSpec(size, layout), {
    maxBatch,
  });
}

export function ones(size: number, layout: 'NCHW' | 'NHWC' = 'NCHW') {
  return {
    data: new Float32Array(3 * size * size).fill(1),
    dims: layout === 'NCHW' ? [1, 3, size, size] : [1, size, size, 3],
  };
}

/** Wraps a model and counts its predict calls (to check batching). */
export function countingModel(model: Model): Model & { calls: number } {
  const wrapper = {
    calls: 0,
    spec: model.spec,
    capabilities: model.capabilities,
    maxBatch: model.maxBatch,
    predict: (batch: Parameters<Model['predict']>[0], options?: Parameters<Model['predict']>[1]) => {
      wrapper.calls++;
      return model.predict(batch, options);
    },
    dispose: () => model.dispose(),
  };
  return wrapper;
}
