// A model may ask for an input of any size: its file, a TF.js metadata.json or --input-size says so. Preprocessing
// makes 3 floats per input pixel, so 60000 × 60000 (43 GB) crashed with a RangeError and a stack; every such
// size is refused, naming the limit, before an image is touched.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSize } from '../../src/cli/options.js';
import { SightlineError } from '../../src/core/errors.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { loadModel } from '../../src/models/load.js';
import { patchModelProto } from '../helpers/analytic.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-input-limit-'));
});

async function onnx(name: string, dims: (number | string)[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, encodeModel(patchModelProto({ x0: 0, y0: 0, x1: 8, y1: 8 }, { dims })));
  return path;
}

async function refusal(promise: Promise<unknown>): Promise<SightlineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  return error as SightlineError;
}

describe('the largest model input', () => {
  it('an ONNX model declaring a 60000 × 60000 input is refused when it opens', async () => {
    const model = await onnx('huge.onnx', ['N', 3, 60000, 60000]);
    const error = await refusal(loadModel(model, { mean: [0], std: [1] }));
    expect(error.code).toBe('MODEL_SHAPE');
    expect(error.message).toBe(
      "Input 'x' [N, 3, 60000, 60000] asks for 60000 × 60000 pixels; expected whole numbers from 1 to 4096 a side.",
    );
  });

  it('an input size filled in by a hint is checked too (a TF.js metadata.json imageSize, say)', async () => {
    const model = await onnx('open.onnx', ['N', 3, 'H', 'W']);
    for (const [width, height] of [
      [5000, 224],
      [224, 1.5],
      [0, 224],
    ]) {
      const error = await refusal(loadModel(model, { mean: [0], std: [1], width, height }));
      expect(error.message).toBe(
        `Input 'x' [N, 3, H, W] asks for ${width} × ${height} pixels; expected whole numbers from 1 to 4096 a side.`,
      );
    }
    const ok = await loadModel(model, { mean: [0], std: [1], width: 4096, height: 32 });
    expect([ok.spec.width, ok.spec.height]).toEqual([4096, 32]);
    await ok.dispose();
  });

  it('--input-size past the limit, or 0, is a usage error', () => {
    expect(parseSize('4096x4096')).toEqual([4096, 4096]);
    for (const value of ['60000', '224x60000', '0', '0x224']) {
      expect(() => parseSize(value)).toThrow(InvalidArgumentError);
      expect(() => parseSize(value)).toThrow(
        `expected a size like 224 or 224x224, each side from 1 to 4096, got '${value}'`,
      );
    }
  });
});
