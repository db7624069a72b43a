/**
 * Model randomization swaps weights in the graphs already made (session.ts withWeights, weights.ts
 * withInitializers) instead of running the autodiff transform again for every step. That is only right if
 * the backward nodes read every weight through nodes over its initializer (autodiff/rules), never as a
 * constant computed from it at transform time. Checked on the golden fixtures whose rules read weights
 * (BatchNormalization, MatMul, Gemm, LayerNormalization, PRelu, Conv of every kind, and whole small networks):
 * the gradient graph of the original model with its weights swapped must give the numbers, bit for bit, that
 * the graph the transform makes from the randomized model gives, and they must differ from the original
 * model's (so the swap reached the backward pass).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadCase } from '../../scripts/golden/check.js';
import { createRng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { addGradients } from '../../src/engines/onnx/autodiff/index.js';
import { decodeModel, tensorFloats } from '../../src/engines/onnx/proto.js';
import type { GradientGraphCache, OnnxModel } from '../../src/engines/onnx/session.js';
import { withInitializers } from '../../src/engines/onnx/weights.js';
import { openOnnxModel } from '../../src/models/open.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

/**
 * Every float32 initializer of more than one element (what weightLayers offers for randomization) scaled
 * elementwise by a seeded factor in [0.5, 1.5): new values everywhere, and a BatchNormalization's variance
 * stays positive.
 */
function perturbed(bytes: Uint8Array, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const values = new Map<string, Float32Array>();
  for (const t of decodeModel(bytes).graph?.initializer ?? []) {
    if (t.dataType !== 1 || !t.name) continue;
    const old = tensorFloats(t);
    if (old.length > 1)
      values.set(
        t.name,
        old.map((v) => v * (0.5 + rng.next())),
      );
  }
  return values;
}

async function run(bytes: Uint8Array, feeds: Record<string, Tensor>, fetch: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
  });
  try {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.dims as number[])]),
    );
    return (await session.run(inputs, [fetch]))[fetch].data as Float32Array;
  } finally {
    await session.release();
  }
}

const FIXTURES = [
  'batchnorm',
  'linear_matmul',
  'linear_gemm',
  'linear_nobias',
  'layernorm',
  'layernorm_opset13',
  'prelu_channel',
  'conv_basic',
  'conv_depthwise',
  'conv_groups_stride2_dilation',
  'conv_stride2_odd',
  'net_tiny_cnn',
  'net_tiny_resnet',
  'net_mobilenet_v2',
  'net_shufflenet_v2',
  'net_tiny_vit',
];

describe('swapped weights in a made gradient graph equal a fresh transform of the randomized model', () => {
  const paths = new Set<string>();
  it.each(FIXTURES)('%s', async (name) => {
    const c = await loadCase(GOLDEN, name);
    const bytes = new Uint8Array(await readFile(c.modelPath));
    const io = { input: c.meta.input.name, output: c.meta.output.name };
    const values = perturbed(bytes, 17);
    expect(values.size).toBeGreaterThan(0);

    const graph = await addGradients(decodeModel(bytes), io);
    const tail = graph.tail();
    // Both ways the stored graphs come: the model's bytes plus the additions, or (opset raised) the whole graph.
    paths.add(tail ? 'appended' : 'whole');
    const swapped = tail ? withInitializers(bytes, values, tail) : withInitializers(graph.encode(), values);
    const randomized = withInitializers(bytes, values);
    const fresh = await addGradients(decodeModel(randomized), io);

    const feeds = {
      [io.input]: { data: c.input.data, dims: c.input.shape },
      [graph.seedName]: { data: c.seed.data, dims: c.seed.shape },
    };
    const gradient = graph.inputGradientName!;
    const ours = await run(swapped, feeds, gradient);
    const expected = await run(fresh.encode(), feeds, gradient);
    const original = await run(graph.encode(), feeds, gradient);
    expect(ours.length).toBe(c.grad.data.length);
    expect(Array.from(ours)).toEqual(Array.from(expected));
    expect(ours.some((v, i) => v !== original[i])).toBe(true);
    // Its forward output is the fresh graph's too (a forward-only session may fuse differently, so not that).
    expect(Array.from(await run(swapped, feeds, io.output))).toEqual(
      Array.from(await run(fresh.encode(), feeds, io.output)),
    );
  });
  it('covered both stored forms', () => expect([...paths].sort()).toEqual(['appended', 'whole']));
});

/** A GradientGraphCache kept in memory that counts the graphs and probes it had to make. */
function countingCache(): GradientGraphCache & { made: string[] } {
  const stored = new Map<string, { model: Uint8Array; meta: string }>();
  const made: string[] = [];
  return {
    made,
    async load(key, make) {
      let entry = stored.get(key);
      if (!entry) {
        made.push(key);
        entry = await make();
        stored.set(key, entry);
      }
      return entry;
    },
  };
}

describe('OnnxModel.withWeights runs the base model’s graphs with the new weights', () => {
  it.each(['net_mobilenet_v2', 'net_tiny_vit'])(
    '%s: input gradients and a layer’s gradients equal a freshly opened randomized model’s',
    async (name) => {
      const c = await loadCase(GOLDEN, name);
      const bytes = new Uint8Array(await readFile(c.modelPath));
      const cache = countingCache();
      const hints = { outputs: 'logits' as const, maxBatch: 2 };
      const options = { intraOpThreads: 1 };
      const base = await openOnnxModel(bytes, hints, { ...options, gradientCache: cache });
      const input = { data: c.input.data, dims: c.input.shape };
      const seed = { data: c.seed.data, dims: c.seed.shape };
      const { defaultLayer } = await base.layers();
      const models: OnnxModel[] = [];
      try {
        const before = await base.inputGradients(input, seed);
        const afterFirst = cache.made.length;
        for (const step of [1, 2, 3]) {
          const values = perturbed(bytes, step);
          const child = await base.withWeights((n) => values.get(n));
          const fresh = await openOnnxModel(withInitializers(bytes, values), hints, options);
          models.push(child, fresh);
          const a = await child.inputGradients(input, seed);
          const b = await fresh.inputGradients(input, seed);
          expect(Array.from(a.gradients.data)).toEqual(Array.from(b.gradients.data));
          expect(Array.from(a.scores.data)).toEqual(Array.from(b.scores.data));
          expect(a.gradients.data.some((v, i) => v !== before.gradients.data[i])).toBe(true);
          // Plain scores load the forward graph on first use (lazy-session.ts), with the new weights too.
          expect(Array.from((await child.predict(input)).data)).toEqual(
            Array.from((await fresh.predict(input)).data),
          );
          const la = await child.layer(defaultLayer, input, seed);
          const lb = await fresh.layer(defaultLayer, input, seed);
          expect(Array.from(la.gradients!.data)).toEqual(Array.from(lb.gradients!.data));
          expect(Array.from(la.activations.data)).toEqual(Array.from(lb.activations.data));
          // A model made from a randomized one swaps the base's graphs too, with both sets of new weights.
          const first = [...values.keys()][0];
          const grandchild = await child.withWeights((n) =>
            n === first ? values.get(n)!.map((v) => -v) : undefined,
          );
          models.push(grandchild);
          const both = new Map(values).set(
            first,
            values.get(first)!.map((v) => -v),
          );
          const freshBoth = await openOnnxModel(withInitializers(bytes, both), hints, options);
          models.push(freshBoth);
          expect(Array.from((await grandchild.inputGradients(input, seed)).gradients.data)).toEqual(
            Array.from((await freshBoth.inputGradients(input, seed)).gradients.data),
          );
        }
        // The steps made no probe and ran the transform once per graph kind (the layer's), not once per step.
        expect(cache.made.length - afterFirst).toBe(1);
        expect(JSON.parse(cache.made.at(-1)!).layers).toBe(defaultLayer);
      } finally {
        for (const m of models) await m.dispose();
        await base.dispose();
      }
    },
  );
});

describe('withInitializers', () => {
  it('replaces only the named tensors, keeps the rest byte for byte, and refuses an unknown name', async () => {
    const bytes = new Uint8Array(await readFile(join(GOLDEN, 'linear_gemm.onnx')));
    const proto = decodeModel(bytes);
    const [w, b] = proto.graph!.initializer!;
    const values = new Map([[w.name!, tensorFloats(w).map((v) => v + 1)]]);
    const out = decodeModel(withInitializers(bytes, values));
    const [w2, b2] = out.graph!.initializer!;
    expect(w2.name).toBe(w.name);
    expect(w2.dims).toEqual(w.dims);
    expect(Array.from(tensorFloats(w2))).toEqual(Array.from(values.get(w.name!)!));
    expect(Array.from(tensorFloats(b2))).toEqual(Array.from(tensorFloats(b)));
    expect(out.graph!.node).toEqual(proto.graph!.node);
    expect(withInitializers(bytes, new Map())).toEqual(bytes);
    expect(() => withInitializers(bytes, new Map([['nope', new Float32Array(1)]]))).toThrow(/nope/);
  });
});
