// A task forced by --task or a sidecar that the output's shape contradicts is refused at load, naming the
// shape and the task that fits: a softmax over one value is always 100%, and the cosine of a one-number
// embedding is only its sign, so either would draw a map that cannot mean anything.
import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { openOnnxModel } from '../../src/models/open.js';
import { scorerProto } from '../helpers/task-models.js';

const S = 32;
const PATCH = { x0: 4, y0: 4, x1: 20, y1: 20 };

async function refusal(task: 'classify' | 'embed'): Promise<SightlineError> {
  const bytes = encodeModel(scorerProto(PATCH, S, true));
  try {
    const model = await openOnnxModel(bytes, { mean: [0], std: [1], task });
    await model.dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(SightlineError);
    return error as SightlineError;
  }
  throw new Error(`a one-output model told it is '${task}' was opened`);
}

describe('a one-output model told a task its shape contradicts', () => {
  it.each(['classify', 'embed'] as const)('--task %s is refused in words', async (task) => {
    const error = await refusal(task);
    expect(error.code).toBe('MODEL_SHAPE');
    expect(error.message).toContain(`'${task}'`);
    expect(error.message).toContain('one value per image');
    expect(error.message).toContain('--task score');
  });

  it('--task score and multilabel (one independent tag) are still opened', async () => {
    for (const task of ['score', 'multilabel'] as const) {
      const model = await openOnnxModel(encodeModel(scorerProto(PATCH, S, true)), { task });
      expect(model.spec.task).toBe(task);
      await model.dispose();
    }
  });
});

describe('a one-output width known only at the run', () => {
  it('is refused by prepare for a classifier of logits, as at load', async () => {
    const { prepare } = await import('../../src/explain.js');
    const model = await openOnnxModel(encodeModel(scorerProto(PATCH, S, true)), { task: 'score' });
    try {
      const forced: Model = {
        spec: { ...model.spec, task: 'classify', outputs: 'logits' },
        capabilities: model.capabilities,
        maxBatch: model.maxBatch,
        predict: (batch, options) => model.predict(batch, options),
        dispose: async () => {},
      };
      const image = { width: S, height: S, data: new Uint8Array(S * S * 3).fill(200) };
      await expect(prepare({ model: forced, image })).rejects.toThrow(/always 100%.*--task score/);
      const told = { ...forced, spec: { ...forced.spec, outputs: 'probabilities' as const } };
      expect((await prepare({ model: told, image })).predictions).toHaveLength(1);
    } finally {
      await model.dispose();
    }
  });
});
