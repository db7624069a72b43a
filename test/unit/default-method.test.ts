import { describe, expect, it } from 'vitest';
import { defaultMethodId } from '../../src/cli/options.js';
import { attr, buildModel, encodeModel, type NodeProto, valueInfo } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { analyticSpec } from '../helpers/analytic.js';
import { weights } from '../helpers/autodiff-graphs.js';
import { functionModel } from '../helpers/function-model.js';

/** x [N, 3, 4, 4] → `extra` → GlobalAveragePool → Flatten: one score per channel of the last tensor. */
function onnxModel(
  extra: NodeProto[],
  initializers = extra.length > 0 ? [weights('w', [3, 3, 3, 3], 1)] : [],
) {
  const last = extra.at(-1)?.output?.[0] ?? 'x';
  const proto = buildModel({
    inputs: [valueInfo('x', ['N', 3, 4, 4])],
    outputs: [valueInfo('scores', ['N', 3])],
    nodes: [
      ...extra,
      { opType: 'GlobalAveragePool', input: [last], output: ['pooled'] },
      { opType: 'Flatten', input: ['pooled'], output: ['scores'], attribute: [attr('axis', 1)] },
    ],
    initializers,
  });
  return OnnxModel.create(encodeModel(proto), { ...analyticSpec(4), labels: ['r', 'g', 'b'] });
}

describe("explain's default method", () => {
  it('is Grad-CAM for a model with gradients and a feature map', async () => {
    const model = await onnxModel([
      { opType: 'Conv', input: ['x', 'w'], output: ['features'], attribute: [attr('pads', [1, 1, 1, 1])] },
    ]);
    expect((await model.layers()).defaultLayer).toBe('features');
    expect(await defaultMethodId(model)).toBe('grad-cam');
    await model.dispose();
  });

  it('is RISE for a model with gradients but no feature map CAM methods can read', async () => {
    const model = await onnxModel([]);
    expect(model.capabilities.has('layers')).toBe(true);
    await expect(model.layers()).rejects.toThrow(/no layer CAM methods can read/);
    expect(await defaultMethodId(model)).toBe('rise');
    await model.dispose();
  });

  it('is RISE for a model with input gradients and no layers', async () => {
    const model = functionModel(
      { f: (x) => x[0], grad: (x) => x.map((_, i) => (i === 0 ? 1 : 0)) },
      [1, 3, 4, 4],
    );
    expect(model.capabilities.has('inputGradients')).toBe(true);
    expect(await defaultMethodId(model)).toBe('rise');
  });
});
