import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { Model, ModelSpec } from '../core/model.js';
import { decodeModel, type ModelProto } from '../engines/onnx/proto.js';
import { type OnnxIo, OnnxModel } from '../engines/onnx/session.js';
import { gradientGraphCache, sha256 } from './cache.js';
import { loadDefaultModel } from './default-model.js';
import { readLabels } from './labels.js';
import { loadTfliteModel } from './tflite.js';

/** What a user can say about a model that the file itself does not (CLI flags, a sidecar JSON). */
export interface ModelHints {
  readonly width?: number;
  readonly height?: number;
  readonly layout?: 'NCHW' | 'NHWC';
  readonly channelOrder?: 'RGB' | 'BGR';
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly resize?: 'squash' | 'center-crop';
  readonly cropFraction?: number;
  /** Path of a labels file (text or JSON). */
  readonly labelsPath?: string;
  readonly labels?: readonly string[];
  readonly outputs?: 'probabilities' | 'logits';
  readonly maxBatch?: number;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * 'default' (the embedded ImageNet InceptionV3), an .onnx file, or a .tflite/.lite file. Preprocessing comes
 * from hints (flags), then a sidecar JSON beside the model (model.onnx → model.json), then the input's shape,
 * then ImageNet defaults.
 */
export async function loadModel(ref: string, hints: ModelHints = {}): Promise<Model> {
  if (ref === 'default') return loadDefaultModel(hints);
  try {
    await stat(ref);
  } catch {
    throw invalidArgument('model', "'default' or the path of an existing .onnx or .tflite file", ref);
  }
  const merged = { ...(await readSidecar(ref)), ...dropUndefined(hints) };
  const ext = extname(ref).toLowerCase();
  if (ext === '.tflite' || ext === '.lite')
    return loadTfliteModel(new Uint8Array(await readFile(ref)), merged);
  if (ext === '.onnx') {
    const bytes = new Uint8Array(await readFile(ref));
    const labels = merged.labels ?? (merged.labelsPath ? await readLabels(merged.labelsPath) : []);
    const outputs = merged.outputs ?? guessOutputs(decodeModel(bytes));
    return OnnxModel.create(bytes, (io) => specFromIo(io, { ...merged, labels, outputs }), {
      maxBatch: merged.maxBatch,
      gradientCache: gradientGraphCache(() => sha256(bytes).slice(0, 24)),
    });
  }
  throw invalidArgument('model', "a file ending in .onnx, .tflite or .lite (or 'default')", ref);
}

/** Fills a spec from the model's one image input and the hints. */
export function specFromIo(
  io: OnnxIo,
  hints: ModelHints & { labels: readonly string[]; outputs: ModelSpec['outputs'] },
): ModelSpec {
  const images = io.inputs.filter((i) => i.dims.length === 4);
  if (images.length !== 1 || io.inputs.length !== 1) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Expected a model with one image input of rank 4 ([N, 3, H, W] or [N, H, W, 3]); its inputs are ${io.inputs.map((i) => `'${i.name}' [${i.dims.join(', ')}]`).join(', ')}.`,
    );
  }
  const input = images[0];
  const dims = input.dims;
  const layout = hints.layout ?? (dims[1] === 3 ? 'NCHW' : dims[3] === 3 ? 'NHWC' : undefined);
  if (!layout) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Cannot tell the layout of input '${input.name}' [${dims.join(', ')}]; pass --layout NCHW or NHWC.`,
    );
  }
  const [h, w] = layout === 'NCHW' ? [dims[2], dims[3]] : [dims[1], dims[2]];
  const width = hints.width ?? (typeof w === 'number' && w > 0 ? w : undefined);
  const height = hints.height ?? (typeof h === 'number' && h > 0 ? h : undefined);
  if (!width || !height) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Input '${input.name}' [${dims.join(', ')}] has no fixed size; pass --input-size (e.g. 224 or 224x224).`,
    );
  }
  return {
    inputName: input.name,
    layout,
    width,
    height,
    channelOrder: hints.channelOrder ?? 'RGB',
    mean: triple('mean', hints.mean ?? IMAGENET_MEAN),
    std: triple('std', hints.std ?? IMAGENET_STD),
    resize: hints.resize ?? 'squash',
    cropFraction: hints.cropFraction ?? 0.875,
    labels: hints.labels,
    outputs: hints.outputs,
  };
}

export function triple(name: string, values: readonly number[]): [number, number, number] {
  const v = values.length === 1 ? [values[0], values[0], values[0]] : values;
  if (v.length !== 3 || v.some((x) => !Number.isFinite(x)))
    throw invalidArgument(name, 'one or three finite numbers', values);
  if (name === 'std' && v.some((x) => x <= 0)) throw invalidArgument(name, 'positive numbers', values);
  return [v[0], v[1], v[2]];
}

/** A Softmax at the end of the graph means the scores are probabilities already. */
export function guessOutputs(model: ModelProto): ModelSpec['outputs'] {
  const graph = model.graph;
  const output = graph?.output?.[0]?.name;
  const producer = graph?.node?.find((n) => n.output?.includes(output ?? ''));
  return producer?.opType === 'Softmax' ? 'probabilities' : 'logits';
}

async function readSidecar(modelPath: string): Promise<ModelHints> {
  const path = modelPath.replace(/\.[^./\\]+$/, '.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as ModelHints;
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The model's sidecar '${path}' is not valid JSON: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
