import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { attr, buildModel, encodeModel, type NodeProto, valueInfo } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { explain } from '../../src/explain.js';
import { METHODS } from '../../src/methods/registry.js';
import { openTfjsSource } from '../../src/models/tfjs.js';
import { analyticSpec } from '../helpers/analytic.js';
import { randomizeWeights, saveArtifacts, tfl, tfReady } from '../helpers/tfjs-models.js';

/** The registry's methods that need nothing but predictions, read here from each method's requirements. */
const PREDICT_ONLY = METHODS.filter((m) => m.requires.length === 1 && m.requires[0] === 'predict').map(
  (m) => m.id,
);
const ADVICE = `black-box methods (${PREDICT_ONLY.join(', ')}) work with any model.`;

const photo: RgbImage = {
  width: 4,
  height: 4,
  data: Uint8Array.from({ length: 48 }, (_, i) => (i * 37) % 256),
};

/** x [N, 3, 4, 4] → (an op of `extra`) → GlobalAveragePool → Flatten: three scores, one per channel. */
function onnxModel(extra: NodeProto[], opset?: number): Promise<OnnxModel> {
  const last = extra.at(-1)?.output?.[0] ?? 'x';
  const proto = buildModel({
    opset,
    inputs: [valueInfo('x', ['N', 3, 4, 4])],
    outputs: [valueInfo('scores', ['N', 3])],
    nodes: [
      ...extra,
      { opType: 'GlobalAveragePool', input: [last], output: ['pooled'] },
      { opType: 'Flatten', input: ['pooled'], output: ['scores'], attribute: [attr('axis', 1)] },
    ],
  });
  return OnnxModel.create(encodeModel(proto), { ...analyticSpec(4), labels: ['r', 'g', 'b'] });
}

async function rejection(model: Model, method: string): Promise<{ code: string; message: string }> {
  return explain({ model, image: photo, method }).then(
    () => ({ code: 'none', message: 'explained' }),
    (error: { code: string; message: string }) => ({ code: error.code, message: error.message }),
  );
}

describe('what still runs on a model without gradients is worded from the registry', () => {
  beforeAll(tfReady);

  it('the registry counts LIME and KernelSHAP among the methods that need only predictions', () => {
    expect(PREDICT_ONLY).toEqual(expect.arrayContaining(['occlusion', 'rise', 'lime', 'kernel-shap']));
    expect(PREDICT_ONLY).not.toContain('gradient');
  });

  it('an ONNX model with an op that has no gradient rule', async () => {
    const model = await onnxModel([{ opType: 'Sin', name: 'wave', input: ['x'], output: ['waved'] }]);
    try {
      expect(model.capabilities.has('inputGradients')).toBe(false);
      expect(await rejection(model, 'gradient')).toEqual({
        code: 'MISSING_CAPABILITY',
        message: `Method 'gradient' needs inputGradients, which this model does not offer; ${ADVICE}`,
      });
      // The engine itself says what is missing and why, and names no method.
      const direct = await model
        .inputGradients(
          { data: new Float32Array(48), dims: [1, 3, 4, 4] },
          { data: new Float32Array(3), dims: [1, 3] },
        )
        .catch((e: { code: string; message: string; details: unknown }) => e);
      expect(direct).toMatchObject({
        code: 'MISSING_CAPABILITY',
        message: "inputGradients: no gradient rule for op 'Sin' on the path from the input to the scores.",
        details: { capability: 'inputGradients' },
      });
      expect(
        (await explain({ model, image: photo, method: 'lime', options: { samples: 8 } })).map.width,
      ).toBe(4);
    } finally {
      await model.dispose();
    }
  });

  it('an ONNX model whose gradient graph fails only when it is built (opset 9)', async () => {
    const model = await onnxModel([], 9);
    try {
      expect(model.capabilities.has('inputGradients')).toBe(true);
      expect(await rejection(model, 'gradient')).toEqual({
        code: 'UNSUPPORTED_OP',
        message:
          'Cannot compute gradients for a model at opset 9: opset 10 or later is needed. ' +
          `Method 'gradient' cannot run on this model; ${ADVICE}`,
      });
    } finally {
      await model.dispose();
    }
  });

  it('a predict-only TF.js model (a layer that does not convert to ONNX)', async () => {
    const reference = tfl.sequential({ name: 'with_upsampling' });
    reference.add(tfl.layers.conv2d({ inputShape: [4, 4, 3], filters: 2, kernelSize: 3, name: 'conv' }));
    reference.add(tfl.layers.upSampling2d({ size: [2, 2], name: 'bigger' }));
    reference.add(tfl.layers.flatten({ name: 'flat' }));
    reference.add(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'scores' }));
    randomizeWeights(reference, 4);
    const model = await openTfjsSource(
      { artifacts: await saveArtifacts(reference), location: 'up/model.json' },
      { labels: ['a', 'b', 'c'] },
    );
    try {
      expect(await rejection(model, 'gradient')).toEqual({
        code: 'MISSING_CAPABILITY',
        message: `Method 'gradient' needs inputGradients, which this model does not offer; ${ADVICE}`,
      });
      expect(await rejection(model, 'grad-cam')).toEqual({
        code: 'MISSING_CAPABILITY',
        message: expect.stringMatching(
          /^Method 'grad-cam' needs [a-zA-Z, ]+, which this model does not offer; /,
        ),
      });
      expect((await rejection(model, 'grad-cam')).message.endsWith(ADVICE)).toBe(true);
      // The model's note says why, and leaves the methods to the method layer.
      for (const id of PREDICT_ONLY) expect(model.notes?.join(' ')).not.toContain(id);
    } finally {
      await model.dispose();
    }
  });
});
