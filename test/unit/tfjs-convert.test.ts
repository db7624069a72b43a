import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { createRng } from '../../src/core/random.js';
import { halfToFloat } from '../../src/engines/tfjs/artifacts.js';
import {
  convertTfjsLayers,
  decodeWeights,
  SUPPORTED_TFJS_LAYERS,
  type TfjsArtifacts,
} from '../../src/engines/tfjs/index.js';
import { openTfjsSource } from '../../src/models/tfjs.js';
import {
  loadArtifacts,
  maxAbsDiff,
  quantizeUint8,
  randomizeWeights,
  relativeError,
  saveArtifacts,
  teachableMachineModel,
  tf,
  tfInputGradient,
  tfl,
  tfPredict,
  tfReady,
} from '../helpers/tfjs-models.js';

type Sym = tfl.SymbolicTensor;

/** Opens artifacts the way loadModel does (converted to ONNX), with the identity preprocessing. */
function open(artifacts: TfjsArtifacts): Promise<Model> {
  return openTfjsSource({ artifacts, location: 'test' }, { mean: [0], std: [1] });
}

/**
 * A seeded batch of n NHWC images in [−1, 1]: noise around a colour of each image's own, so that even a
 * globally pooled network scores the images differently.
 */
function batch(n: number, shape: readonly number[], seed: number): { data: Float32Array; dims: number[] } {
  const rng = createRng(seed);
  const dims = [n, ...shape];
  const channels = shape[shape.length - 1];
  const perImage = shape.reduce((a, b) => a * b, 1);
  const colours = Array.from({ length: n * channels }, () => rng.next() - 0.5);
  const data = Float32Array.from(
    { length: n * perImage },
    (_, i) => 0.5 * (rng.next() * 2 - 1) + colours[Math.floor(i / perImage) * channels + (i % channels)],
  );
  return { data, dims };
}

/**
 * The converted model against TF.js on the same batch: predictions to 1e-4 (absolute) and input gradients of
 * a mixed seed (every class weighted) to 1e-4 relative to the largest gradient, from TF.js' tf.grad.
 */
async function compareWithTfjs(
  reference: tfl.LayersModel,
  model: Model,
  seed: number,
): Promise<{ prediction: number; gradient: number; spread: number }> {
  const shape = (reference.inputs[0].shape as number[]).slice(1);
  const x = batch(3, shape, seed);
  const ours = await model.predict(x);
  const theirs = tfPredict(reference, x.data, x.dims);
  const k = ours.dims[1];
  const rng = createRng(seed + 1);
  const weights = Float32Array.from({ length: 3 * k }, () => rng.next() * 2 - 1);
  const g = await model.inputGradients!(x, { data: weights, dims: [3, k] });
  const expected = tfInputGradient(reference, x.data, x.dims, weights);
  // How much the scores vary between images: a converter that ignored its input could not match.
  let spread = 0;
  for (let j = 0; j < k; j++)
    spread = Math.max(spread, Math.abs(theirs[j] - theirs[k + j]), Math.abs(theirs[j] - theirs[2 * k + j]));
  expect(ours.data.length).toBe(theirs.length);
  expect(g.gradients.data.length).toBe(expected.length);
  return {
    prediction: maxAbsDiff(ours.data, theirs),
    gradient: relativeError(g.gradients.data, expected),
    spread,
  };
}

describe('TF.js Layers → ONNX', () => {
  let cache: string;
  const savedCache = process.env.SIGHTLINE_CACHE_DIR;
  beforeAll(async () => {
    await tfReady();
    cache = await mkdtemp(join(tmpdir(), 'sightline-tfjs-cache-'));
    process.env.SIGHTLINE_CACHE_DIR = cache;
  });
  afterAll(async () => {
    if (savedCache === undefined) delete process.env.SIGHTLINE_CACHE_DIR;
    else process.env.SIGHTLINE_CACHE_DIR = savedCache;
    await rm(cache, { recursive: true, force: true });
  });

  it('converts a Functional model with merges, separable and strided convolutions, pooling and reshapes like TF.js computes it', async () => {
    const input = tfl.input({ shape: [12, 12, 3], name: 'image' });
    const apply = (layer: tfl.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;
    const r = apply(tfl.layers.rescaling({ scale: 0.5, offset: -0.25, name: 'rescale' }), input);
    // Softplus, not ReLU: ReLU's exact zeros tie in the max pools, where TF.js' gradient gives every tied
    // input the whole gradient and ours shares it (both are conventions; only a tie-free model compares).
    const a = apply(
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'softplus', name: 'a' }),
      r,
    );
    const b = apply(
      tfl.layers.separableConv2d({
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        depthMultiplier: 2,
        activation: 'tanh',
        name: 'b',
      }),
      r,
    );
    const c = apply(
      tfl.layers.depthwiseConv2d({ kernelSize: [3, 2], padding: 'same', depthMultiplier: 2, name: 'c' }),
      r,
    );
    const sum = apply(tfl.layers.add({ name: 'sum' }), [a, b]);
    const product = apply(tfl.layers.multiply({ name: 'product' }), [a, b]);
    const mean = apply(tfl.layers.average({ name: 'mean' }), [a, product]);
    const joined = apply(tfl.layers.concatenate({ name: 'joined' }), [sum, c, mean]);
    const padded = apply(tfl.layers.zeroPadding2d({ padding: 1, name: 'padded' }), joined);
    const maxed = apply(
      tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: 'maxed' }),
      padded,
    );
    // A zero-padded image pooled (ONNX Runtime folds such Pads into the pool; see layers/pool.ts).
    const padded2 = apply(
      tfl.layers.zeroPadding2d({
        padding: [
          [1, 0],
          [2, 1],
        ],
        name: 'padded2',
      }),
      joined,
    );
    const averaged = apply(
      tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'averaged' }),
      padded2,
    );
    const dilated = apply(
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'dilated' }),
      maxed,
    );
    const strided = apply(
      tfl.layers.conv2d({
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu6',
        name: 'strided',
      }),
      averaged,
    );
    const softmaxed = apply(tfl.layers.softmax({ axis: -1, name: 'channel_softmax' }), dilated);
    const cropped = apply(
      tfl.layers.cropping2D({
        cropping: [
          [1, 0],
          [0, 2],
        ],
        name: 'cropped',
      }),
      averaged,
    );
    const leaky = apply(tfl.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }), cropped);
    const elu = apply(tfl.layers.elu({ name: 'elu' }), leaky);
    const pooledMax = apply(tfl.layers.globalMaxPooling2d({ name: 'pooled_max' }), elu);
    const pooledAverage = apply(tfl.layers.globalAveragePooling2d({ name: 'pooled_average' }), strided);
    // Flatten and Reshape in Keras' (H, W, C) order, back to an image, and Dense over the last axis of a 3-D value.
    const flat = apply(tfl.layers.flatten({ name: 'flat' }), softmaxed);
    const image = apply(tfl.layers.reshape({ targetShape: [7, 7, 4], name: 'image_again' }), flat);
    const rows = apply(tfl.layers.reshape({ targetShape: [49, 4], name: 'rows' }), image);
    const perRow = apply(tfl.layers.dense({ units: 2, activation: 'sigmoid', name: 'per_row' }), rows);
    const conv = apply(tfl.layers.conv2d({ filters: 3, kernelSize: 2, name: 'conv_again' }), image);
    const features = apply(tfl.layers.concatenate({ name: 'features' }), [
      pooledMax,
      pooledAverage,
      apply(tfl.layers.flatten({ name: 'flat_rows' }), perRow),
      apply(tfl.layers.flatten({ name: 'flat_conv' }), conv),
    ]);
    const normalized = apply(tfl.layers.batchNormalization({ name: 'normalized' }), features);
    const dropped = apply(tfl.layers.dropout({ rate: 0.5, name: 'dropped' }), normalized);
    const output = apply(tfl.layers.dense({ units: 5, activation: 'softmax', name: 'scores' }), dropped);
    const reference = tfl.model({ inputs: input, outputs: output, name: 'functional' });
    randomizeWeights(reference, 11);
    const artifacts = await saveArtifacts(reference);

    const conversion = convertTfjsLayers(artifacts);
    expect(conversion.inputShape).toEqual([12, 12, 3]);
    expect(conversion.outputShape).toEqual([5]);
    expect(conversion.layerCounts).toMatchObject({ SeparableConv2D: 1, Concatenate: 2, Reshape: 2, Add: 1 });
    const model = await open(artifacts);
    try {
      expect(model.spec.layout).toBe('NHWC');
      expect(model.spec.outputs).toBe('probabilities');
      const { prediction, gradient, spread } = await compareWithTfjs(reference, model, 5);
      expect(spread).toBeGreaterThan(0.01);
      expect(prediction).toBeLessThan(1e-4);
      expect(gradient).toBeLessThan(1e-4);
      // Feature maps carry the layer names; the last spatial one is the CAM default.
      const { layers } = await model.layers!();
      expect(layers.map((l) => l.name)).toEqual(
        expect.arrayContaining(['a', 'b', 'joined', 'dilated', 'conv_again']),
      );
    } finally {
      await model.dispose();
    }
  });

  it("converts dilated convolutions and 'same' average pooling (predictions: TF.js' gradients for them are missing or wrong)", async () => {
    const reference = tfl.sequential({ name: 'dilated' });
    reference.add(
      tfl.layers.conv2d({
        inputShape: [11, 11, 3],
        filters: 4,
        kernelSize: 3,
        dilationRate: [2, 3],
        padding: 'same',
        name: 'same',
      }),
    );
    reference.add(
      tfl.layers.conv2d({ filters: 4, kernelSize: 2, dilationRate: 2, padding: 'valid', name: 'valid' }),
    );
    reference.add(tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pooled' }));
    reference.add(
      tfl.layers.zeroPadding2d({
        padding: [
          [0, 1],
          [2, 0],
        ],
        name: 'padded',
      }),
    );
    reference.add(
      tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same', name: 'pooled_again' }),
    );
    reference.add(tfl.layers.flatten({ name: 'flat' }));
    reference.add(tfl.layers.dense({ units: 3, name: 'scores' }));
    randomizeWeights(reference, 13);
    const model = await open(await saveArtifacts(reference));
    try {
      const x = batch(2, [11, 11, 3], 6);
      const ours = await model.predict(x);
      expect(ours.dims).toEqual([2, 3]);
      expect(maxAbsDiff(ours.data, tfPredict(reference, x.data, x.dims))).toBeLessThan(1e-4);
    } finally {
      await model.dispose();
    }
  });

  it("averages a 'same' window over the pixels inside the image only, in value and gradient", async () => {
    const reference = tfl.sequential({ name: 'average' });
    reference.add(
      tfl.layers.averagePooling2d({ inputShape: [5, 5, 1], poolSize: 3, strides: 2, padding: 'same' }),
    );
    reference.add(tfl.layers.flatten({}));
    const model = await open(await saveArtifacts(reference));
    try {
      const x = { data: Float32Array.from({ length: 25 }, (_, i) => i), dims: [1, 5, 5, 1] };
      // TF pads 'same' windows of 3 at stride 2 over 5 pixels by one before and one after: the first window
      // covers rows and columns 0–1 of the image, mean (0 + 1 + 5 + 6) / 4 = 3.
      const scores = await model.predict(x);
      expect(Array.from(scores.data)).toEqual([3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21]);
      const seed = Float32Array.from({ length: 9 }, (_, i) => (i === 0 ? 1 : 0));
      const { gradients } = await model.inputGradients!(x, { data: seed, dims: [1, 9] });
      const expected = new Float32Array(25);
      for (const i of [0, 1, 5, 6]) expected[i] = 0.25;
      expect(Array.from(gradients.data)).toEqual(Array.from(expected));
      // TF.js' own tf.grad divides by the 9 cells of the padded window here, so it is no reference for this.
      expect(tfInputGradient(reference, x.data, x.dims, seed)[0]).toBeCloseTo(1 / 9, 6);
    } finally {
      await model.dispose();
    }
  });

  it.each([
    'linear',
    'relu',
    'relu6',
    'elu',
    'selu',
    'sigmoid',
    'hardSigmoid',
    'tanh',
    'softmax',
    'logSoftmax',
    'swish',
    'softplus',
    'softsign',
    'mish',
    'gelu',
  ])('computes activation %s (a Dense field and a Conv2D field) like TF.js', async (activation) => {
    const reference = tfl.sequential({ name: `act_${activation}` });
    reference.add(
      tfl.layers.conv2d({
        inputShape: [5, 5, 2],
        filters: 3,
        kernelSize: 3,
        activation: activation as 'relu',
        name: 'conv',
      }),
    );
    reference.add(tfl.layers.flatten({ name: 'flat' }));
    reference.add(tfl.layers.dense({ units: 6, activation: activation as 'relu', name: 'hidden' }));
    reference.add(tfl.layers.activation({ activation: activation as 'relu', name: 'again' }));
    reference.add(tfl.layers.dense({ units: 3, name: 'scores' }));
    randomizeWeights(reference, 3);
    const model = await open(await saveArtifacts(reference));
    try {
      const { prediction, gradient, spread } = await compareWithTfjs(reference, model, 9);
      expect(spread).toBeGreaterThan(0.01);
      expect(prediction).toBeLessThan(1e-4);
      expect(gradient).toBeLessThan(1e-4);
    } finally {
      await model.dispose();
    }
  });

  it('dequantizes uint8 weights as TF.js does', async () => {
    const reference = teachableMachineModel(32, 4);
    randomizeWeights(reference, 21);
    const quantized = quantizeUint8(await saveArtifacts(reference));
    expect(quantized.modelJson.weightsManifest[0].weights[0].quantization?.dtype).toBe('uint8');
    // TF.js' own dequantization is the reference: the model it loads from the quantized files.
    const dequantized = await loadArtifacts(quantized);
    const model = await open(quantized);
    try {
      const { prediction, gradient, spread } = await compareWithTfjs(dequantized, model, 2);
      expect(spread).toBeGreaterThan(0.01);
      expect(prediction).toBeLessThan(1e-4);
      expect(gradient).toBeLessThan(1e-4);
      // And quantization changed the weights, so the comparison is not with the float model by accident.
      const x = batch(1, [32, 32, 3], 4);
      expect(
        maxAbsDiff(tfPredict(reference, x.data, x.dims), tfPredict(dequantized, x.data, x.dims)),
      ).toBeGreaterThan(1e-5);
    } finally {
      await model.dispose();
      dequantized.dispose();
    }
  });

  it('reads float16 and uint16 weights', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555].map(halfToFloat)).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      0.333251953125,
    ]);
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, 0x3c00, true);
    view.setUint16(2, 0xb800, true); // −0.5
    view.setUint16(4, 0, true);
    view.setUint16(6, 1000, true);
    const weights = decodeWeights({
      modelJson: {
        modelTopology: {},
        weightsManifest: [
          {
            paths: ['w.bin'],
            weights: [
              { name: 'half', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
              {
                name: 'wide',
                shape: [2],
                dtype: 'float32',
                quantization: { dtype: 'uint16', scale: 0.01, min: -1 },
              },
            ],
          },
        ],
      },
      groups: [bytes],
    });
    expect(Array.from(weights.get('half')!.data)).toEqual([1, -0.5]);
    expect(Array.from(weights.get('wide')!.data)).toEqual([-1, Math.fround(9)]);
  });

  it("reads Keras 3 topologies ({ args } inbound nodes, batch_shape) and the h5 converter's model_config wrapper", async () => {
    const input = tfl.input({ shape: [4, 4, 2], name: 'pixels' });
    const left = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'left' }).apply(input) as Sym;
    const right = tfl.layers
      .conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'right' })
      .apply(input) as Sym;
    const sum = tfl.layers.add({ name: 'sum' }).apply([left, right]) as Sym;
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(sum) as Sym;
    const scores = tfl.layers.dense({ units: 2, name: 'scores' }).apply(flat) as Sym;
    const reference = tfl.model({ inputs: input, outputs: scores, name: 'keras3' });
    randomizeWeights(reference, 15);
    const artifacts = await saveArtifacts(reference);
    type Ref = [string, number, number, Record<string, unknown>?];
    const config = structuredClone(
      (artifacts.modelJson.modelTopology as { config: Record<string, unknown> }).config,
    );
    const tensor = ([name, node, index]: Ref) => ({
      class_name: '__keras_tensor__',
      config: { shape: [null], dtype: 'float32', keras_history: [name, node, index] },
    });
    for (const layer of config.layers as {
      class_name: string;
      config: Record<string, unknown>;
      inbound_nodes: Ref[][];
    }[]) {
      (layer as { inbound_nodes: unknown }).inbound_nodes = layer.inbound_nodes.map((node) => ({
        args: [node.length === 1 ? tensor(node[0]) : node.map(tensor)],
        kwargs: {},
      }));
      if (layer.class_name === 'InputLayer') {
        layer.config.batch_shape = layer.config.batch_input_shape;
        delete layer.config.batch_input_shape;
      }
    }
    config.input_layers = (config.input_layers as Ref[])[0];
    config.output_layers = (config.output_layers as Ref[])[0];
    const keras3: TfjsArtifacts = {
      ...artifacts,
      modelJson: {
        ...artifacts.modelJson,
        modelTopology: { model_config: { class_name: 'Functional', config } },
      },
    };
    const model = await open(keras3);
    try {
      const { prediction, spread } = await compareWithTfjs(reference, model, 3);
      expect(spread).toBeGreaterThan(0.01);
      expect(prediction).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('finds weights whose names carry an exporter prefix and a :0 suffix', async () => {
    const reference = tfl.sequential({ name: 'prefixed' });
    reference.add(tfl.layers.flatten({ inputShape: [2, 2, 3], name: 'flat' }));
    reference.add(tfl.layers.dense({ units: 2, name: 'scores' }));
    randomizeWeights(reference, 8);
    const artifacts = await saveArtifacts(reference);
    const [group] = artifacts.modelJson.weightsManifest;
    const renamed: TfjsArtifacts = {
      ...artifacts,
      modelJson: {
        ...artifacts.modelJson,
        weightsManifest: [
          { ...group, weights: group.weights.map((w) => ({ ...w, name: `model/${w.name}:0` })) },
        ],
      },
    };
    const model = await open(renamed);
    try {
      const { prediction } = await compareWithTfjs(reference, model, 1);
      expect(prediction).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('names the layer, its class and the predict-only fallback when a layer does not convert', async () => {
    const reference = tfl.sequential({ name: 'with_upsampling' });
    reference.add(tfl.layers.conv2d({ inputShape: [4, 4, 3], filters: 2, kernelSize: 1, name: 'conv' }));
    reference.add(tfl.layers.upSampling2d({ size: [2, 2], name: 'bigger' }));
    reference.add(tfl.layers.flatten({ name: 'flat' }));
    reference.add(tfl.layers.dense({ units: 2, name: 'scores' }));
    const artifacts = await saveArtifacts(reference);
    let caught: unknown;
    try {
      convertTfjsLayers(artifacts);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'UNSUPPORTED_OP',
      details: { layer: 'bigger', className: 'UpSampling2D' },
    });
    expect((caught as Error).message).toMatch(
      /^TF\.js layer 'bigger' \(class UpSampling2D\) is not supported by the ONNX converter\. Supported layers: /,
    );
    expect(SUPPORTED_TFJS_LAYERS).not.toContain('UpSampling2D');
    expect(SUPPORTED_TFJS_LAYERS).toEqual(
      expect.arrayContaining(['Conv2D', 'DepthwiseConv2D', 'Sequential', 'Functional']),
    );
  });

  it('names an unsupported setting of a supported layer', async () => {
    const reference = tfl.sequential({ name: 'threshold' });
    reference.add(tfl.layers.flatten({ inputShape: [2, 2, 3], name: 'flat' }));
    reference.add(tfl.layers.dense({ units: 2, name: 'scores' }));
    const artifacts = await saveArtifacts(reference);
    const topology = structuredClone(artifacts.modelJson.modelTopology) as {
      config: { layers: { config: Record<string, unknown> }[] };
    };
    topology.config.layers[1].config.activation = 'thresholdedRelu';
    let caught: unknown;
    try {
      convertTfjsLayers({ ...artifacts, modelJson: { ...artifacts.modelJson, modelTopology: topology } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'UNSUPPORTED_OP',
      details: { layer: 'scores', className: 'Dense' },
    });
    expect((caught as Error).message).toMatch(
      /^TF\.js layer 'scores' \(Dense\) uses activation 'thresholdedRelu'/,
    );
  });

  it('keeps tf in scope for the helpers', () => {
    expect(tf.getBackend()).toBe('cpu');
  });
});
