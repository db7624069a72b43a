/**
 * TF.js models (Layers and Graph, Teachable Machine exports included) from a folder, a model.json path or an
 * http(s) URL of a model.json. Layers models are converted to ONNX (engines/tfjs) and open like any ONNX
 * model, so every method works; Graph models, and Layers models with a layer the converter lacks, run
 * predict-only on TF.js with a note saying why. Labels and preprocessing come from hints (flags) first, then
 * a Teachable Machine metadata.json beside the model.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { encodeModel } from '../engines/onnx/proto.js';
import {
  convertTfjsLayers,
  expectedGroupBytes,
  isGraphModel,
  parseModelJson,
  type TfjsArtifacts,
  type TfjsLayersConversion,
} from '../engines/tfjs/index.js';
import { gradientGraphCache, sha256 } from './cache.js';
import { readLabels } from './labels-file.js';
import { openOnnxModel } from './open.js';
import { type ModelHints, specFromIo } from './spec.js';

/** A folder, a model.json path, or a URL whose path ends in .json names a TF.js model. */
export function isTfjsModelRef(ref: string): boolean {
  const path = /^https?:\/\//i.test(ref) ? new URL(ref).pathname : ref;
  return /\.json$/i.test(path);
}

/** Teachable Machine's image library divides pixels by 127 and subtracts 1: (p/255 − 127/255) / (127/255). */
const TEACHABLE_MACHINE_NORMALIZATION = 127 / 255;

/** A TF.js model's files, read: the artifacts and the metadata.json beside them (when there is one). */
export interface TfjsSource {
  readonly artifacts: TfjsArtifacts;
  readonly metadata?: TfjsMetadata;
  /** Where model.json was read from, for messages. */
  readonly location: string;
}

/** The parts of a Teachable Machine metadata.json that Sightline reads. */
export interface TfjsMetadata {
  readonly labels?: readonly string[];
  readonly imageSize?: number;
  readonly tmVersion?: string;
  readonly packageName?: string;
  readonly tfjsVersion?: string;
}

export async function loadTfjsModel(ref: string, hints: ModelHints): Promise<Model> {
  return openTfjsSource(await readTfjsSource(ref), hints);
}

/**
 * What the model's user should know that the model does not say through its capabilities: for a model that
 * runs predict-only on TF.js, why (the CLI prints these once, on stderr).
 */

/** Opens read TF.js files: converted to ONNX when possible, else predict-only on TF.js. */
export async function openTfjsSource(source: TfjsSource, hints: ModelHints): Promise<Model> {
  const merged = { ...metadataHints(source.metadata), ...(await withLabels(dropUndefined(hints))) };
  const size = source.metadata?.imageSize;
  const inputSize =
    merged.width && merged.height
      ? { width: merged.width, height: merged.height }
      : size
        ? { width: size, height: size }
        : undefined;
  let conversion: TfjsLayersConversion | undefined;
  let note = '';
  if (isGraphModel(source.artifacts.modelJson)) {
    note = 'it is a TF.js Graph model, which does not convert to ONNX';
  } else {
    try {
      conversion = convertTfjsLayers(source.artifacts, { inputSize });
    } catch (error) {
      if (!(error instanceof SightlineError) || error.code !== 'UNSUPPORTED_OP') throw error;
      const { layer, className } = error.details as { layer?: string; className?: string };
      note = layer
        ? `its layer '${layer}' (${className}) does not convert to ONNX`
        : error.message.replace(/\.$/, '');
    }
  }
  if (conversion) {
    const bytes = encodeModel(conversion.model);
    return openOnnxModel(
      bytes,
      { ...merged, layout: 'NHWC' },
      { gradientCache: gradientGraphCache(() => `tfjs-${sha256(bytes).slice(0, 24)}`) },
    );
  }
  const { TfjsModel } = await import('../engines/tfjs/runtime.js');
  return TfjsModel.create(
    source.artifacts,
    (facts) => {
      const integers = facts.inputDtype === 'int32';
      return specFromIo(facts.io, {
        ...merged,
        width: merged.width ?? freeSize(facts.io.inputs[0]?.dims, inputSize?.width),
        height: merged.height ?? freeSize(facts.io.inputs[0]?.dims, inputSize?.height),
        mean: merged.mean ?? (integers ? [0] : undefined),
        std: merged.std ?? (integers ? [1 / 255] : undefined),
        labels: merged.labels ?? [],
        outputs: merged.outputs ?? facts.outputs,
      });
    },
    {
      maxBatch: merged.maxBatch,
      notes: [
        `${source.location} runs on TF.js for prediction only: ${note}. Gradient and CAM methods need a TF.js Layers model made of supported layers (docs/tfjs-models.md); black-box methods (occlusion, rise) work.`,
      ],
    },
  );
}

/** The fallback size applies only where the model leaves its input size open. */
function freeSize(
  dims: readonly (number | string)[] | undefined,
  size: number | undefined,
): number | undefined {
  return dims && dims.length === 4 && dims.slice(1, 3).some((d) => typeof d !== 'number') ? size : undefined;
}

/** Teachable Machine's preprocessing (centre square, pixels to [−1, 1]) and its labels. */
export function metadataHints(metadata: TfjsMetadata | undefined): ModelHints {
  if (!metadata) return {};
  const labels = Array.isArray(metadata.labels) ? metadata.labels.map(String) : undefined;
  const teachable =
    labels !== undefined &&
    (metadata.tmVersion !== undefined || /teachablemachine/i.test(metadata.packageName ?? ''));
  return {
    ...(labels ? { labels } : {}),
    ...(teachable
      ? {
          mean: [TEACHABLE_MACHINE_NORMALIZATION],
          std: [TEACHABLE_MACHINE_NORMALIZATION],
          resize: 'center-crop' as const,
          cropFraction: 1,
        }
      : {}),
  };
}

/** The user's labels file, read: it wins over metadata.json's labels. */
async function withLabels(hints: ModelHints): Promise<ModelHints> {
  if (hints.labels || !hints.labelsPath) return hints;
  return { ...hints, labels: await readLabels(hints.labelsPath) };
}

/** Reads model.json, its weight files and metadata.json from a folder, a model.json path or a URL. */
export async function readTfjsSource(ref: string): Promise<TfjsSource> {
  if (/^https?:\/\//i.test(ref)) return readFrom(ref, new UrlFiles());
  let isFolder = false;
  try {
    isFolder = (await stat(ref)).isDirectory();
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Cannot read the TF.js model '${ref}': it does not exist.`,
      { ref },
      { cause },
    );
  }
  return readFrom(isFolder ? join(ref, 'model.json') : ref, new DiskFiles());
}

interface Files {
  /** The bytes at `path`, or undefined when it does not exist. */
  read(location: string): Promise<Uint8Array | undefined>;
  /** `relative` resolved against the folder holding `base`. */
  beside(base: string, relative: string): string;
}

class DiskFiles implements Files {
  async read(location: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(location));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SightlineError('IO', `Cannot read '${location}': ${(cause as Error).message}`, {}, { cause });
    }
  }

  beside(base: string, relative: string): string {
    return join(dirname(base), relative);
  }
}

class UrlFiles implements Files {
  async read(location: string): Promise<Uint8Array | undefined> {
    let response: Response;
    try {
      response = await fetch(location, { signal: AbortSignal.timeout(60_000) });
    } catch (cause) {
      throw new SightlineError(
        'MODEL_LOAD',
        `Cannot fetch '${location}': ${(cause as Error).message}`,
        { url: location },
        { cause },
      );
    }
    if (response.status === 404) return undefined;
    if (!response.ok) {
      throw new SightlineError('MODEL_LOAD', `Fetching '${location}' gave HTTP ${response.status}.`, {
        url: location,
        status: response.status,
      });
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  beside(base: string, relative: string): string {
    return new URL(relative, base).href;
  }
}

async function readFrom(modelJsonAt: string, files: Files): Promise<TfjsSource> {
  const text = await files.read(modelJsonAt);
  if (!text) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Cannot read the TF.js model: '${modelJsonAt}' does not exist (a TF.js model is a folder with model.json and its weight files).`,
      { ref: modelJsonAt },
    );
  }
  const modelJson = parseModelJson(new TextDecoder().decode(text), modelJsonAt);
  const groups: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    const parts: Uint8Array[] = [];
    for (const path of group.paths) {
      const at = files.beside(modelJsonAt, path);
      const bytes = await files.read(at);
      if (!bytes) {
        throw new SightlineError(
          'MODEL_LOAD',
          `The TF.js model '${modelJsonAt}' lists weight file '${path}', which does not exist at '${at}'.`,
          { ref: modelJsonAt, weights: at },
        );
      }
      parts.push(bytes);
    }
    const joined = concat(parts);
    const expected = expectedGroupBytes(group);
    if (expected !== undefined && joined.byteLength !== expected) {
      throw new SightlineError(
        'MODEL_LOAD',
        `The weight files ${group.paths.map((p) => `'${p}'`).join(', ')} of '${modelJsonAt}' hold ${joined.byteLength} bytes; the manifest describes ${expected}.`,
        { ref: modelJsonAt },
      );
    }
    groups.push(joined);
  }
  const metadataBytes = await files.read(files.beside(modelJsonAt, 'metadata.json'));
  return {
    artifacts: { modelJson, groups },
    metadata: metadataBytes ? parseMetadata(metadataBytes, modelJsonAt) : undefined,
    location: modelJsonAt,
  };
}

function parseMetadata(bytes: Uint8Array, modelJsonAt: string): TfjsMetadata {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return json && typeof json === 'object' ? (json as TfjsMetadata) : {};
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The metadata.json beside '${modelJsonAt}' is not valid JSON: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
