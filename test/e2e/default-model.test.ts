import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import { preprocess } from '../../src/core/preprocess.js';
import { rankPredictions } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { decodeNpy } from '../../src/io/npy.js';
import { loadDefaultModel } from '../../src/models/default-model.js';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';
import { boxMassRatio, DOG_BOX } from '../helpers/regions.js';

const CATS = ['tabby', 'tiger cat', 'Persian cat', 'Siamese cat', 'Egyptian cat'];
// ImageNet's dog classes are indices 151–268; the default model puts background at 0, shifting them by one.
const isDog = (index: number) => index >= 152 && index <= 269;

describe('the embedded default model', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadDefaultModel();
  });
  afterAll(() => model.dispose());

  it('has 1001 labels with background at 0', () => {
    expect(model.spec.labels.length).toBe(1001);
    expect(model.spec.labels[0]).toBe('background');
    expect(model.spec.labels[154]).toBe('Maltese dog');
    expect(model.spec).toMatchObject({ width: 299, height: 299, layout: 'NHWC', outputs: 'logits' });
  });

  it.each([
    ['dog.jpg', (i: number, l: string) => isDog(i) || `expected a dog breed, got ${l}`],
    ['chelsea.png', (_: number, l: string) => CATS.includes(l) || `expected a cat, got ${l}`],
    [
      'coffee.png',
      (_: number, l: string) => ['espresso', 'cup'].includes(l) || `expected espresso or cup, got ${l}`,
    ],
    ['eagle.jpg', (_: number, l: string) => l === 'bald eagle' || `expected bald eagle, got ${l}`],
  ])('classifies %s', async (file, check) => {
    const image = await decodeImage(join(SHARED_IMAGES, file));
    const scores = await model.predict(preprocess(image, model.spec).tensor);
    const ranked = rankPredictions(model, scores, 1001);
    expect(check(ranked[0].index, ranked[0].label)).toBe(true);
    // The file outputs logits; predictions are their softmax.
    expect(ranked.reduce((a, p) => a + p.score, 0)).toBeCloseTo(1, 5);
  });
});

describe('sightline explain on dog.jpg (RISE, default settings)', () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-e2e-'));
    result = await runCli([
      'explain',
      join(SHARED_IMAGES, 'dog.jpg'),
      '--method',
      'rise',
      '--out',
      join(dir, 'd.png'),
      '--save-map',
      join(dir, 'd.npy'),
      '--json',
    ]);
  }, 900_000);

  it('prints JSON naming a dog breed and the outputs', () => {
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.method).toBe('rise');
    expect(isDog(json.predictions[0].index)).toBe(true);
    expect(json.target).toEqual({ index: json.predictions[0].index, label: json.predictions[0].label });
    expect(json.predictions).toHaveLength(5);
    for (let i = 1; i < 5; i++)
      expect(json.predictions[i - 1].score).toBeGreaterThanOrEqual(json.predictions[i].score);
    expect(json.output).toEqual({ overlay: join(dir, 'd.png'), map: join(dir, 'd.npy') });
  });

  it('writes a 768×576 overlay (legend bar below) and a [576, 768] map', async () => {
    const meta = await sharp(join(dir, 'd.png')).metadata();
    expect(meta.width).toBe(768);
    expect(meta.height).toBeGreaterThan(576);
    const map = decodeNpy(new Uint8Array(await readFile(join(dir, 'd.npy'))));
    expect(map.shape).toEqual([576, 768]);
  });

  it("puts at least 1.5× the box's area share of the mass above the minimum inside the dog's box", async () => {
    const { data } = decodeNpy(new Uint8Array(await readFile(join(dir, 'd.npy'))));
    const ratio = boxMassRatio(data, 768, 576, DOG_BOX);
    console.log(`RISE mass in the dog box: ${ratio.toFixed(2)}× the box's area share`);
    expect(ratio).toBeGreaterThanOrEqual(1.5);
  });
});
