// --region and --reference only mean something to a segmenter and an embedding model. Given to any other
// task they were silently dropped, and the map (of the whole class) was drawn as if it honoured them; prepare
// now refuses them naming the task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { prepare } from '../../src/explain.js';
import { openOnnxModel } from '../../src/models/open.js';
import { scorerProto, taggerProto } from '../helpers/task-models.js';

const S = 32;
const P0 = { x0: 0, y0: 0, x1: 16, y1: 16 };
const P1 = { x0: 16, y0: 16, x1: 32, y1: 32 };
const image = { width: S, height: S, data: new Uint8Array(S * S * 3).fill(120) };

describe('a region or reference given to a model of another task', () => {
  const models: Model[] = [];
  beforeAll(async () => {
    models.push(await openOnnxModel(encodeModel(scorerProto(P0, S, true)), { mean: [0], std: [1] }));
    models.push(
      await openOnnxModel(encodeModel(taggerProto([P0, P1], { scale: [1, 1], bias: [0, 0] }, S)), {
        mean: [0],
        std: [1],
        task: 'classify',
      }),
    );
    models.push(
      await openOnnxModel(encodeModel(taggerProto([P0, P1], { scale: [1, 1], bias: [0, 0] }, S)), {
        mean: [0],
        std: [1],
      }),
    );
    expect(models.map((m) => m.spec.task)).toEqual(['score', 'classify', 'multilabel']);
  });
  afterAll(async () => {
    for (const m of models) await m.dispose();
  });

  it('--region is refused naming the task and what it is for', async () => {
    for (const model of models) {
      const run = prepare({ model, image, region: { x0: 0, y0: 0, x1: 8, y1: 8 } });
      await expect(run).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(prepare({ model, image, region: { x0: 0, y0: 0, x1: 8, y1: 8 } })).rejects.toThrow(
        new RegExp(`--region\\b.*segmenter.*task is '${model.spec.task}'`),
      );
    }
  });

  it('--reference is refused naming the task and what it is for', async () => {
    for (const model of models) {
      await expect(prepare({ model, image, reference: [1, 2, 3] })).rejects.toThrow(
        new RegExp(`--reference\\b.*embedding.*task is '${model.spec.task}'`),
      );
    }
  });

  it('without them the same models are prepared', async () => {
    for (const model of models)
      expect((await prepare({ model, image })).predictions.length).toBeGreaterThan(0);
  });
});
