import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addGradients } from '../../src/engines/onnx/autodiff/index.js';
import { attr, decodeModel, encodeModel } from '../../src/engines/onnx/proto.js';
import { readNpy } from '../../src/io/npy-file.js';
import { defaultModelFiles } from '../../src/models/default-model.js';
import { parseLabels } from '../../src/models/labels.js';
import { loadModel } from '../../src/models/load.js';
import { convertTfliteCached } from '../../src/models/tflite.js';
import { graph, node, weights } from '../helpers/autodiff-graphs.js';

describe('converted-model cache', () => {
  const saved = process.env.SIGHTLINE_CACHE_DIR;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-cache-'));
    process.env.SIGHTLINE_CACHE_DIR = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SIGHTLINE_CACHE_DIR;
    else process.env.SIGHTLINE_CACHE_DIR = saved;
  });

  it('converts the default model once, keyed by its hash, then reuses the stored entry', async () => {
    const tflite = new Uint8Array(await readFile(defaultModelFiles().model));
    const first = await convertTfliteCached(tflite);
    expect(first.fromCache).toBe(false);
    expect(first.quantizedInput).toEqual({ scale: 1 / 128, zeroPoint: 128 });
    expect(first.outputs).toBe('logits');
    const entries = await readdir(join(dir, 'models'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^[0-9a-f]{24}-v\d+$/);
    const second = await convertTfliteCached(tflite);
    expect(second.fromCache).toBe(true);
    expect(second.path).toBe(first.path);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(second.quantizedInput).toEqual(first.quantizedInput);
  });
});

describe('gradient graph cache', () => {
  const saved = process.env.SIGHTLINE_CACHE_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.SIGHTLINE_CACHE_DIR;
    else process.env.SIGHTLINE_CACHE_DIR = saved;
  });

  it('stores each gradient graph once under the model’s hash and reuses it in a new process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sightline-gcache-'));
    process.env.SIGHTLINE_CACHE_DIR = dir;
    const golden = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
    const x = await readNpy(join(golden, 'net_tiny_cnn.input.npy'));
    const seed = await readNpy(join(golden, 'net_tiny_cnn.seed.npy'));
    const run = async () => {
      const model = await loadModel(join(golden, 'net_tiny_cnn.onnx'), { maxBatch: 2 });
      const result = await model.inputGradients!(
        { data: x.data, dims: x.shape },
        { data: seed.data, dims: seed.shape },
      );
      await model.dispose();
      return result.gradients.data;
    };
    const first = await run();
    // One entry for the input-gradient graph, one for the model's shape probe (graph.json alone).
    const entries = await gradEntries(dir);
    expect(entries.map((e) => e.files)).toEqual([['graph.json'], ['graph.json', 'model.onnx']]);
    const graph = join(entries[1].dir, 'model.onnx');
    const stamp = (await stat(graph)).mtimeMs;
    const second = await run();
    expect(second).toEqual(first);
    expect((await stat(graph)).mtimeMs).toBe(stamp);
    expect(await gradEntries(dir)).toHaveLength(2);
  });

  it('keeps the shape probe with the graphs, so a new process lists layers without running the model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sightline-pcache-'));
    process.env.SIGHTLINE_CACHE_DIR = dir;
    const path = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));
    const first = await loadModel(path, { maxBatch: 2 });
    const { layers, defaultLayer } = await first.layers!();
    await first.dispose();
    const truth = layers.find((l) => l.name === defaultLayer)!;
    expect(truth.dims.length).toBe(4);
    const [probe] = await gradEntries(dir);
    expect(probe.files).toEqual(['graph.json']);
    // Give the stored probe a wrong channel count: a model that ran the probe again would report the true one.
    const file = join(probe.dir, 'graph.json');
    const stored = JSON.parse(await readFile(file, 'utf8')) as { shapes: [string, number[], boolean[]][] };
    const entry = stored.shapes.find(([name]) => name === defaultLayer)!;
    expect(entry[1]).toEqual([1, ...truth.dims.slice(1)]);
    entry[1] = [1, 77, ...entry[1].slice(2)];
    await writeFile(file, JSON.stringify(stored));
    const second = await loadModel(path, { maxBatch: 2 });
    const again = await second.layers!();
    await second.dispose();
    expect(again.layers.find((l) => l.name === defaultLayer)!.dims.slice(0, 2)).toEqual([truth.dims[0], 77]);
  });

  it('stores a graph that only appends to the model as the additions alone, and reads it back whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sightline-tail-'));
    process.env.SIGHTLINE_CACHE_DIR = dir;
    // x [N, 3, 8, 8] → Conv (weights large enough that a second copy would show) → GlobalAveragePool → Flatten.
    const path = join(dir, 'conv.onnx');
    const proto = graph({
      input: [3, 8, 8],
      nodes: [
        node('Conv', ['x', 'w'], [attr('pads', [1, 1, 1, 1])]),
        node('GlobalAveragePool', ['conv_out']),
        node('Flatten', ['globalaveragepool_out']),
      ],
      initializers: [weights('w', [64, 3, 3, 3], 5)],
    });
    await writeFile(path, encodeModel(proto));
    const x = { data: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i)), dims: [1, 3, 8, 8] };
    const seed = { data: Float32Array.from({ length: 64 }, (_, i) => (i % 3) - 1), dims: [1, 64] };
    const run = async () => {
      const model = await loadModel(path, { labels: Array.from({ length: 64 }, (_, i) => `c${i}`) });
      const result = await model.inputGradients!(x, seed);
      await model.dispose();
      return result.gradients.data;
    };
    const first = await run();
    const [, stored] = await gradEntries(dir);
    expect(JSON.parse(await readFile(join(stored.dir, 'graph.json'), 'utf8')).appended).toBe(true);
    // The stored file is what follows the model's own bytes in the full graph, nothing more.
    const source = new Uint8Array(await readFile(path));
    const full = (await addGradients(decodeModel(source))).encode();
    expect(Buffer.from(full.subarray(0, source.length)).equals(Buffer.from(source))).toBe(true);
    const tail = new Uint8Array(await readFile(join(stored.dir, 'model.onnx')));
    expect(Buffer.from(tail).equals(Buffer.from(full.subarray(source.length)))).toBe(true);
    // The gradient is the conv's transpose applied to the seed spread over each 8×8 map: compare with the
    // graph built in memory and run whole.
    const whole = await addGradients(proto);
    const session = await ort.InferenceSession.create(encodeModel(whole.model));
    const expected = (
      await session.run({
        x: new ort.Tensor('float32', x.data, x.dims),
        sightline_seed: new ort.Tensor('float32', seed.data, seed.dims),
      })
    ).sightline_input_gradient.data as Float32Array;
    await session.release();
    expect(first).toEqual(expected);
    expect(await run()).toEqual(expected);
  });

  it('rebuilds a damaged stored probe instead of trusting it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sightline-pcache-'));
    process.env.SIGHTLINE_CACHE_DIR = dir;
    const path = fileURLToPath(new URL('../fixtures/golden/net_tiny_cnn.onnx', import.meta.url));
    const first = await loadModel(path, { maxBatch: 2 });
    const truth = await first.layers!();
    await first.dispose();
    const [probe] = await gradEntries(dir);
    await writeFile(join(probe.dir, 'graph.json'), '{"shapes": [["x", [-1], "no"]]}');
    const second = await loadModel(path, { maxBatch: 2 });
    expect(await second.layers!()).toEqual(truth);
    await second.dispose();
  });
});

/** The gradient-graph entries under the cache, the probe (graph.json alone) first. */
async function gradEntries(dir: string): Promise<{ dir: string; files: string[] }[]> {
  const names = (await readdir(join(dir, 'models'))).filter((e) => e.includes('-grad-'));
  const entries = await Promise.all(
    names.map(async (name) => ({
      dir: join(dir, 'models', name),
      files: (await readdir(join(dir, 'models', name))).sort(),
    })),
  );
  return entries.sort((a, b) => a.files.length - b.files.length);
}

describe('labels', () => {
  it('reads text, JSON lists, index maps and Keras [wnid, name] pairs', () => {
    expect(parseLabels('cat\ndog\n\n')).toEqual(['cat', 'dog']);
    expect(parseLabels('["cat", "dog"]')).toEqual(['cat', 'dog']);
    expect(parseLabels('{"1": "dog", "0": "cat"}')).toEqual(['cat', 'dog']);
    expect(parseLabels('{"0": ["n02123045", "tabby"]}')).toEqual(['tabby']);
    expect(parseLabels('{"labels": ["a", "b"]}')).toEqual(['a', 'b']);
    expect(() => parseLabels('{"x": "cat"}', 'l.json')).toThrow(
      /'l\.json' maps 'x', which is not a class index/,
    );
    expect(() => parseLabels('[oops', 'l.json')).toThrow(/looks like JSON but does not parse/);
  });
});
