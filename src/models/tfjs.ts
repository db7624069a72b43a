/**
 * TF.js models (Layers and Graph, Teachable Machine exports included) from a folder, a model.json path, a .zip
 * of the export or an http(s) URL of a model.json. Layers models are converted to ONNX (engines/tfjs) and
 * open like any ONNX model, so every method works; Graph models, and Layers models with a layer the converter
 * lacks, run predict-only on TF.js with a note saying why. Labels and preprocessing come from hints (flags)
 * first, then a Teachable Machine metadata.json beside the model. Reading the files themselves, zips
 * included, is shared with the browser (tfjs-source.ts); this file adds the disk and the network.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { gradientGraphCache, sha256 } from './cache.js';
import { readLabels } from './labels-file.js';
import { openOnnxModel } from './open.js';
import { type ModelHints, specFromIo } from './spec.js';
import {
  checkZipSize,
  convertTfjsSource,
  metadataHints,
  readTfjsFiles,
  readTfjsZip,
  type TfjsFiles,
  type TfjsSource,
} from './tfjs-source.js';

export { metadataHints, type TfjsMetadata, type TfjsSource } from './tfjs-source.js';

/** A folder, a model.json or .zip path, or a URL whose path ends in .json names a TF.js model. */
export function isTfjsModelRef(ref: string): boolean {
  if (/^https?:\/\//i.test(ref)) return /\.json$/i.test(new URL(ref).pathname);
  return /\.(json|zip)$/i.test(ref);
}

export async function loadTfjsModel(ref: string, hints: ModelHints): Promise<Model> {
  return openTfjsSource(await readTfjsSource(ref), hints);
}

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
  const converted = convertTfjsSource(source, inputSize);
  if ('onnx' in converted) {
    const bytes = converted.onnx;
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
        `${source.location} runs on TF.js for prediction only: ${converted.reason}. Gradient and CAM methods need a TF.js Layers model made of supported layers (docs/tfjs-models.md); black-box methods (occlusion, rise) work.`,
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

/** The user's labels file, read: it wins over metadata.json's labels. */
async function withLabels(hints: ModelHints): Promise<ModelHints> {
  if (hints.labels || !hints.labelsPath) return hints;
  return { ...hints, labels: await readLabels(hints.labelsPath) };
}

/**
 * Reads model.json, its weight files and metadata.json from a folder, a model.json path, a .zip of the export
 * (at most MAX_TFJS_ZIP_BYTES, 512 MB, packed or unpacked) or a URL.
 */
export async function readTfjsSource(ref: string): Promise<TfjsSource> {
  if (/^https?:\/\//i.test(ref)) return readTfjsFiles(ref, new UrlFiles());
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(ref);
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Cannot read the TF.js model '${ref}': it does not exist.`,
      { ref },
      { cause },
    );
  }
  if (info.isDirectory()) return readTfjsFiles(join(ref, 'model.json'), new DiskFiles());
  if (/\.zip$/i.test(ref)) {
    // Checked before reading, so a huge file is refused without loading it.
    checkZipSize(info.size, ref);
    return readTfjsZip(new Uint8Array(await readFile(ref)), ref);
  }
  return readTfjsFiles(ref, new DiskFiles());
}

class DiskFiles implements TfjsFiles {
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

  where(location: string): string {
    return `at '${location}'`;
  }
}

class UrlFiles implements TfjsFiles {
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

  where(location: string): string {
    return `at '${location}'`;
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
