import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { preprocess } from '../../src/core/preprocess.js';
import { decodeImage } from '../../src/io/decode.js';
import { decodeNpy } from '../../src/io/npy.js';
import { resolveLabel } from '../../src/models/label-match.js';
import { loadModel } from '../../src/models/load.js';

// Fixtures by scripts/golden/hf_folders.py: the folders, and for each photo the pixel values transformers'
// image processor and timm's eval transform make with PIL, and torch's logits on them.
const DIR = 'test/fixtures/hf';
const IMAGES = '../shared/images';
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8'));
const npy = (name: string) => decodeNpy(new Uint8Array(readFileSync(`${DIR}/${name}.npy`)));

const opened: Model[] = [];
async function open(folder: string, hints = {}): Promise<Model> {
  const model = await loadModel(`${DIR}/${folder}`, hints);
  opened.push(model);
  return model;
}
afterAll(async () => {
  for (const m of opened) await m.dispose();
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
const argmax = (v: ArrayLike<number>) => Array.from(v).indexOf(Math.max(...Array.from(v)));

/**
 * PIL resizes in 8 bits and rounds after each of its two passes; we keep floats. hf-resample.test.ts bounds
 * the difference by 0.5 + 0.5 · 1.2 = 1.1 levels for bicubic; after (p/255 − mean)/std it is 1.1 / 255 / std.
 */
const pixelBound = (std: readonly number[]) => 1.1 / 255 / Math.min(...std) + 1e-6;

describe.each([
  [
    'hf-vit',
    { kind: 'shortest-edge', size: 41, offset: 'floor' },
    [0.48145466, 0.4578275, 0.40821073],
    [0.26862954, 0.26130258, 0.27577711],
  ],
  [
    'timm-net',
    { kind: 'shortest-edge', size: 35, offset: 'round' },
    [0.485, 0.456, 0.406],
    [0.229, 0.224, 0.225],
  ],
] as const)('the %s folder', (folder, resizeFirst, mean, std) => {
  it('loads with its labels and the preprocessing its config files say', async () => {
    const model = await open(folder);
    const spec = model.spec;
    expect(spec.labels).toEqual(expected[folder].labels);
    expect([spec.width, spec.height, spec.layout, spec.channelOrder]).toEqual([32, 32, 'NCHW', 'RGB']);
    expect(spec.resample).toBe('bicubic');
    expect(spec.resizeFirst).toEqual(resizeFirst);
    for (let c = 0; c < 3; c++) {
      expect(spec.mean[c]).toBeCloseTo(mean[c], 12);
      expect(spec.std[c]).toBeCloseTo(std[c], 12);
    }
    expect(spec.task).toBe('classify');
    expect(spec.outputs).toBe('logits');
    // --target matching reads these labels.
    expect(resolveLabel(expected[folder].labels[1], spec.labels).index).toBe(1);
  });

  it.each(['chelsea', 'coffee'])(
    'preprocesses %s.png as the library does, and predicts what torch does on its pixel values',
    async (photo) => {
      const model = await open(folder);
      const image = await decodeImage(`${IMAGES}/${photo}.png`);
      const { tensor, geometry } = preprocess(image, model.spec);
      const geo = expected.photos[`${photo}.png`][folder];
      expect(geometry.resized).toEqual({
        width: geo.resized[0],
        height: geo.resized[1],
        left: geo.left,
        top: geo.top,
      });
      const pixels = npy(`${folder}.${photo}.pixels`);
      expect(tensor.dims).toEqual(pixels.shape);
      const pixelError = maxAbs(tensor.data, pixels.data);
      expect(pixelError).toBeLessThanOrEqual(pixelBound(std));

      const logits = npy(`${folder}.${photo}.logits`).data;
      // ONNX Runtime on the library's own pixel values: the same float32 graph as torch, so to 1e-4.
      const onTheirs = await model.predict({ data: Float32Array.from(pixels.data), dims: pixels.shape });
      const scale = Math.max(...Array.from(logits, Math.abs));
      expect(maxAbs(onTheirs.data, logits)).toBeLessThanOrEqual(1e-4 * scale);
      // On our pixel values: the same top class; each logit moves by at most the pixels' difference times the
      // network's gain: measured at most 0.06 % of the largest logit, bounded here at 0.5 %.
      const onOurs = await model.predict(tensor);
      expect(argmax(onOurs.data)).toBe(argmax(logits));
      expect(maxAbs(onOurs.data, logits)).toBeLessThanOrEqual(0.005 * scale);
    },
  );
});

describe('Hugging Face folder variants and flags', () => {
  it('--model-variant quantized loads onnx/model_quantized.onnx (a stand-in whose logits are halved)', async () => {
    const model = await open('hf-vit', { variant: 'quantized' });
    const pixels = npy('hf-vit.chelsea.pixels');
    const out = await model.predict({ data: Float32Array.from(pixels.data), dims: pixels.shape });
    const logits = npy('hf-vit.chelsea.logits').data;
    expect(
      maxAbs(
        out.data,
        Array.from(logits, (v) => v / 2),
      ),
    ).toBeLessThan(1e-4);
  });

  it('refuses the float16 variant in words', async () => {
    await expect(loadModel(`${DIR}/hf-vit`, { variant: 'fp16' })).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringMatching(
        /model_fp16\.onnx' takes or gives float16 tensors \('pixel_values', 'logits'\); Sightline runs float32 models only/,
      ),
    });
  });

  it('a missing variant names the ONNX files there are', async () => {
    await expect(loadModel(`${DIR}/hf-vit`, { variant: 'int8' })).rejects.toMatchObject({
      code: 'MODEL_LOAD',
      message: expect.stringContaining(
        'its ONNX files are onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_quantized.onnx',
      ),
    });
    await expect(loadModel(`${DIR}/hf-vit`, { variant: '../x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadModel(`${DIR}/hf-vit/onnx/model.onnx`, { variant: 'quantized' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('Hugging Face or timm model folder'),
    });
  });

  it('flags override the folder: --mean, --input-size (which replaces its resize-then-crop), --task', async () => {
    const model = await open('hf-vit', { mean: [0.5], width: 40, height: 40, task: 'multilabel' });
    expect(model.spec.mean).toEqual([0.5, 0.5, 0.5]);
    expect([model.spec.width, model.spec.height, model.spec.resizeFirst]).toEqual([40, 40, undefined]);
    expect(model.spec.resample).toBe('bicubic');
    expect(model.spec.task).toBe('multilabel');
  });
});
