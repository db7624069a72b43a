import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { preprocess } from '../../src/core/preprocess.js';
import { decodeImage } from '../../src/io/decode.js';
import { loadModel } from '../../src/models/load.js';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';
import {
  maxAbsDiff,
  randomizeWeights,
  relativeError,
  saveArtifacts,
  teachableMachineModel,
  tfInputGradient,
  type tfl,
  tfPredict,
  tfReady,
  writeTfjsFolder,
} from '../helpers/tfjs-models.js';

const PHOTOS = ['dog.jpg', 'chelsea.png', 'coffee.png', 'astronaut.png'];
const LABELS = ['cat', 'dog', 'cup', 'person'];

/** metadata.json as Teachable Machine writes it beside an image model. */
const METADATA = {
  tfjsVersion: '1.3.1',
  tmVersion: '2.4.10',
  packageVersion: '0.8.4',
  packageName: '@teachablemachine/image',
  timeStamp: '2024-01-01T00:00:00.000Z',
  userMetadata: {},
  modelName: 'tm-my-image-model',
  labels: LABELS,
  imageSize: 64,
};

/**
 * A Teachable-Machine-shaped model (a truncated MobileNet nested in a Sequential, then a dense head), built
 * and saved by TF.js into a folder with metadata.json, loaded by its folder path as a user would.
 */
describe('a Teachable Machine image model', () => {
  let dir: string;
  let folder: string;
  let reference: tfl.Sequential;
  let model: Model;
  let photos: RgbImage[];
  const savedCache = process.env.SIGHTLINE_CACHE_DIR;

  beforeAll(async () => {
    await tfReady();
    dir = await mkdtemp(join(tmpdir(), 'sightline-tm-'));
    process.env.SIGHTLINE_CACHE_DIR = join(dir, 'cache');
    folder = join(dir, 'my-model');
    reference = teachableMachineModel(64, LABELS.length);
    randomizeWeights(reference, 7); // a seed whose scores are not saturated on these photos (spread checked below)
    await writeTfjsFolder(folder, await saveArtifacts(reference), METADATA);
    model = await loadModel(folder);
    photos = await Promise.all(PHOTOS.map((p) => decodeImage(join(SHARED_IMAGES, p))));
  });

  afterAll(async () => {
    await model?.dispose();
    reference?.dispose();
    if (savedCache === undefined) delete process.env.SIGHTLINE_CACHE_DIR;
    else process.env.SIGHTLINE_CACHE_DIR = savedCache;
    await rm(dir, { recursive: true, force: true });
  });

  it('loads by folder path with labels from metadata.json, TM preprocessing and every capability', () => {
    expect(model.spec).toMatchObject({
      layout: 'NHWC',
      width: 64,
      height: 64,
      labels: LABELS,
      outputs: 'probabilities',
      resize: 'center-crop',
      cropFraction: 1,
    });
    // TM's library feeds pixel / 127 − 1: a pixel of 127 is 0, 254 is 1.
    const gray = (v: number): RgbImage => ({ width: 3, height: 2, data: new Uint8Array(18).fill(v) });
    const spec = { ...model.spec, width: 2, height: 2 };
    expect(Array.from(preprocess(gray(127), spec).tensor.data)).toEqual(new Array(12).fill(0));
    for (const v of preprocess(gray(254), spec).tensor.data) expect(v).toBeCloseTo(1, 6);
    expect([...model.capabilities].sort()).toEqual([
      'backwardRules',
      'biasGradients',
      'inputGradients',
      'layers',
      'outputs',
      'predict',
      'weights',
    ]);
  });

  it('lets flags win over metadata.json: a labels file, mean, std and resize', async () => {
    const labelsPath = join(dir, 'labels.txt');
    await writeFile(labelsPath, 'w\nx\ny\nz\n');
    const flagged = await loadModel(folder, { labelsPath, mean: [0.5], std: [0.25], resize: 'squash' });
    try {
      expect(flagged.spec).toMatchObject({
        labels: ['w', 'x', 'y', 'z'],
        mean: [0.5, 0.5, 0.5],
        std: [0.25, 0.25, 0.25],
        resize: 'squash',
      });
    } finally {
      await flagged.dispose();
    }
  });

  it('predicts like TF.js on real photos, to 1e-4', async () => {
    const scores: Float32Array[] = [];
    for (const image of photos) {
      const { tensor } = preprocess(image, model.spec);
      const ours = await model.predict(tensor);
      const theirs = tfPredict(reference, tensor.data, tensor.dims);
      expect(maxAbsDiff(ours.data, theirs)).toBeLessThan(1e-4);
      scores.push(theirs);
    }
    // The photos score differently, so agreement is not an accident of a constant model.
    const spread = Math.max(...scores.slice(1).map((s) => maxAbsDiff(s, scores[0])));
    expect(spread).toBeGreaterThan(0.02);
  });

  it("has input gradients equal to TF.js' tf.grad of the target score, to 1e-4 relative", async () => {
    for (const [i, image] of photos.entries()) {
      const { tensor } = preprocess(image, model.spec);
      const seed = new Float32Array(LABELS.length);
      seed[i % LABELS.length] = 1;
      const { gradients } = await model.inputGradients!(tensor, { data: seed, dims: [1, LABELS.length] });
      const expected = tfInputGradient(reference, tensor.data, tensor.dims, seed);
      expect(relativeError(gradients.data, expected)).toBeLessThan(1e-4);
    }
  });

  it('lists the base network’s feature maps by their Keras names, the last one the CAM default', async () => {
    const { layers, defaultLayer } = await model.layers!();
    expect(defaultLayer).toBe('sequential_1/model1/conv_pw_4_relu');
    expect(layers.find((l) => l.name === defaultLayer)?.dims).toEqual([1, 32, 8, 8]);
  });

  it('loads from a loopback URL: model.json, its weights and metadata.json fetched beside it', async () => {
    const requests: string[] = [];
    const server: Server = createServer(async (request, response) => {
      requests.push(request.url ?? '');
      const path = normalize(
        join(folder, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)),
      );
      try {
        if (!path.startsWith(folder)) throw new Error('outside');
        response.end(await readFile(path));
      } catch {
        response.statusCode = 404;
        response.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const remote = await loadModel(`http://127.0.0.1:${port}/model.json`);
      try {
        expect(remote.spec.labels).toEqual(LABELS);
        expect([...remote.capabilities]).toContain('inputGradients');
        const { tensor } = preprocess(photos[0], remote.spec);
        expect(Array.from((await remote.predict(tensor)).data)).toEqual(
          Array.from((await model.predict(tensor)).data),
        );
      } finally {
        await remote.dispose();
      }
      expect(requests.sort()).toEqual(['/metadata.json', '/model.json', '/weights.bin']);
      await expect(loadModel(`http://127.0.0.1:${port}/missing/model.json`)).rejects.toMatchObject({
        code: 'MODEL_LOAD',
        message: expect.stringContaining('/missing/model.json'),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('explains a photo with Grad-CAM through the CLI', async () => {
    const out = join(dir, 'dog-grad-cam.png');
    const result = await runCli(
      [
        'explain',
        join(SHARED_IMAGES, 'dog.jpg'),
        '--model',
        folder,
        '--method',
        'grad-cam',
        '--out',
        out,
        '--json',
      ],
      { env: { SIGHTLINE_CACHE_DIR: join(dir, 'cli-cache') } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const payload = JSON.parse(result.stdout) as {
      predictions: { label: string; score: number }[];
      method: string;
      target: { label: string };
    };
    expect(payload.method).toBe('grad-cam');
    expect(payload.predictions.map((p) => p.label).sort()).toEqual([...LABELS].sort());
    // The CLI's top prediction is TF.js' own top class for the same preprocessed photo.
    const { tensor } = preprocess(photos[0], model.spec);
    const theirs = tfPredict(reference, tensor.data, tensor.dims);
    expect(payload.target.label).toBe(LABELS[theirs.indexOf(Math.max(...theirs))]);
    const png = await readFile(out);
    expect(Array.from(png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
  });
});
