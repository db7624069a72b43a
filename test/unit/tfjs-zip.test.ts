import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, type Zippable, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { preprocess } from '../../src/core/preprocess.js';
import { createRng } from '../../src/core/random.js';
import type { TfjsArtifacts } from '../../src/engines/tfjs/index.js';
import { loadModel } from '../../src/models/load.js';
import { isTfjsModelRef } from '../../src/models/tfjs.js';
import { readTfjsDropped, readTfjsZip } from '../../src/models/tfjs-source.js';
import {
  randomizeWeights,
  saveArtifacts,
  teachableMachineModel,
  tfReady,
  writeTfjsFolder,
} from '../helpers/tfjs-models.js';

const LABELS = ['cat', 'dog', 'cup'];
/** metadata.json as Teachable Machine writes it beside an image model. */
const METADATA = {
  tfjsVersion: '1.3.1',
  tmVersion: '2.4.10',
  packageVersion: '0.8.4',
  packageName: '@teachablemachine/image',
  modelName: 'tm-my-image-model',
  labels: LABELS,
  imageSize: 32,
};

/** The three files of a Teachable Machine export, as its "Download my model" zip holds them. */
function exportFiles(artifacts: TfjsArtifacts): Record<string, Uint8Array> {
  return {
    'model.json': strToU8(JSON.stringify(artifacts.modelJson)),
    'weights.bin': artifacts.groups[0],
    'metadata.json': strToU8(JSON.stringify(METADATA)),
  };
}

/**
 * Rewrites the uncompressed size that a zip's central directory declares for `name` (what unzipSync reads),
 * as a zip bomb or a damaged zip would declare it.
 */
function declareSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  for (let p = 0; p + 46 <= out.length; p++) {
    if (view.getUint32(p, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(p + 28, true);
    if (new TextDecoder().decode(out.subarray(p + 46, p + 46 + nameLength)) === name) {
      view.setUint32(p + 24, size, true);
      return out;
    }
  }
  throw new Error(`no central directory entry for ${name}`);
}

function photo(width: number, height: number, seed: number): RgbImage {
  const rng = createRng(seed);
  return {
    width,
    height,
    data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rng.next() * 256)),
  };
}

describe('a Teachable Machine export zip', () => {
  let dir: string;
  let artifacts: TfjsArtifacts;
  let folderModel: Model;
  const savedCache = process.env.SIGHTLINE_CACHE_DIR;

  beforeAll(async () => {
    await tfReady();
    dir = await mkdtemp(join(tmpdir(), 'sightline-tm-zip-'));
    process.env.SIGHTLINE_CACHE_DIR = join(dir, 'cache');
    const reference = teachableMachineModel(32, LABELS.length);
    randomizeWeights(reference, 7);
    artifacts = await saveArtifacts(reference);
    reference.dispose();
    await writeTfjsFolder(join(dir, 'folder'), artifacts, METADATA);
    folderModel = await loadModel(join(dir, 'folder'));
  });

  afterAll(async () => {
    await folderModel?.dispose();
    if (savedCache === undefined) delete process.env.SIGHTLINE_CACHE_DIR;
    else process.env.SIGHTLINE_CACHE_DIR = savedCache;
    await rm(dir, { recursive: true, force: true });
  });

  it('names a .zip path a TF.js model, but not a .zip URL (that stays an HTTP model)', () => {
    expect(isTfjsModelRef('my-model.zip')).toBe(true);
    expect(isTfjsModelRef('./exports/My Model.ZIP')).toBe(true);
    expect(isTfjsModelRef('http://127.0.0.1:8080/my-model.zip')).toBe(false);
    expect(isTfjsModelRef('model.onnx')).toBe(false);
  });

  const layouts: [string, Zippable][] = [
    ['at the root of the zip', {}],
    // Zipping the folder rather than its files, on a Mac: a subfolder, and resource forks beside it.
    [
      'in a subfolder, with macOS resource forks',
      { __MACOSX: { 'my-model': { '._model.json': Uint8Array.of(0, 5, 22, 7) } } },
    ],
  ];
  for (const [where, extra] of layouts) {
    it(`loads with loadModel('x.zip'), files ${where}: metadata's labels, predictions equal to the folder's`, async () => {
      const files = exportFiles(artifacts);
      const zip = zipSync(where.startsWith('in a subfolder') ? { 'my-model': files, ...extra } : files);
      const path = join(dir, 'tm-my-image-model.zip');
      await writeFile(path, zip);
      const model = await loadModel(path);
      try {
        expect(model.spec).toMatchObject({
          labels: LABELS,
          width: 32,
          height: 32,
          layout: 'NHWC',
          resize: 'center-crop',
          cropFraction: 1,
        });
        expect(model.spec.mean).toEqual(folderModel.spec.mean);
        expect([...model.capabilities].sort()).toEqual([
          'backwardRules',
          'biasGradients',
          'inputGradients',
          'layers',
          'outputs',
          'predict',
          'weights',
        ]);
        for (const seed of [1, 2]) {
          const { tensor } = preprocess(photo(48, 40, seed), model.spec);
          const ours = await model.predict(tensor);
          const folders = await folderModel.predict(tensor);
          expect(Array.from(ours.data)).toEqual(Array.from(folders.data));
          // A model that says the same for every input would pass the line above for nothing.
          expect(Math.max(...ours.data)).toBeLessThan(0.999);
        }
      } finally {
        await model.dispose();
      }
    });
  }

  it('reads the same three files dropped together (the web page drops them so), weights matched by name', async () => {
    const files = exportFiles(artifacts);
    const dropped = Object.entries(files).map(([name, bytes]) => ({ name, bytes }));
    const source = await readTfjsDropped(dropped);
    expect(source.location).toBe('model.json');
    expect(source.metadata?.labels).toEqual(LABELS);
    expect(source.artifacts.groups[0]).toEqual(artifacts.groups[0]);
    const zipped = await readTfjsDropped([{ name: 'tm.zip', bytes: zipSync(files) }]);
    expect(zipped.location).toBe('tm.zip/model.json');
    expect(zipped.artifacts.modelJson).toEqual(source.artifacts.modelJson);
  });

  describe('refuses, saying what is wrong', () => {
    it('a zip without model.json', async () => {
      const zip = zipSync({ 'readme.txt': strToU8('hello'), 'weights.bin': new Uint8Array(8) });
      await expect(readTfjsZip(zip, 'no-model.zip')).rejects.toMatchObject({
        code: 'MODEL_LOAD',
        message:
          "'no-model.zip' holds no model.json (it holds readme.txt, weights.bin); a TF.js export zip holds model.json, its weight files and metadata.json.",
      });
      const path = join(dir, 'empty.zip');
      await writeFile(path, zipSync({}));
      await expect(loadModel(path)).rejects.toMatchObject({
        code: 'MODEL_LOAD',
        message: `'${path}' holds no model.json (it is empty); a TF.js export zip holds model.json, its weight files and metadata.json.`,
      });
    });

    it('a zip holding two models', async () => {
      const files = exportFiles(artifacts);
      await expect(readTfjsZip(zipSync({ a: files, b: files }), 'two.zip')).rejects.toMatchObject({
        message: "'two.zip' holds 2 models (a/model.json, b/model.json); zip one model's folder.",
      });
    });

    it('a weight file the manifest names and the zip lacks', async () => {
      const { 'weights.bin': _, ...rest } = exportFiles(artifacts);
      await expect(readTfjsZip(zipSync({ sub: rest }), 'tm.zip')).rejects.toMatchObject({
        code: 'MODEL_LOAD',
        message:
          "The TF.js model 'tm.zip/sub/model.json' lists weight file 'weights.bin', which does not exist in 'tm.zip' (it holds sub/model.json, sub/metadata.json).",
      });
      const dropped = Object.entries(rest).map(([name, bytes]) => ({ name, bytes }));
      await expect(readTfjsDropped(dropped)).rejects.toMatchObject({
        message:
          "The TF.js model 'model.json' lists weight file 'weights.bin', which does not exist among the dropped files (model.json, metadata.json); drop it together with model.json.",
      });
    });

    it('a zip bomb: an entry declaring 2 GB is refused before anything is inflated', async () => {
      const bomb = declareSize(zipSync(exportFiles(artifacts)), 'weights.bin', 2 ** 31);
      await expect(readTfjsZip(bomb, 'bomb.zip')).rejects.toMatchObject({
        code: 'MODEL_LOAD',
        message:
          "'bomb.zip' unpacks to more than 512 MB ('weights.bin' alone is 2048 MB); Sightline stops there so that a zip bomb cannot fill the memory. Unzip it and give its folder if the model really is that large.",
      });
    });

    it('a zip whose files together pass the limit, and a zip file over it', async () => {
      const files = exportFiles(artifacts);
      const zip = zipSync(files);
      // model.json and metadata.json fit under this limit; the weights on top of model.json do not.
      const limit = files['model.json'].length + files['weights.bin'].length - 1;
      await expect(readTfjsZip(zip, 'tm.zip', { maxBytes: limit })).rejects.toMatchObject({
        message: expect.stringContaining(
          `'tm.zip' unpacks to more than ${limit} bytes ('weights.bin' alone is ${files['weights.bin'].length} bytes)`,
        ),
      });
      await expect(readTfjsZip(zip, 'tm.zip', { maxBytes: 100 })).rejects.toMatchObject({
        message: `'tm.zip' is ${zip.length} bytes, over the limit of 100 bytes for a zipped model; unzip it and give its folder.`,
      });
    });

    it('an entry that holds more than it declares is damaged, and inflating stops there', async () => {
      const files = exportFiles(artifacts);
      const size = files['weights.bin'].length;
      const lying = declareSize(zipSync(files), 'weights.bin', size - 64);
      await expect(readTfjsZip(lying, 'tm.zip')).rejects.toMatchObject({
        message: `'tm.zip' is damaged: 'weights.bin' unpacks to more than the ${size - 64} bytes the zip says.`,
      });
      // One that holds less than it declares is damaged.
      const short = declareSize(zipSync(files), 'weights.bin', size + 64);
      await expect(readTfjsZip(short, 'tm.zip')).rejects.toMatchObject({
        message: `'tm.zip' is damaged: 'weights.bin' unpacks to ${size} bytes; the zip says ${size + 64}.`,
      });
    });

    it('a corrupt zip: not a zip at all, cut short, or with a broken compressed stream', async () => {
      const notZip = strToU8('This is a text file that someone renamed to .zip.');
      await expect(readTfjsZip(notZip, 'notes.zip')).rejects.toMatchObject({
        code: 'MODEL_LOAD',
        message: "'notes.zip' is not a readable zip file: invalid zip data.",
      });
      const zip = zipSync(exportFiles(artifacts));
      // A download stopped halfway loses the zip's directory, which sits at its end.
      await expect(readTfjsZip(zip.subarray(0, zip.length >> 1), 'half.zip')).rejects.toMatchObject({
        message: "'half.zip' is not a readable zip file: invalid zip data.",
      });
      // model.json is the first entry: its compressed bytes start after the 30-byte header and its name.
      const broken = zip.slice();
      broken.fill(0xff, 30 + 'model.json'.length, 30 + 'model.json'.length + 16);
      await expect(readTfjsZip(broken, 'broken.zip')).rejects.toMatchObject({
        code: 'MODEL_LOAD',
        message: expect.stringMatching(
          /^'broken\.zip' (is not a readable zip file: (invalid block type|invalid length\/literal|invalid distance|unexpected EOF)\.|is damaged: 'model\.json' unpacks to \d+ bytes; the zip says \d+\.)$/,
        ),
      });
    });
  });
});
