// evaluate's sanity metrics draw each image's own weight noise and other class, seeded by its file name, so a
// mean over images is a mean over draws too, and a file gets the same numbers in every run.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import { createRng, seedOf } from '../../src/core/random.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { evaluateImage } from '../../src/evaluate/evaluate.js';
import { prepare } from '../../src/explain.js';
import { modelRandomization } from '../../src/metrics/sanity.js';
import { openOnnxModel } from '../../src/models/open.js';

const NET = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));

describe('seedOf', () => {
  it('is 32-bit FNV-1a (the published test vectors)', () => {
    expect(seedOf('')).toBe(0x811c9dc5);
    expect(seedOf('a')).toBe(0xe40c292c);
    expect(seedOf('foobar')).toBe(0xbf9cf968);
  });
});

describe('evaluateImage: the sanity metrics seeded by the file name', () => {
  let model: OnnxModel;
  let image: RgbImage;
  beforeAll(async () => {
    model = await openOnnxModel(new Uint8Array(await readFile(NET)), { outputs: 'logits', maxBatch: 2 });
    const rng = createRng(11);
    image = {
      width: 16,
      height: 16,
      data: Uint8Array.from({ length: 16 * 16 * 3 }, () => Math.floor(rng.next() * 256)),
    };
  });
  afterAll(() => model.dispose());

  const run = (file: string, sanitySeed?: number) =>
    evaluateImage({
      model,
      file,
      image,
      methods: ['gradient'],
      metrics: ['randomization', 'labels'],
      ...(sanitySeed === undefined ? {} : { sanitySeed }),
    });
  const rhos = (r: Awaited<ReturnType<typeof run>>) => r.randomization?.gradient.map((s) => s.spearmanAbs);

  it('gives a file the same numbers every time, and another file another draw', async () => {
    const a = await run('a.png');
    expect(rhos(a)?.length).toBeGreaterThan(1);
    const again = await run('a.png');
    expect(again.randomization).toEqual(a.randomization);
    expect(again.methods[0].values).toEqual(a.methods[0].values);
    // The seed is all the name brings: another name with a.png's seed gives a.png's numbers.
    const named = await run('other.png', seedOf('a.png'));
    expect(rhos(named)).toEqual(rhos(a));
    expect(named.methods[0].values).toEqual(a.methods[0].values);
    expect(rhos(await run('b.png'))).not.toEqual(rhos(a));
  });

  it('draws what modelRandomization draws with that seed', async () => {
    const a = await run('a.png');
    const { input, target, classes } = await prepare({ model, image });
    const direct = await modelRandomization({
      model,
      input,
      target: target.index,
      classes,
      method: 'gradient',
      group: 'block',
      layers: 3,
      clampLayers: true,
      seed: seedOf('a.png'),
    });
    expect(rhos(a)).toEqual(direct.steps.map((s) => s.spearmanAbs));
  });
});
