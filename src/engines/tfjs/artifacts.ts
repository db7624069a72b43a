/**
 * What a TF.js model is made of: its model.json (a Layers topology or a Graph model, plus a weights manifest)
 * and the bytes of its weight files, one buffer per manifest group. No runtime and no I/O here, so the
 * browser can share it; models/tfjs.ts reads the files.
 */
import { SightlineError } from '../../core/errors.js';

/** How TF.js stores a weight more compactly: real = q · scale + min for integers, or IEEE half floats. */
export interface TfjsQuantization {
  readonly dtype: 'uint8' | 'uint16' | 'float16';
  readonly scale?: number;
  readonly min?: number;
  readonly original_dtype?: string;
}

export interface TfjsWeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: TfjsQuantization;
}

/** One group: its weights lie one after another in the concatenation of its files. */
export interface TfjsWeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly TfjsWeightEntry[];
}

export interface TfjsModelJson {
  /** 'layers-model' or 'graph-model'; old Layers exports leave it out. */
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly modelTopology: unknown;
  readonly weightsManifest: readonly TfjsWeightGroup[];
  readonly signature?: unknown;
  readonly userDefinedMetadata?: unknown;
  readonly modelInitializer?: unknown;
}

/** A model.json and the bytes of each weights group (its files concatenated in manifest order). */
export interface TfjsArtifacts {
  readonly modelJson: TfjsModelJson;
  readonly groups: readonly Uint8Array[];
}

export interface TfjsWeight {
  readonly shape: readonly number[];
  /** Real values, dequantized where the file stores them quantized. */
  readonly data: Float32Array;
}

/** Parses the text of a model.json, checking the fields every TF.js model has. */
export function parseModelJson(text: string, source: string): TfjsModelJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TF.js model '${source}' is not valid JSON: ${(cause as Error).message}`,
      { source },
      { cause },
    );
  }
  const model = json as Partial<TfjsModelJson> | null;
  if (
    !model ||
    typeof model !== 'object' ||
    !model.modelTopology ||
    typeof model.modelTopology !== 'object'
  ) {
    throw new SightlineError(
      'MODEL_LOAD',
      `'${source}' is not a TF.js model.json: it has no 'modelTopology' object.`,
      { source },
    );
  }
  const manifest = model.weightsManifest ?? [];
  if (!Array.isArray(manifest) || !manifest.every(isWeightGroup)) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TF.js model '${source}' has a malformed 'weightsManifest'; expected a list of { paths, weights } groups, each path a string and each weight a { name, shape, dtype } with a shape of whole numbers ≥ 0.`,
      { source },
    );
  }
  return { ...model, modelTopology: model.modelTopology, weightsManifest: manifest };
}

/** A group as TF.js writes it; checked so that sizes computed from the shapes are whole numbers. */
function isWeightGroup(group: unknown): boolean {
  const g = group as Partial<TfjsWeightGroup> | null;
  return (
    !!g &&
    Array.isArray(g.paths) &&
    g.paths.every((p) => typeof p === 'string') &&
    Array.isArray(g.weights) &&
    g.weights.every(
      (w) =>
        !!w &&
        typeof w.name === 'string' &&
        typeof w.dtype === 'string' &&
        Array.isArray(w.shape) &&
        w.shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0),
    )
  );
}

/** Whether the model.json describes a Graph model (converted from a SavedModel), not a Layers model. */
export function isGraphModel(modelJson: TfjsModelJson): boolean {
  if (modelJson.format) return modelJson.format === 'graph-model';
  return Array.isArray((modelJson.modelTopology as { node?: unknown }).node);
}

/** How many bytes a weight takes in its file; undefined for strings, whose length is in the data. */
export function storedBytes(entry: TfjsWeightEntry): number | undefined {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  switch (dtype) {
    case 'float32':
    case 'int32':
      return count * 4;
    case 'uint16':
    case 'float16':
      return count * 2;
    case 'uint8':
    case 'bool':
      return count;
    case 'complex64':
      return count * 8;
    default:
      return undefined;
  }
}

/** Bytes each group's files must add up to (undefined where a string weight makes it data-dependent). */
export function expectedGroupBytes(group: TfjsWeightGroup): number | undefined {
  let total = 0;
  for (const w of group.weights) {
    const bytes = storedBytes(w);
    if (bytes === undefined) return undefined;
    total += bytes;
  }
  return total;
}

/**
 * Every numeric weight by name, as real float32 values: uint8/uint16 are dequantized as q · scale + min
 * (what TF.js does on load), float16 is widened, int32 and bool become floats.
 */
export function decodeWeights(artifacts: TfjsArtifacts): Map<string, TfjsWeight> {
  const { modelJson, groups } = artifacts;
  const out = new Map<string, TfjsWeight>();
  modelJson.weightsManifest.forEach((group, g) => {
    const bytes = groups[g];
    if (!bytes) {
      throw new SightlineError(
        'MODEL_LOAD',
        `The bytes of weights group ${g} (${group.paths.join(', ')}) are missing.`,
      );
    }
    let offset = 0;
    for (const entry of group.weights) {
      const size = storedBytes(entry);
      if (size === undefined) {
        throw new SightlineError(
          'UNSUPPORTED_OP',
          `Weight '${entry.name}' has dtype '${entry.quantization?.dtype ?? entry.dtype}', which the converter cannot read.`,
          { weight: entry.name },
        );
      }
      if (offset + size > bytes.byteLength) {
        throw new SightlineError(
          'MODEL_LOAD',
          `Weights group ${g} (${group.paths.join(', ')}) holds ${bytes.byteLength} bytes, too few for weight '${entry.name}' [${entry.shape.join(', ')}] at byte ${offset}.`,
          { weight: entry.name },
        );
      }
      out.set(entry.name, { shape: [...entry.shape], data: decodeOne(entry, bytes, offset, size) });
      offset += size;
    }
  });
  return out;
}

function decodeOne(entry: TfjsWeightEntry, bytes: Uint8Array, offset: number, size: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
  const q = entry.quantization;
  const dtype = q?.dtype ?? entry.dtype;
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
    if (typeof q.scale !== 'number' || typeof q.min !== 'number') {
      throw new SightlineError(
        'MODEL_LOAD',
        `Weight '${entry.name}' is quantized to ${q.dtype} without a numeric scale and min.`,
        { weight: entry.name },
      );
    }
    // In double precision and rounded once to float32, as TF.js does (and to integers for int32 weights).
    const round = entry.dtype === 'int32' ? Math.round : (x: number) => x;
    for (let i = 0; i < count; i++) {
      const v = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
      out[i] = round(v * q.scale + q.min);
    }
    return out;
  }
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'bool':
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      return out;
    default:
      throw new SightlineError(
        'UNSUPPORTED_OP',
        `Weight '${entry.name}' has dtype '${dtype}', which the converter cannot read.`,
        { weight: entry.name },
      );
  }
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
