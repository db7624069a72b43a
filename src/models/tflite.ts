import { basename, dirname, join } from 'node:path';
import type { Model, ModelSpec } from '../core/model.js';
import { encodeModel } from '../engines/onnx/proto.js';
import { OnnxModel } from '../engines/onnx/session.js';
import { convertTflite } from '../engines/tflite/index.js';
import { cachedEntry, gradientGraphCache, sha256 } from './cache.js';
import { readLabels } from './labels.js';
import type { ModelHints } from './load.js';
import { guessOutputs, IMAGENET_MEAN, IMAGENET_STD, specFromIo, triple } from './load.js';

/** Bumped whenever the converter's output changes, so stale cached conversions are not reused. */
export const CONVERTER_VERSION = 1;

export interface ConvertedTflite {
  /** The cached ONNX file. */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Input normalisation implied by a quantized uint8 input (real = scale · (q − zero point)). */
  readonly quantizedInput?: { scale: number; zeroPoint: number };
  readonly outputs: ModelSpec['outputs'];
  readonly fromCache: boolean;
}

/** What the converted model's user needs to know that the ONNX file does not say. */
interface Facts {
  quantizedInput?: { scale: number; zeroPoint: number };
  outputs: ModelSpec['outputs'];
}

/** Converts a TFLite file to ONNX once and keeps the result under the cache, keyed by the source's hash. */
export async function convertTfliteCached(tflite: Uint8Array): Promise<ConvertedTflite> {
  const key = `${sha256(tflite).slice(0, 24)}-v${CONVERTER_VERSION}`;
  const entry = await cachedEntry(key, () => {
    const converted = convertTflite(tflite);
    const facts: Facts = {
      quantizedInput: converted.inputQuantization,
      outputs: guessOutputs(converted.model),
    };
    return {
      'model.onnx': encodeModel(converted.model),
      'facts.json': new TextEncoder().encode(JSON.stringify(facts)),
    };
  });
  const facts = JSON.parse(new TextDecoder().decode(entry.files['facts.json'])) as Facts;
  return {
    path: join(entry.dir, 'model.onnx'),
    bytes: entry.files['model.onnx'],
    ...facts,
    fromCache: entry.hit,
  };
}

export async function loadTfliteModel(tflite: Uint8Array, hints: ModelHints): Promise<Model> {
  const converted = await convertTfliteCached(tflite);
  const labels = hints.labels ?? (hints.labelsPath ? await readLabels(hints.labelsPath) : []);
  const q = converted.quantizedInput;
  // A uint8 input quantized as scale · (q − zp) takes pixels directly, which is (p/255 − zp/255) / (1 / (255 · scale)).
  const mean = hints.mean ?? (q ? [q.zeroPoint / 255] : IMAGENET_MEAN);
  const std = hints.std ?? (q ? [1 / (255 * q.scale)] : IMAGENET_STD);
  return OnnxModel.create(
    converted.path,
    (io) =>
      specFromIo(io, {
        ...hints,
        layout: 'NHWC',
        mean: triple('mean', mean),
        std: triple('std', std),
        labels,
        outputs: hints.outputs ?? converted.outputs,
      }) satisfies ModelSpec,
    { maxBatch: hints.maxBatch, gradientCache: gradientGraphCache(() => basename(dirname(converted.path))) },
  );
}
