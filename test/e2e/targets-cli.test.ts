import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { preprocess } from '../../src/core/preprocess.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';
import {
  embedderProto,
  photo,
  positiveInside,
  SIZE,
  segmenterProto,
  toPixels,
} from '../helpers/target-models.js';
import { massInside } from '../helpers/task-models.js';

// The models and photos of test/unit/targets-models.test.ts, as a user would bring them: files on disk.
const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };
const SHARED: Patch = { x0: 4, y0: 12, x1: 20, y1: 28 };
const GREEN = [0, 255, 0] as const;

let dir: string;
const at = (name: string) => join(dir, name);

async function png(name: string, image: { width: number; height: number; data: Uint8Array }) {
  await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toFile(at(name));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-targets-'));
  await writeFile(at('seg.onnx'), encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])));
  await writeFile(at('seg.json'), JSON.stringify({ labels: ['background', 'cat', 'dog'] }));
  await writeFile(at('embed.onnx'), encodeModel(embedderProto()));
  // The same embedder, with a sidecar that says what it is.
  await writeFile(at('named.onnx'), encodeModel(embedderProto()));
  await writeFile(at('named.json'), JSON.stringify({ task: 'embed' }));
  await png('white.png', { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(255) });
  const a = photo(1, [
    { patch: SHARED, rgb: GREEN },
    { patch: { x0: 20, y0: 0, x1: 32, y1: 12 }, rgb: [255, 0, 0] },
  ]);
  const b = photo(2, [
    { patch: SHARED, rgb: GREEN },
    { patch: { x0: 0, y0: 0, x1: 12, y1: 8 }, rgb: [0, 0, 255] },
  ]);
  await png('a.png', a);
  await png('b.png', b);
  // A mask over the bottom-right 8 × 8 photo pixels (the grid cells 6..7 × 6..7), and one of the wrong size.
  const mask = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 24; y < 32; y++) for (let x = 24; x < 32; x++) mask[(y * SIZE + x) * 3] = 255;
  await png('mask.png', { width: SIZE, height: SIZE, data: mask });
  await png('small-mask.png', { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(255) });
  // B's embedding, through the model as the CLI reads it (mean 0, std 1), as a [192] and a [2, 96] array.
  const model = await openOnnxModel(encodeModel(embedderProto()), { mean: [0], std: [1], task: 'embed' });
  const embedding = (await model.predict(preprocess(b, model.spec).tensor)).data;
  await model.dispose();
  await writeFile(at('b.npy'), encodeNpy(embedding, [1, 192]));
  await writeFile(at('short.npy'), encodeNpy(embedding.subarray(0, 100), [100]));
  await writeFile(at('matrix.npy'), encodeNpy(embedding, [2, 96]));
});

const run = (image: string, model: string, ...args: string[]) =>
  runCli([
    'explain',
    at(image),
    '--model',
    at(model),
    '--mean',
    '0',
    '--std',
    '1',
    '--out',
    at(`${image}-${model}.png`),
    ...args,
  ]);

describe('sightline explain on a segmenter', () => {
  it('prints pixel shares, explains the class over its own pixels, and the map is in the patch it reads', async () => {
    const text = await run('white.png', 'seg.onnx', '--method', 'gradient', '--target', 'cat');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      'share of the 8 × 8 output pixels for ' +
        `${at('white.png')}: background (0) 87.5%, cat (1) 6.3%, dog (2) 6.3%\n`,
    );
    expect(text.stdout).toContain("explaining 'cat' (1): its scores summed over its own 4 output pixels\n");
    const result = await run(
      'white.png',
      'seg.onnx',
      '--method',
      'gradient',
      '--target',
      'cat',
      '--json',
      '--save-map',
      at('seg-map.npy'),
    );
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.task).toBe('segment');
    expect(json.target).toEqual({
      label: 'cat',
      kind: 'segment',
      class: 1,
      region: 'class pixels',
      pixels: 4,
      gridWidth: 8,
      gridHeight: 8,
    });
    const map = decodeNpy(await readFile(at('seg-map.npy')));
    expect(massInside(map.data, SIZE, toPixels(READ1))).toBeGreaterThanOrEqual(0.8);
  });

  it('--region as a box or as a mask PNG', async () => {
    const box = await run(
      'white.png',
      'seg.onnx',
      '--method',
      'gradient',
      '--region',
      '24,20,32,32',
      '--json',
    );
    expect(box.code, box.stderr).toBe(0);
    // The default class is the largest besides background (cat and dog tie: the lower index); the box holds
    // six cell centres.
    expect(JSON.parse(box.stdout).target).toMatchObject({
      label: 'cat',
      region: 'box',
      pixels: 6,
      passedOver: { index: 0, label: 'background' },
    });
    const mask = await run(
      'white.png',
      'seg.onnx',
      '--method',
      'occlusion',
      '--target',
      '1',
      '--region',
      at('mask.png'),
      '--json',
      '--save-map',
      at('mask-map.npy'),
    );
    expect(mask.code, mask.stderr).toBe(0);
    expect(JSON.parse(mask.stdout).target).toMatchObject({ class: 1, region: 'mask', pixels: 4 });
    // A mask whose name has commas is still a file; a missing one is a bad input file (exit 3).
    await copyFile(at('mask.png'), at('my,mask.png'));
    const comma = await run(
      'white.png',
      'seg.onnx',
      '--method',
      'gradient',
      '--region',
      at('my,mask.png'),
      '--json',
    );
    expect(comma.code, comma.stderr).toBe(0);
    expect(JSON.parse(comma.stdout).target).toMatchObject({ region: 'mask', pixels: 4 });
    const missing = await run('white.png', 'seg.onnx', '--method', 'gradient', '--region', at('none.png'));
    expect(missing.code).toBe(3);
    const map = decodeNpy(await readFile(at('mask-map.npy')));
    expect(massInside(map.data, SIZE, toPixels(READ1))).toBeGreaterThanOrEqual(0.8);
  });

  it.each([
    [['--region', '0,0,1,1'], /The region covers no pixel of the model's 8 × 8 output grid/],
    [['--region', '0,0,40,10'], /The region 0,0,40,10 is not a box inside the 32 × 32 photo/],
    [['--region', '1,2,3'], /Argument 'region' must be four numbers x0,y0,x1,y1 in photo pixels/],
    [
      ['--region', 'small-mask.png'],
      /small-mask.png' is 16×16 but its image is 32×32; expected a mask the size of the image/,
    ],
  ])('refuses %j with exit code 2 and says why', async (args, message) => {
    const fixed = args.map((a) => (a.endsWith('.png') ? at(a) : a));
    const result = await run('white.png', 'seg.onnx', '--method', 'gradient', ...fixed);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/ at .*\.js:\d+/);
  });
});

describe('sightline explain on an embedding model', () => {
  const cosine = 4 / (Math.sqrt(4 + 2.25) * Math.sqrt(4 + 1.5));

  it('--reference a photo: prints the cosine, and the map’s evidence is in the shared patch', async () => {
    const result = await run(
      'a.png',
      'embed.onnx',
      '--task',
      'embed',
      '--method',
      'grad-cam',
      '--reference',
      at('b.png'),
      '--json',
      '--save-map',
      at('embed-map.npy'),
    );
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.task).toBe('embed');
    expect(json.target).toEqual({
      label: 'similarity to the reference',
      kind: 'similarity',
      reference: 'image',
      dimensions: 192,
      cosine: expect.closeTo(cosine, 5),
    });
    const map = decodeNpy(await readFile(at('embed-map.npy')));
    expect(positiveInside(map.data, SIZE, SHARED)).toBeGreaterThanOrEqual(0.8);
    const text = await run('a.png', 'named.onnx', '--method', 'gradient', '--reference', at('b.png'));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `embedding of 192 numbers for ${at('a.png')}; cosine similarity to the reference ${cosine.toFixed(4)}\n`,
    );
  });

  it('unasked, it is read as a classifier, with a note on how to ask for embed', async () => {
    const result = await run('a.png', 'embed.onnx', '--method', 'gradient');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Top 5 predictions');
    expect(result.stderr).toContain(
      "sightline: note: the model's 192 outputs have no labels and no final Softmax; if they are an embedding, pass --task embed --reference other.jpg",
    );
    const asked = await run('a.png', 'embed.onnx', '--task', 'classify', '--method', 'gradient');
    expect(asked.stderr).not.toContain('note');
  });

  it('--reference a .npy vector gives the same similarity as the photo it came from', async () => {
    const result = await run(
      'a.png',
      'named.onnx',
      '--method',
      'gradient',
      '--reference',
      at('b.npy'),
      '--json',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).target).toMatchObject({
      reference: 'vector',
      cosine: expect.closeTo(cosine, 5),
    });
  });

  it.each([
    [[], /An embedding model needs a reference to compare with: --reference other\.jpg/],
    [['--reference', 'short.npy'], /The reference vector has 100 numbers; this model's embedding has 192\./],
    [
      ['--reference', 'matrix.npy'],
      /is an array of shape \[2, 96\]; expected one vector \(\[D\] or \[1, D\]\)/,
    ],
  ])('refuses %j with exit code 2 and says why', async (args, message) => {
    const fixed = args.map((a) => (a.endsWith('.npy') ? at(a) : a));
    const result = await run('a.png', 'named.onnx', '--method', 'gradient', ...fixed);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('a reference that is not a .npy array, or no file at all, is refused in words', async () => {
    await writeFile(at('junk.npy'), 'not an array');
    const junk = await run('a.png', 'named.onnx', '--method', 'gradient', '--reference', at('junk.npy'));
    // The project reads a broken .npy as a bad argument (io/npy.ts), as `sightline gradient` does.
    expect([junk.code, junk.stderr]).toEqual([2, expect.stringMatching(/is not a usable \.npy array/)]);
    const missing = await run('a.png', 'named.onnx', '--method', 'gradient', '--reference', at('none.png'));
    expect(missing.code).toBe(3);
  });
});
