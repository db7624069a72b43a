import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel, encodeModel, floatTensor, valueInfo } from '../../src/engines/onnx/proto.js';
import { loadModel } from '../../src/models/load.js';

const root = mkdtempSync(join(tmpdir(), 'sightline-hf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const HF = 'test/fixtures/hf/hf-vit';

let n = 0;
/** A fresh folder holding the given files (text, or a path to copy). */
function folder(files: Record<string, string | { copy: string }>): string {
  const dir = join(root, `m${n++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    if (typeof content === 'string') writeFileSync(join(dir, name), content);
    else copyFileSync(content.copy, join(dir, name));
  }
  return dir;
}
const hfFiles = {
  'config.json': { copy: `${HF}/config.json` },
  'preprocessor_config.json': { copy: `${HF}/preprocessor_config.json` },
  'onnx/model.onnx': { copy: `${HF}/onnx/model.onnx` },
};

describe('model folders that are not what they seem', () => {
  it('a folder with neither layout is refused, listing the layouts', async () => {
    const dir = folder({ 'weights.bin': 'x', 'model.onnx': 'x' });
    await expect(loadModel(dir)).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: `The folder '${dir}' holds neither config.json nor model.json; expected a TF.js model (model.json and its weight files), a Hugging Face model (config.json, preprocessor_config.json and onnx/model.onnx, as transformers.js and Optimum export it) or a timm model (config.json and model.onnx).`,
    });
  });

  it('a Hugging Face config.json without preprocessor_config.json, or without an ONNX file', async () => {
    const noPre = folder({
      'config.json': { copy: `${HF}/config.json` },
      'onnx/model.onnx': { copy: `${HF}/onnx/model.onnx` },
    });
    await expect(loadModel(noPre)).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringContaining('has a Hugging Face config.json but no preprocessor_config.json'),
    });
    const { 'onnx/model.onnx': _, ...noModel } = hfFiles;
    const noOnnx = folder(noModel);
    await expect(loadModel(noOnnx)).rejects.toMatchObject({
      message: expect.stringContaining(
        `has no '${noOnnx}/onnx/model.onnx' or '${noOnnx}/model.onnx'; it holds no ONNX file`,
      ),
    });
  });

  it('malformed JSON and wrong types name the file and the field', async () => {
    const broken = folder({ ...hfFiles, 'config.json': '{"id2label": {"0": "cat",' });
    await expect(loadModel(broken)).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringMatching(/^The model folder's config\.json is not valid JSON/),
    });
    const wrong = folder({
      ...hfFiles,
      'preprocessor_config.json': JSON.stringify({ resample: 3, size: 'big' }),
    });
    await expect(loadModel(wrong)).rejects.toMatchObject({
      message: expect.stringContaining(`preprocessor_config.json says size is "big"; expected a JSON object`),
    });
  });

  it('a huge config.json is refused from its size, a FIFO without waiting for a writer', async () => {
    const huge = folder(hfFiles);
    truncateSync(join(huge, 'config.json'), 80 * 1024 * 1024); // sparse: no disk used
    await expect(loadModel(huge)).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringMatching(
        /the model folder's config\.json .+ it is 80 MiB, over the limit of 64 MiB/,
      ),
    });
    const fifo = folder({ 'preprocessor_config.json': { copy: `${HF}/preprocessor_config.json` } });
    execFileSync('mkfifo', [join(fifo, 'config.json')]);
    await expect(loadModel(fifo)).rejects.toMatchObject({
      message: expect.stringContaining('it is a FIFO (named pipe), not a regular file'),
    });
  }, 10_000);

  it('a model.onnx that is not ONNX is refused naming it', async () => {
    const dir = folder({
      'config.json': JSON.stringify({ architecture: 'x', pretrained_cfg: { input_size: [3, 8, 8] } }),
      'model.onnx': 'not a model',
    });
    await expect(loadModel(dir)).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringContaining(`'${join(dir, 'model.onnx')}' is not a valid ONNX model`),
    });
  });

  it('weights in an external data file are refused in words', async () => {
    const model = buildModel({
      inputs: [valueInfo('pixel_values', [1, 3, 8, 8])],
      outputs: [valueInfo('logits', [1, 3])],
      nodes: [{ opType: 'ReduceMean', input: ['pixel_values'], output: ['logits'], attribute: [] }],
      initializers: [
        {
          ...floatTensor('w', [1], new Float32Array(1)),
          rawData: undefined,
          floatData: undefined,
          dataLocation: 1,
        },
      ],
    });
    const dir = folder({
      'config.json': JSON.stringify({ architecture: 'x', pretrained_cfg: { input_size: [3, 8, 8] } }),
    });
    writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
    await expect(loadModel(dir)).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringContaining('keeps its weights in a separate file (ONNX external data'),
    });
  });

  it('a folder with model.json and no config.json is still a TF.js folder', async () => {
    const dir = folder({ 'model.json': '{}' });
    await expect(loadModel(dir)).rejects.toMatchObject({
      message: expect.stringContaining("model.json' is not a TF.js model.json"),
    });
  });
});
