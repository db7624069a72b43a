import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy-file.js';
import { runCli } from '../helpers/cli.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
const fixture = (suffix: string) => join(GOLDEN, `net_tiny_cnn.${suffix}`);

/** Largest absolute difference, relative to the largest reference magnitude. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return err / scale;
}

describe('sightline gradient and sightline autodiff against PyTorch autograd', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-grad-'));
  });

  it('gradient writes the input gradient of Σ seed ⊙ output as .npy', async () => {
    const out = join(dir, 'g.npy');
    const result = await runCli([
      'gradient',
      fixture('onnx'),
      '--input',
      fixture('input.npy'),
      '--seed',
      fixture('seed.npy'),
      '-o',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const [ours, torch] = await Promise.all([readNpy(out), readNpy(fixture('grad.npy'))]);
    expect(ours.shape).toEqual([2, 3, 16, 16]);
    expect(relativeError(ours.data, torch.data)).toBeLessThan(1e-4);
  });

  it('autodiff writes a model any ONNX Runtime runs, with the documented extra input and outputs', async () => {
    const out = join(dir, 'aug.onnx');
    const result = await runCli(['autodiff', fixture('onnx'), '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/extra input {2}'sightline_seed'/);
    expect(result.stdout).toMatch(/extra output 'sightline_input_gradient'/);
    const session = await ort.InferenceSession.create(new Uint8Array(await readFile(out)));
    expect(session.inputNames).toEqual(['input', 'sightline_seed']);
    const [x, seed, torch] = await Promise.all([
      readNpy(fixture('input.npy')),
      readNpy(fixture('seed.npy')),
      readNpy(fixture('grad.npy')),
    ]);
    const run = await session.run({
      input: new ort.Tensor('float32', x.data, x.shape),
      sightline_seed: new ort.Tensor('float32', seed.data, seed.shape),
    });
    expect(relativeError(run.sightline_input_gradient.data as Float32Array, torch.data)).toBeLessThan(1e-4);
    await session.release();
  });

  it('a seed of the wrong shape is a clear error', async () => {
    const result = await runCli([
      'gradient',
      fixture('onnx'),
      '--input',
      fixture('input.npy'),
      '--seed',
      fixture('input.npy'),
      '-o',
      join(dir, 'x.npy'),
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/seed .* has shape \[2, 3, 16, 16\]; expected \[2, K\]/);
  });
});
