/**
 * Checks one golden case (written by make_fixtures.py or zoo_export.py) against ONNX Runtime: the forward
 * output of the exported model, and the input gradient of the graph that Sightline's autodiff builds, both
 * against float64 PyTorch autograd. Shared by test/unit/golden.test.ts and scripts/zoo.ts so the two agree
 * on what "matches" means: max |ours − golden| ≤ rel · max |golden| + abs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as autodiffModule from '../../src/engines/onnx/autodiff/index.js';
import { decodeModel, encodeModel } from '../../src/engines/onnx/proto.js';
import type { NpyArray } from '../../src/io/npy.js';
import { readNpy } from '../../src/io/npy-file.js';

export interface Tolerance {
  readonly rel: number;
  readonly abs: number;
}

export interface GoldenMeta {
  readonly name: string;
  readonly description?: string;
  readonly model: string;
  readonly opset: number;
  readonly input: { name: string; shape: number[] };
  readonly output: { name: string; shape: number[] };
  readonly tolerances: { output: Tolerance; grad: Tolerance };
  readonly torch_float32?: { output_rel_error: number; grad_rel_error: number };
  readonly versions?: Record<string, string>;
  /** Zoo cases only: why the export failed (then no other file exists). */
  readonly export_error?: string;
}

export interface GoldenCase {
  readonly meta: GoldenMeta;
  readonly modelPath: string;
  readonly input: NpyArray;
  readonly seed: NpyArray;
  readonly output: NpyArray;
  readonly grad: NpyArray;
}

export interface Comparison {
  readonly maxAbsError: number;
  /** max |golden|. */
  readonly scale: number;
  /** maxAbsError / scale. */
  readonly relError: number;
  readonly bound: number;
  readonly pass: boolean;
}

/** The documented autodiff API, typed here so this file compiles before the module lands. */
/** The autodiff transform under test, imported statically so a moved or broken module fails loudly. */
export type Autodiff = Pick<typeof autodiffModule, 'addGradients' | 'differentiablePath'>;
export const autodiff: Autodiff = autodiffModule;

export async function listCases(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export async function readMeta(dir: string, name: string): Promise<GoldenMeta> {
  return JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as GoldenMeta;
}

export async function loadCase(dir: string, name: string): Promise<GoldenCase> {
  const meta = await readMeta(dir, name);
  const npy = (kind: string) => readNpy(join(dir, `${name}.${kind}.npy`));
  const [input, seed, output, grad] = await Promise.all([
    npy('input'),
    npy('seed'),
    npy('output'),
    npy('grad'),
  ]);
  return { meta, modelPath: join(dir, meta.model), input, seed, output, grad };
}

export function compare(actual: Float32Array, expected: Float32Array, tolerance: Tolerance): Comparison {
  if (actual.length !== expected.length) {
    throw new Error(`compare: ${actual.length} values against ${expected.length} expected`);
  }
  let maxAbsError = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    // NaN must fail, and NaN > x is false: count it as infinite error.
    maxAbsError = Math.max(maxAbsError, Number.isNaN(e) ? Number.POSITIVE_INFINITY : e);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  const bound = tolerance.rel * scale + tolerance.abs;
  return {
    maxAbsError,
    scale,
    relError: scale > 0 ? maxAbsError / scale : maxAbsError,
    bound,
    pass: maxAbsError <= bound,
  };
}

function sessionOptions(threads?: number): ort.InferenceSession.SessionOptions {
  return { graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) };
}

function tensor(array: NpyArray): ort.Tensor {
  return new ort.Tensor('float32', array.data, array.shape);
}

/** Runs the exported forward model and compares its output with the golden output. */
export async function checkForward(c: GoldenCase, threads?: number): Promise<Comparison> {
  const session = await ort.InferenceSession.create(c.modelPath, sessionOptions(threads));
  try {
    const result = await session.run({ [c.meta.input.name]: tensor(c.input) }, [c.meta.output.name]);
    return compare(result[c.meta.output.name].data as Float32Array, c.output.data, c.meta.tolerances.output);
  } finally {
    await session.release();
  }
}

export interface GradientCheck extends Comparison {
  /** The autodiff graph's own forward output against the golden output. */
  readonly output: Comparison;
  /** Seconds spent in addGradients, in the session's creation, and in one forward+backward run. */
  readonly seconds: { transform: number; session: number; run: number };
}

/** Builds the gradient graph with `autodiff`, runs it with the stored seed and compares the input gradient. */
export async function checkGradient(
  c: GoldenCase,
  autodiff: Autodiff,
  threads?: number,
): Promise<GradientCheck> {
  const model = decodeModel(await readFile(c.modelPath));
  let t0 = performance.now();
  const graph = await autodiff.addGradients(model, { input: c.meta.input.name, output: c.meta.output.name });
  const transform = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const session = await ort.InferenceSession.create(encodeModel(graph.model), sessionOptions(threads));
  const sessionSeconds = (performance.now() - t0) / 1000;
  try {
    t0 = performance.now();
    const result = await session.run(
      { [c.meta.input.name]: tensor(c.input), [graph.seedName]: tensor(c.seed) },
      [c.meta.output.name, graph.inputGradientName!],
    );
    const run = (performance.now() - t0) / 1000;
    const gradient = result[graph.inputGradientName!];
    if (gradient.dims.join(',') !== c.grad.shape.join(',')) {
      throw new Error(`the input gradient has shape [${gradient.dims}], expected [${c.grad.shape}]`);
    }
    return {
      ...compare(gradient.data as Float32Array, c.grad.data, c.meta.tolerances.grad),
      output: compare(
        result[c.meta.output.name].data as Float32Array,
        c.output.data,
        c.meta.tolerances.output,
      ),
      seconds: { transform, session: sessionSeconds, run },
    };
  } finally {
    await session.release();
  }
}

/** Op types on the differentiable path that have no gradient rule. */
export async function opsWithoutRules(c: GoldenCase, autodiff: Autodiff): Promise<string[]> {
  const model = decodeModel(await readFile(c.modelPath));
  const path = autodiff.differentiablePath(model, c.meta.input.name, [c.meta.output.name]);
  return [...new Set(path.unsupported.map((n) => n.opType))].sort();
}

/** The op types a model uses, for reports. */
export async function opTypes(modelPath: string): Promise<string[]> {
  const model = decodeModel(await readFile(modelPath));
  return [...new Set((model.graph?.node ?? []).map((n) => n.opType))].sort();
}

export function formatComparison(c: Comparison): string {
  return `max |err| ${c.maxAbsError.toExponential(2)} / max |golden| ${c.scale.toExponential(2)} = ${c.relError.toExponential(2)} (bound ${c.bound.toExponential(2)})`;
}
