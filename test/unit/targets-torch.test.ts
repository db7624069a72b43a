import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import {
  classShares,
  type OutputTarget,
  pixelClasses,
  segmentShape,
  segmentTarget,
  similarityTarget,
  withTarget,
} from '../../src/core/targets.js';
import type { Tensor } from '../../src/core/tensor.js';
import { decodeNpy } from '../../src/io/npy.js';
import { openOnnxModel } from '../../src/models/open.js';

/**
 * torch's own segmenter and embedding model (scripts/golden/make_target_fixtures.py, random weights), with
 * torch's float64 value, input gradient and Grad-CAM for a segment target (the class with the most pixels,
 * summed over them) and a similarity target (cosine to a random reference vector). Our head is appended to
 * torch's export and differentiated by our autodiff; everything here must equal torch's numbers.
 */
const DIR = fileURLToPath(new URL('../fixtures/targets/', import.meta.url));
const meta = JSON.parse(readFileSync(`${DIR}targets.json`, 'utf8'));
const npy = (name: string) => decodeNpy(readFileSync(`${DIR}${name}`), name);
const ONES: Tensor = { data: Float32Array.of(1), dims: [1, 1] };

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return error / scale;
}

/** Grad-CAM at the layer's own size: relu(Σ_k mean(∂y/∂A_k) · A_k), as the script computes it. */
function gradCam(activations: Tensor, gradients: Tensor): Float32Array {
  const [, c, h, w] = activations.dims;
  const plane = h * w;
  const cam = new Float32Array(plane);
  for (let k = 0; k < c; k++) {
    let alpha = 0;
    for (let p = 0; p < plane; p++) alpha += gradients.data[k * plane + p] / plane;
    for (let p = 0; p < plane; p++) cam[p] += alpha * activations.data[k * plane + p];
  }
  return cam.map((v) => Math.max(0, v));
}

describe.each([
  ['segmenter', undefined],
  ['embedder', 'embed'],
] as const)('torch’s %s with its target head', (name, task) => {
  let model: Model;
  let headed: Model;
  let target: OutputTarget;
  const input = npy(`${name}.input.npy`);
  const x: Tensor = { data: input.data, dims: input.shape };
  const expected = meta[name];
  const tolerance = meta.tolerance;

  beforeAll(async () => {
    model = await openOnnxModel(readFileSync(`${DIR}${name}.onnx`), { mean: [0], std: [1], task });
    if (name === 'segmenter') {
      const shape = segmentShape(model.spec.outputShape);
      const owner = pixelClasses((await model.predict(x)).data, shape);
      const shares = classShares(owner, shape[0]);
      const top = shares.indexOf(Math.max(...shares));
      target = segmentTarget(
        shape,
        top,
        Uint8Array.from(owner, (k) => (k === top ? 1 : 0)),
      );
    } else {
      target = similarityTarget(npy('embedder.reference.npy').data, 16);
    }
    headed = await withTarget(model, target, 'target');
  });
  afterAll(async () => {
    await headed.dispose();
    await model.dispose();
  });

  it('reads the task and the target as torch does', () => {
    if (target.kind === 'segment') {
      expect([model.spec.task, model.spec.outputShape]).toEqual(['segment', [4, 32, 32]]);
      expect(target.channel).toBe(expected.class);
      // Our argmax over ONNX Runtime's float32 scores gives torch's region, pixel for pixel.
      expect(Array.from(target.mask)).toEqual(Array.from(npy('segmenter.mask.npy').data));
      expect(target.mask.reduce((a, v) => a + v, 0)).toBe(expected.pixels);
    } else {
      expect(model.spec.task).toBe('embed');
    }
  });

  it('the head’s value is torch’s', async () => {
    const value = (await headed.predict(x)).data[0];
    expect(Math.abs(value - expected.value) / Math.abs(expected.value)).toBeLessThan(tolerance.value);
  });

  it('a seed of 1 on the head gives torch’s input gradient', async () => {
    const { gradients } = await headed.inputGradients!(x, ONES);
    expect(relativeError(gradients.data, npy(`${name}.grad.npy`).data)).toBeLessThan(tolerance.gradient);
  });

  it('Grad-CAM on the named layer, from the head’s layer gradient, is torch’s', async () => {
    const { activations, gradients } = await headed.layer!(expected.layer, x, ONES);
    const cam = gradCam(activations, gradients!);
    expect(relativeError(cam, npy(`${name}.cam.npy`).data)).toBeLessThan(tolerance.cam);
  });
});
