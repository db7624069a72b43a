// Opening a model from bytes already in memory: shared by the Node loaders (which read files and cache) and the
// browser (which gets bytes from a drop or a fetch).
import type { ModelSpec } from '../core/model.js';
import { decodeModel, encodeModel } from '../engines/onnx/proto.js';
import { OnnxModel, type OnnxModelOptions } from '../engines/onnx/session.js';
import { convertTflite } from '../engines/tflite/index.js';
import { guessOutputs, type ModelHints, specFromIo, tfliteHints } from './spec.js';

/** An ONNX model's bytes and what the user says about it → a model; labels must already be read. */
export function openOnnxModel(
  bytes: Uint8Array,
  hints: ModelHints,
  options: OnnxModelOptions = {},
): Promise<OnnxModel> {
  const outputs = hints.outputs ?? guessOutputs(decodeModel(bytes));
  return OnnxModel.create(
    bytes,
    (io) => specFromIo(io, { ...hints, labels: hints.labels ?? [], outputs }) satisfies ModelSpec,
    { maxBatch: hints.maxBatch, ...options },
  );
}

/** What converting a TFLite file yields that a model needs: the ONNX bytes and the facts the file implied. */
export interface ConvertedTfliteModel {
  readonly bytes: Uint8Array;
  readonly quantizedInput?: { scale: number; zeroPoint: number };
  readonly outputs: ModelSpec['outputs'];
}

/** Converts a TFLite file to ONNX in memory (models/tflite.ts adds a disk cache around this). */
export function convertTfliteModel(tflite: Uint8Array): ConvertedTfliteModel {
  const converted = convertTflite(tflite);
  return {
    bytes: encodeModel(converted.model),
    quantizedInput: converted.inputQuantization,
    outputs: guessOutputs(converted.model),
  };
}

export function openConvertedTflite(
  converted: ConvertedTfliteModel,
  hints: ModelHints,
  options: OnnxModelOptions = {},
): Promise<OnnxModel> {
  return openOnnxModel(
    converted.bytes,
    { ...tfliteHints(hints, converted.quantizedInput), outputs: hints.outputs ?? converted.outputs },
    options,
  );
}

/** The graph inputs an ONNX file declares (weights excluded), read without starting a runtime. */
export function modelInputs(bytes: Uint8Array): { name: string; dims: (number | string)[] }[] {
  const graph = decodeModel(bytes).graph;
  const weights = new Set((graph?.initializer ?? []).map((t) => t.name));
  return (graph?.input ?? [])
    .filter((v) => v.name && !weights.has(v.name))
    .map((v) => ({
      name: v.name ?? '',
      dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
        d.dimValue !== undefined ? Number(d.dimValue) : (d.dimParam ?? '?'),
      ),
    }));
}
