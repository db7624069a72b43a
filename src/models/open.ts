// Opening a model from bytes already in memory: shared by the Node loaders (which read files and cache) and the
// browser (which gets bytes from a drop or a fetch).
import { messageOf, SightlineError } from '../core/errors.js';
import type { ModelSpec } from '../core/model.js';
import { decodeModel, encodeModel, type ModelProto } from '../engines/onnx/proto.js';
import { OnnxModel, type OnnxModelOptions } from '../engines/onnx/session.js';
import { convertTflite } from '../engines/tflite/index.js';
import { finalOp, guessOutputs, type ModelHints, specFromIo, tfliteHints } from './spec.js';
import { ultralyticsHints } from './ultralytics.js';

export interface OpenModelOptions extends OnnxModelOptions {
  /** How messages name the model: its path or file name. Default "the model". */
  readonly name?: string;
}

const EXPECTED_ONNX = 'expected an ONNX file as torch.onnx.export, tf2onnx or onnx.save write it';

/**
 * An ONNX file's bytes → its ModelProto, or a MODEL_LOAD error naming the file: random bytes, a truncated file
 * or a length that runs past the end are refused here, before ONNX Runtime sees them.
 */
export function decodeOnnxModel(bytes: Uint8Array, name?: string): ModelProto {
  const subject = name === undefined ? 'The model' : `'${name}'`;
  const refuse = (what: string, cause?: unknown) =>
    new SightlineError(
      'MODEL_LOAD',
      `${subject} is not a valid ONNX model (${what}); ${EXPECTED_ONNX}.`,
      { name },
      cause === undefined ? undefined : { cause },
    );
  if (bytes.length === 0) throw refuse('it is empty');
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (cause) {
    if (cause instanceof SightlineError) throw refuse(cause.message, cause);
    // decodeModel's wire-format walk names the byte where a truncated file or a lying length runs out, or
    // where bytes that are not protobuf at all show an invalid wire type.
    throw refuse(`its protobuf encoding is broken: ${messageOf(cause)}`, cause);
  }
  if (!model.graph) throw refuse('it holds no graph');
  if (!model.graph.output?.length) throw refuse('its graph declares no outputs');
  return model;
}

/** An ONNX model's bytes and what the user says about it → a model; labels must already be read. */
export async function openOnnxModel(
  bytes: Uint8Array,
  hints: ModelHints,
  options: OpenModelOptions = {},
): Promise<OnnxModel> {
  const { name, ...sessionOptions } = options;
  const proto = decodeOnnxModel(bytes, name);
  const last = finalOp(proto);
  // What the user says wins over what an Ultralytics export's metadata says about itself.
  const own = ultralyticsHints(proto) as Record<string, unknown>;
  const given = Object.fromEntries(Object.entries(hints).filter(([, v]) => v !== undefined));
  const merged = { ...own, ...given } as ModelHints;
  try {
    return await OnnxModel.create(
      bytes,
      (io) => specFromIo(io, { ...merged, labels: merged.labels ?? [], finalOp: last }) satisfies ModelSpec,
      { maxBatch: hints.maxBatch, ...sessionOptions },
    );
  } catch (error) {
    // ONNX Runtime's own reasons can run over several lines; the CLI prints one paragraph that names the file.
    if (error instanceof SightlineError && error.code === 'MODEL_LOAD' && name !== undefined) {
      throw new SightlineError(
        'MODEL_LOAD',
        `'${name}': ${error.message.replace(/\s*\n\s*/g, ' ')}`,
        { ...error.details, name },
        { cause: error },
      );
    }
    throw error;
  }
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
  options: OpenModelOptions = {},
): Promise<OnnxModel> {
  return openOnnxModel(
    converted.bytes,
    // The converted graph's end (read again by openOnnxModel) says what converted.outputs says, and the task.
    tfliteHints(hints, converted.quantizedInput),
    options,
  );
}

/** The graph inputs an ONNX file declares (weights excluded), read without starting a runtime. */
export function modelInputs(bytes: Uint8Array, name?: string): { name: string; dims: (number | string)[] }[] {
  const graph = decodeOnnxModel(bytes, name).graph;
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
