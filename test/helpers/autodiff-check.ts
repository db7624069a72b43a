/**
 * Finite-difference checks for the ONNX autodiff transform. The forward graph runs in float32, so the
 * check uses central differences with a step that keeps rounding small, sums seed ⊙ output in float64,
 * and stacks every perturbed copy into one batch (one ORT call for the whole numerical gradient).
 */
import * as ort from 'onnxruntime-node';
import { createRng } from '../../src/core/random.js';
import {
  addGradients,
  type GradientGraph,
  type GradientGraphOptions,
} from '../../src/engines/onnx/autodiff/index.js';
import { decodeModel, encodeModel, type ModelProto } from '../../src/engines/onnx/proto.js';

export interface GradientCase {
  /** The input, batch first. */
  readonly x: Float32Array;
  readonly dims: readonly number[];
  /** Finite-difference step. */
  readonly step?: number;
  readonly options?: GradientGraphOptions;
  /** Run each perturbed copy on its own (for graphs that mix the batch, such as softmax over axis 0). */
  readonly separate?: boolean;
}

export interface GradientComparison {
  readonly analytic: Float32Array;
  readonly numeric: Float64Array;
  /** max |analytic − numeric| / max(|numeric|, 1e-3 scale floor). */
  readonly error: number;
  readonly graph: GradientGraph;
}

/** Uniform values in [lo, hi) from a seed. */
export function randomTensor(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => lo + (hi - lo) * rng.next());
}

/** Distinct values in random order spaced by `gap` (for max pooling: no near-ties within a step). */
export function distinctTensor(size: number, seed: number, gap = 0.05): Float32Array {
  const rng = createRng(seed);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Float32Array.from(order, (v) => (v - size / 2) * gap);
}

export async function session(model: ModelProto): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: 2 });
}

export async function runGradient(
  graph: GradientGraph,
  x: Float32Array,
  dims: readonly number[],
  seed: Float32Array,
  seedDims: readonly number[],
  inputName = 'x',
): Promise<Record<string, ort.Tensor>> {
  const s = await session(graph.model);
  try {
    return (await s.run({
      [inputName]: new ort.Tensor('float32', x, [...dims]),
      [graph.seedName]: new ort.Tensor('float32', seed, [...seedDims]),
    })) as Record<string, ort.Tensor>;
  } finally {
    await s.release();
  }
}

/** Forward outputs for a batch. */
export async function forward(
  model: ModelProto,
  x: Float32Array,
  dims: readonly number[],
  inputName = 'x',
): Promise<ort.Tensor> {
  const s = await session(model);
  try {
    const out = await s.run({ [inputName]: new ort.Tensor('float32', x, [...dims]) });
    return out[s.outputNames[0]] as ort.Tensor;
  } finally {
    await s.release();
  }
}

/** Analytic gradient (from the transformed graph) against central differences, for a batch-1 input. */
export async function compareGradient(model: ModelProto, c: GradientCase): Promise<GradientComparison> {
  const step = c.step ?? 1e-2;
  const inputName = c.options?.input ?? 'x';
  const per = c.x.length;
  const base = await forward(model, c.x, c.dims, inputName);
  const outDims = base.dims;
  const seed = randomTensor(base.data.length, 7, 0.5, 1.5);
  // Through the wire format, as models arrive from files (the decoder drops fields that hold defaults).
  const graph = await addGradients(decodeModel(encodeModel(model)), c.options);
  const result = await runGradient(graph, c.x, c.dims, seed, outDims, inputName);
  const analytic = result[graph.inputGradientName!].data as Float32Array;

  const batch = new Float32Array(2 * per * per);
  for (let i = 0; i < per; i++) {
    batch.set(c.x, 2 * i * per);
    batch.set(c.x, (2 * i + 1) * per);
    batch[2 * i * per + i] += step;
    batch[(2 * i + 1) * per + i] -= step;
  }
  const k = base.data.length;
  const out = c.separate
    ? await forwardEach(model, batch, c.dims, 2 * per, inputName)
    : ((await forward(model, batch, [2 * per, ...c.dims.slice(1)], inputName)).data as Float32Array);
  const numeric = new Float64Array(per);
  for (let i = 0; i < per; i++) {
    let plus = 0;
    let minus = 0;
    for (let j = 0; j < k; j++) {
      plus += seed[j] * out[2 * i * k + j];
      minus += seed[j] * out[(2 * i + 1) * k + j];
    }
    numeric[i] = (plus - minus) / (2 * step);
  }
  let worst = 0;
  let scale = 1e-3;
  for (let i = 0; i < per; i++) {
    worst = Math.max(worst, Math.abs(analytic[i] - numeric[i]));
    scale = Math.max(scale, Math.abs(numeric[i]));
  }
  return { analytic, numeric, error: worst / scale, graph };
}

async function forwardEach(
  model: ModelProto,
  batch: Float32Array,
  dims: readonly number[],
  copies: number,
  inputName: string,
): Promise<Float32Array> {
  const s = await session(model);
  try {
    const per = batch.length / copies;
    const parts: Float32Array[] = [];
    for (let i = 0; i < copies; i++) {
      const x = batch.subarray(i * per, (i + 1) * per);
      const out = await s.run({ [inputName]: new ort.Tensor('float32', x, [...dims]) });
      parts.push(out[s.outputNames[0]].data as Float32Array);
    }
    const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.forEach((p, i) => {
      joined.set(p, i * p.length);
    });
    return joined;
  } finally {
    await s.release();
  }
}
