/**
 * TF.js models built and saved by TF.js itself, for the converter's tests: TF.js is the reference that the
 * converted ONNX models (and our autodiff) are checked against.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../../src/core/random.js';
import type { TfjsArtifacts, TfjsModelJson, TfjsWeightEntry } from '../../src/engines/tfjs/index.js';

export { tf, tfl };

export async function tfReady(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();
}

/**
 * Replaces every weight with seeded random values of a plausible size, so the test does not hinge on TF.js'
 * initializers: kernels ~ ±1.4·√(3/fan-in) (Dense ±2·√(3/fan-in)), biases and shifts ±0.2, BN scales in [0.5, 1.5], variances in
 * [0.25, 1.25], means ±0.3 (so BatchNormalization does something).
 */
export function randomizeWeights(model: tfl.LayersModel, seed: number): void {
  const rng = createRng(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  const values = model.weights.map((w) => {
    const shape = w.shape.map((d) => d ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    const name = w.originalName;
    let draw: () => number;
    if (/gamma$/.test(name)) draw = () => u(0.5, 1.5);
    else if (/moving_variance$/.test(name)) draw = () => u(0.25, 1.25);
    else if (/moving_mean$/.test(name)) draw = () => u(-0.3, 0.3);
    else if (/(bias|beta)$/.test(name)) draw = () => u(-0.2, 0.2);
    else {
      // A depthwise kernel [kh, kw, C, M] sums over kh·kw taps only.
      const fanIn = /depthwise_kernel$/.test(name)
        ? shape[0] * shape[1]
        : shape.length > 1
          ? size / shape[shape.length - 1]
          : size;
      // Dense kernels larger, so the scores of a global-pooled network still differ between images.
      const r = Math.sqrt(3 / fanIn) * (shape.length === 2 ? 2 : 1.4);
      draw = () => u(-r, r);
    }
    return tf.tensor(Float32Array.from({ length: size }, draw), shape);
  });
  model.setWeights(values);
  for (const v of values) v.dispose();
}

/** The model as TF.js saves it: model.json's parts and the weight bytes (one group). */
export async function saveArtifacts(model: tfl.LayersModel): Promise<TfjsArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved!;
  const data = new Uint8Array(a.weightData as ArrayBuffer);
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs as TfjsWeightEntry[] }],
  };
  return { modelJson, groups: [data] };
}

/**
 * Stores every float32 weight as uint8 with the affine scheme TF.js reads (real = q · scale + min), as the
 * tensorflowjs converter's --quantize_uint8 writes it.
 */
export function quantizeUint8(artifacts: TfjsArtifacts): TfjsArtifacts {
  const [group] = artifacts.modelJson.weightsManifest;
  const bytes = artifacts.groups[0];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  const weights: TfjsWeightEntry[] = [];
  let offset = 0;
  for (const w of group.weights) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: count }, (_, i) => view.getFloat32(offset + i * 4, true));
    offset += count * 4;
    const min = Math.min(...values);
    const max = Math.max(...values);
    const scale = max > min ? (max - min) / 255 : 1;
    for (const v of values) out.push(Math.round((v - min) / scale));
    weights.push({ ...w, quantization: { dtype: 'uint8', scale, min } });
  }
  return {
    modelJson: { ...artifacts.modelJson, weightsManifest: [{ paths: group.paths, weights }] },
    groups: [Uint8Array.from(out)],
  };
}

/** Writes model.json + weights.bin (+ metadata.json) into `dir`, as a TF.js export folder. */
export async function writeTfjsFolder(
  dir: string,
  artifacts: TfjsArtifacts,
  metadata?: Record<string, unknown>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), JSON.stringify(artifacts.modelJson));
  await writeFile(join(dir, artifacts.modelJson.weightsManifest[0].paths[0]), artifacts.groups[0]);
  if (metadata) await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata));
}

/** Loads saved artifacts back into TF.js (which dequantizes quantized weights its own way). */
export function loadArtifacts(artifacts: TfjsArtifacts): Promise<tfl.LayersModel> {
  const { modelJson, groups } = artifacts;
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: modelJson.weightsManifest[0].weights as tf.io.WeightsManifestEntry[],
      weightData: groups[0].slice().buffer,
    }),
  );
}

/** TF.js' scores for an NHWC batch. */
export function tfPredict(model: tfl.LayersModel, data: Float32Array, dims: readonly number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(data, [...dims])) as tf.Tensor).dataSync() as Float32Array);
}

/** TF.js' gradient of Σ seed ⊙ scores with respect to the input (tf.grad), for an NHWC batch. */
export function tfInputGradient(
  model: tfl.LayersModel,
  data: Float32Array,
  dims: readonly number[],
  seed: Float32Array,
): Float32Array {
  return tf.tidy(() => {
    const k = seed.length / dims[0];
    const weights = tf.tensor(seed, [dims[0], k]);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(model.predict(x) as tf.Tensor, weights)));
    return grad(tf.tensor(data, [...dims])).dataSync() as Float32Array;
  });
}

/**
 * A Teachable-Machine-shaped image model: as TM exports it, a Sequential of two nested models, a truncated
 * MobileNet (a Functional model wrapped in a Sequential with global average pooling) and a dense head.
 * The base is MobileNet v1 in small: a stride-2 Conv2D + BN + ReLU6 (ZeroPadding2D first, as Keras' MobileNet
 * does), then depthwise-separable blocks (DepthwiseConv2D + BN + ReLU6, pointwise Conv2D + BN + ReLU6), one
 * of them strided.
 */
export function teachableMachineModel(size: number, classes: number): tfl.Sequential {
  const input = tfl.input({ shape: [size, size, 3], name: 'input_1' });
  const relu6 = (name: string) => tfl.layers.reLU({ maxValue: 6, name });
  const bn = (name: string) => tfl.layers.batchNormalization({ name, epsilon: 1e-3 });
  let x = tfl.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
      name: 'conv1_pad',
    })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'conv1' })
    .apply(x) as tfl.SymbolicTensor;
  x = relu6('conv1_relu').apply(bn('conv1_bn').apply(x)) as tfl.SymbolicTensor;
  const block = (id: number, filters: number, stride: number, y: tfl.SymbolicTensor) => {
    if (stride === 2) {
      y = tfl.layers
        .zeroPadding2d({
          padding: [
            [0, 1],
            [0, 1],
          ],
          name: `conv_pad_${id}`,
        })
        .apply(y) as tfl.SymbolicTensor;
    }
    y = tfl.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: stride === 2 ? 'valid' : 'same',
        useBias: false,
        name: `conv_dw_${id}`,
      })
      .apply(y) as tfl.SymbolicTensor;
    y = relu6(`conv_dw_${id}_relu`).apply(bn(`conv_dw_${id}_bn`).apply(y)) as tfl.SymbolicTensor;
    y = tfl.layers
      .conv2d({ filters, kernelSize: 1, useBias: false, name: `conv_pw_${id}` })
      .apply(y) as tfl.SymbolicTensor;
    return relu6(`conv_pw_${id}_relu`).apply(bn(`conv_pw_${id}_bn`).apply(y)) as tfl.SymbolicTensor;
  };
  x = block(1, 16, 1, x);
  x = block(2, 24, 2, x);
  x = block(3, 24, 1, x);
  x = block(4, 32, 2, x);
  const base = tfl.model({ inputs: input, outputs: x, name: 'model1' });
  const truncated = tfl.sequential({ name: 'sequential_1' });
  truncated.add(base);
  truncated.add(tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }));
  const head = tfl.sequential({ name: 'sequential_3' });
  head.add(tfl.layers.dense({ inputShape: [32], units: 16, activation: 'relu', name: 'dense_Dense1' }));
  head.add(tfl.layers.dense({ units: classes, activation: 'softmax', useBias: false, name: 'dense_Dense2' }));
  const model = tfl.sequential({ name: 'sequential_4' });
  model.add(truncated);
  model.add(head);
  return model;
}

/** Largest |a − b| over max |b|: the relative error of a against reference b. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  for (let i = 0; i < b.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff;
}
