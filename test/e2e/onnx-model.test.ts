import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { decodeNpy } from '../../src/io/npy.js';
import { METHODS } from '../../src/methods/registry.js';
import { patchModelProto } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';

/**
 * A user's own ONNX classifier, driven only by flags: 2 classes, score 0 = mean of the input inside rows
 * 8–15 and columns 20–27 of a 32×32 NCHW input, score 1 its negative. Its input size is symbolic, so the
 * CLI must be told it (--input-size).
 */
describe('sightline explain with an ONNX file and flags', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-onnx-'));
    const model = patchModelProto(
      { x0: 20, y0: 8, x1: 28, y1: 16 },
      { inputName: 'pixels', dims: ['N', 3, 'H', 'W'] },
    );
    await writeFile(join(dir, 'patch.onnx'), encodeModel(model));
    await writeFile(join(dir, 'labels.txt'), 'bright patch\ndark patch\n');
    // A white 64×64 photo: every window that touches the patch lowers score 0.
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } })
      .png()
      .toFile(join(dir, 'white.png'));
  });

  it('needs --input-size when the file does not fix it', async () => {
    const result = await runCli(['explain', join(dir, 'white.png'), '--model', join(dir, 'patch.onnx')]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/no fixed size; pass --input-size/);
  });

  it('explains with flags, maps the result back to the photo, and names labels', async () => {
    const result = await runCli([
      'explain',
      join(dir, 'white.png'),
      '--model',
      join(dir, 'patch.onnx'),
      '--input-size',
      '32',
      '--mean',
      '0',
      '--std',
      '1',
      '--labels',
      join(dir, 'labels.txt'),
      '--outputs',
      'logits',
      '--method',
      'occlusion',
      '--window',
      '4',
      '--stride',
      '4',
      '--target',
      'bright',
      '--out',
      join(dir, 'o.png'),
      '--save-map',
      join(dir, 'o.npy'),
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.target).toEqual({ index: 0, label: 'bright patch' });
    // Logits (1, −1) → softmax probabilities.
    expect(json.predictions[0].score).toBeCloseTo(Math.exp(1) / (Math.exp(1) + Math.exp(-1)), 5);
    const { data, shape } = decodeNpy(new Uint8Array(await readFile(join(dir, 'o.npy'))));
    expect(shape).toEqual([64, 64]);
    // The patch covers input rows 8–15, columns 20–27, i.e. photo rows 16–31, columns 40–55.
    let best = 0;
    for (let i = 1; i < data.length; i++) if (data[i] > data[best]) best = i;
    const [y, x] = [Math.floor(best / 64), best % 64];
    expect(y >= 16 && y < 32 && x >= 40 && x < 56).toBe(true);
    expect(Math.abs(data[2 * 64 + 2])).toBeLessThan(1e-6);
  });
});

describe('every registered method through the CLI on a small ONNX network', () => {
  const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-all-'));
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3080c0' } })
      .composite([
        { input: { create: { width: 10, height: 10, channels: 3, background: '#ffffff' } }, left: 5, top: 5 },
      ])
      .png()
      .toFile(join(dir, 'photo.png'));
  });

  // A CNN has no attention: the rollout methods are refused in words (test below), every other method runs.
  // LRP refuses the tiny CNN's SiLU gate (a product of two activations has no LRP rule; test below).
  const runs = METHODS.filter((m) => !m.requires.includes('attention') && m.id !== 'lrp').map((m) => m.id);
  const refused = METHODS.filter((m) => m.requires.includes('attention')).map((m) => m.id);

  it('the attention methods are refused on a CNN, naming what they need', async () => {
    expect(refused.length).toBeGreaterThan(0);
    for (const id of refused) {
      const result = await runCli([
        'explain',
        join(dir, 'photo.png'),
        '--model',
        join(GOLDEN, 'net_tiny_cnn.onnx'),
        '--method',
        id,
      ]);
      expect(result.code, id).toBe(4);
      expect(result.stderr, id).toContain(`Method '${id}' needs`);
      expect(result.stderr, id).not.toContain('    at ');
    }
  });

  it('lrp refuses the SiLU gate in words (no rule for a product of two activations), exit 4, no map', async () => {
    const out = join(dir, 'lrp.png');
    const result = await runCli([
      'explain',
      join(dir, 'photo.png'),
      '--model',
      join(GOLDEN, 'net_tiny_cnn.onnx'),
      '--method',
      'lrp',
      '--out',
      out,
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("op 'Mul'");
    expect(result.stderr).toContain('LRP has no rule for it (a product of two activations)');
    expect(result.stderr).not.toContain('    at ');
    expect(existsSync(out)).toBe(false);
  });

  it.each(runs)('%s writes a finite map of the photo’s size', async (id) => {
    const small: Record<string, string[]> = {
      rise: ['--masks', '64'],
      'integrated-gradients': ['--steps', '8'],
      'expected-gradients': ['--samples', '8'],
      smoothgrad: ['--samples', '4'],
      vargrad: ['--samples', '4'],
      'guided-ig': ['--steps', '16'],
      'blur-ig': ['--steps', '16'],
      sobol: ['--designs', '8'],
    };
    const npy = join(dir, `${id}.npy`);
    const result = await runCli([
      'explain',
      join(dir, 'photo.png'),
      '--model',
      join(GOLDEN, 'net_tiny_cnn.onnx'),
      '--method',
      id,
      '--out',
      join(dir, `${id}.png`),
      '--save-map',
      npy,
      '--json',
      ...(small[id] ?? []),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).method).toBe(id);
    const { data, shape } = decodeNpy(new Uint8Array(await readFile(npy)));
    expect(shape).toEqual([30, 40]);
    expect(data.every((v) => Number.isFinite(v))).toBe(true);
    expect(data.some((v) => v !== data[0])).toBe(true);
  });

  it('sightline evaluate measures every registered method on it', async () => {
    const out = join(dir, 'evaluation');
    const result = await runCli([
      'evaluate',
      join(dir, 'photo.png'),
      '--model',
      join(GOLDEN, 'net_tiny_cnn.onnx'),
      '--methods',
      runs.join(','),
      '--metrics',
      'deletion,insertion',
      '--masks',
      '64',
      '--steps',
      '8',
      '--samples',
      '16',
      '--designs',
      '8',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const [image] = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8')).images;
    expect(image.methods.map((m: { method: string }) => m.method)).toEqual(runs);
    for (const m of image.methods) {
      expect(m.error, m.method).toBeUndefined();
      // AUCs of probability curves lie in [0, 1].
      for (const metric of ['deletion', 'insertion']) {
        expect(m.values[metric], `${m.method} ${metric}`).toBeGreaterThanOrEqual(0);
        expect(m.values[metric], `${m.method} ${metric}`).toBeLessThanOrEqual(1);
      }
    }
  }, 300_000);
});
