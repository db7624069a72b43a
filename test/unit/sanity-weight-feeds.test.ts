/**
 * withWeights with `variable` (engines/onnx/weight-feeds.ts): the named weights become overridable
 * initializers fed at run time, so the sanity check's steps share one session per graph instead of loading
 * one each. Checked against the baked path (withWeights without `variable`, which sanity-weight-swap.test.ts
 * checks bit for bit against a fresh transform): the same gradients, layer gradients and scores, the
 * sessions opened once for a series of steps, released when no model uses them, and modelRandomization's
 * numbers unchanged.
 *
 * Tolerance: ONNX Runtime neither folds nor prepacks a weight that is an input, so the layers reading one
 * run another kernel and sum in another order. Float32 sums of K products round to within about K·ε of the
 * sum of their magnitudes; MobileNetV2's head sums K = 960 channels (960 × 6e-8 ≈ 6e-5), and the noise here
 * is of each tensor's full scale, so a sum cancels more than a trained one does. 1e-4 of the largest value
 * covers that (1.4e-5 seen) and still catches a wrong weight: the noise moves the gradients by ≥ 1e-2 of it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Model, WeightReplacer } from '../../src/core/model.js';
import { createRng, type Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import {
  type OrtSession,
  openInThisThread,
  type SessionOpener,
} from '../../src/engines/onnx/open-session.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { gaussianLike, modelRandomizations } from '../../src/metrics/sanity.js';
import { openOnnxModel } from '../../src/models/open.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

/** An opener that counts the sessions it opened and those released. */
function countingOpener(): SessionOpener & { opened: number; released: number } {
  const open = async (bytes: Uint8Array, options: Parameters<SessionOpener>[1]): Promise<OrtSession> => {
    const session = await openInThisThread(bytes, options);
    counting.opened++;
    const release = session.release.bind(session);
    session.release = async () => {
      counting.released++;
      await release();
    };
    return session;
  };
  const counting = Object.assign(open, { opened: 0, released: 0 });
  return counting;
}

async function open(name: string, opener?: SessionOpener): Promise<{ model: OnnxModel; input: Tensor }> {
  const bytes = new Uint8Array(await readFile(join(GOLDEN, `${name}.onnx`)));
  const model = await openOnnxModel(
    bytes,
    { outputs: 'logits', maxBatch: 2 },
    { intraOpThreads: 1, openSession: opener },
  );
  const { width, height } = model.spec;
  const rng = createRng(3);
  const input = {
    data: Float32Array.from({ length: 3 * width * height }, () => rng.next() * 2 - 1),
    dims: [1, 3, height, width],
  };
  return { model, input };
}

/** Seeded noise with each tensor's scale, for the weights of the first `layers` weight layers from the top. */
function noiseFor(model: OnnxModel, layers: number, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const out = new Map<string, Float32Array>();
  for (const layer of model.weightLayers().slice(0, layers)) {
    for (const name of layer.weights) {
      const old = model.weightValues(name);
      const scale = largest(old);
      out.set(
        name,
        old.map(() => (rng.next() * 2 - 1) * scale),
      );
    }
  }
  return out;
}

function largest(values: Float32Array): number {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

function expectClose(actual: Float32Array, expected: Float32Array, relative = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  const scale = largest(expected);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(relative * scale);
}

function differs(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / largest(b);
}

describe('withWeights with variable weights fed at run time', () => {
  it.each(['net_mobilenet_v2', 'net_tiny_resnet'])(
    '%s: cascading steps equal the baked path, and one session per graph serves them all',
    async (name) => {
      const opener = countingOpener();
      const { model, input } = await open(name, opener);
      const k = (await model.predict(input)).dims[1];
      const seed = { data: Float32Array.from({ length: k }, (_, i) => (i === 1 ? 1 : 0)), dims: [1, k] };
      const { defaultLayer } = await model.layers();
      const before = await model.inputGradients(input, seed);
      const steps = [1, 3, 6];
      const all = noiseFor(model, steps.at(-1)!, 11);
      const variable = [...all.keys()];
      const models: Model[] = [];
      try {
        const opened = opener.opened;
        for (const layers of steps) {
          const names = new Set(
            model
              .weightLayers()
              .slice(0, layers)
              .flatMap((l) => l.weights),
          );
          const replace: WeightReplacer = (n) => (names.has(n) ? all.get(n) : undefined);
          const fed = await model.withWeights(replace, { variable });
          const baked = await model.withWeights(replace);
          models.push(fed, baked);
          const a = await fed.inputGradients(input, seed);
          const b = await baked.inputGradients(input, seed);
          expectClose(a.gradients.data, b.gradients.data);
          expectClose(a.scores.data, b.scores.data);
          expect(differs(a.gradients.data, before.gradients.data)).toBeGreaterThan(1e-2);
          const la = await fed.layer(defaultLayer, input, seed);
          const lb = await baked.layer(defaultLayer, input, seed);
          expectClose(la.gradients!.data, lb.gradients!.data);
          expectClose(la.activations.data, lb.activations.data);
          expectClose((await fed.predict(input)).data, (await baked.predict(input)).data);
        }
        // Baked: a gradient, a layer and a forward session per step. Fed: those three once, for every step.
        expect(opener.opened - opened).toBe(3 * steps.length + 3);
        const fedOpened = opener.released;
        for (const m of models) await m.dispose();
        // The baked models' sessions close with them; the fed ones stay with the base for the next series.
        expect(opener.released - fedOpened).toBe(3 * steps.length);
        const reused = await model.withWeights((n) => all.get(n), { variable });
        await reused.inputGradients(input, seed);
        await reused.dispose();
        expect(opener.opened - opened).toBe(3 * steps.length + 3);
        // Other variable weights make new feeds; the old ones, unused, are released.
        const other = await model.withWeights((n) => all.get(n), { variable: variable.slice(1) });
        await other.inputGradients(input, seed);
        expect(opener.opened - opened).toBe(3 * steps.length + 4);
        expect(opener.released - fedOpened).toBe(3 * steps.length + 3);
        await other.dispose();
      } finally {
        for (const m of models) await m.dispose();
        await model.dispose();
      }
      expect(opener.released).toBe(opener.opened);
    },
  );

  it('keeps feeds that a live model uses until it is disposed, and refuses a name that is no weight', async () => {
    const opener = countingOpener();
    const { model, input } = await open('net_tiny_cnn', opener);
    try {
      const values = noiseFor(model, 2, 4);
      const variable = [...values.keys()];
      const first = await model.withWeights((n) => values.get(n), { variable });
      const k = (await model.predict(input)).dims[1];
      const seed = { data: new Float32Array(k).fill(1), dims: [1, k] };
      const expected = (await first.inputGradients(input, seed)).gradients.data;
      // New feeds replace these on the base, but `first` still runs on its own.
      const second = await model.withWeights((n) => values.get(n), { variable: variable.slice(1) });
      expect(Array.from((await first.inputGradients(input, seed)).gradients.data)).toEqual(
        Array.from(expected),
      );
      await first.dispose();
      await second.dispose();
      await expect(
        model.withWeights(() => undefined, { variable: ['no such weight'] }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await model.dispose();
    }
    expect(opener.released).toBe(opener.opened);
  });

  it('modelRandomization gives the numbers of the baked path', async () => {
    const { model, input } = await open('net_mobilenet_v2');
    // The same model, its withWeights without `variable`: each step bakes its weights (the path before feeds).
    const baked: Model = Object.assign(Object.create(model) as OnnxModel, {
      withWeights: (replace: WeightReplacer) => model.withWeights(replace),
    });
    try {
      const request = { input, target: 1, group: 'block' as const, layers: 4, seed: 3 };
      const methods = [{ method: 'gradient' }, { method: 'grad-cam' }];
      const fed = await modelRandomizations({ ...request, model, methods });
      const reference = await modelRandomizations({ ...request, model: baked, methods });
      for (const [i, r] of reference.entries()) {
        expect(r.steps.length).toBe(4);
        for (const [j, step] of r.steps.entries()) {
          const got = fed[i].steps[j];
          expect(got.layer).toBe(step.layer);
          expect(got.weights).toBe(step.weights);
          for (const key of ['spearmanAbs', 'spearman', 'ssim'] as const) {
            // NaN where a map is constant (Grad-CAM's, once its layer's weights are noise): NaN both ways.
            if (Number.isNaN(step[key])) expect(got[key]).toBeNaN();
            else expect(Math.abs(got[key] - step[key])).toBeLessThan(1e-4);
          }
        }
      }
    } finally {
      await model.dispose();
    }
  });
});

/**
 * The sanity noise's definition, which gaussianLike writes out inline for speed: a standard normal by
 * Box–Muller from two draws of the seeded generator (mulberry32, core/random.ts).
 */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

describe('gaussianLike', () => {
  it('draws what mean + std · gaussian(createRng(seed)) draws, bit for bit, carrying the state across tensors', () => {
    const rng = createRng(9);
    const tensors = [2000, 3, 1001].map((n) => Float32Array.from({ length: n }, () => rng.next() * 4 - 1));
    for (const seed of [0, 1, 0x9e3779b9, 0xffffffff]) {
      const stream = { state: seed };
      const reference = createRng(seed);
      for (const values of tensors) {
        const n = values.length;
        const mean = values.reduce((a, v) => a + v, 0) / n;
        const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
        const expected = Float32Array.from({ length: n }, () => mean + std * gaussian(reference));
        expect(Array.from(gaussianLike(values, stream))).toEqual(Array.from(expected));
      }
    }
  });
});
