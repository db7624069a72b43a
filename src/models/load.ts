import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { isHttpUrl } from '../core/url.js';
import { openOnSessionThread } from '../engines/onnx/session-thread.js';
import { MIB, readRegularFile } from '../io/read-file.js';
import { gradientGraphCache, sha256 } from './cache.js';
import { loadDefaultModel } from './default-model.js';
import { folderLayout, loadHfFolder, notAModelFolder } from './hf-folder.js';
import { loadHttpModel } from './http.js';
import { readLabels } from './labels-file.js';
import { openConvertedTflite, openOnnxModel } from './open.js';
import type { ModelHints } from './spec.js';
import { isTfjsModelRef, loadTfjsModel } from './tfjs.js';
import { convertTfliteCached } from './tflite.js';

/** Protobuf (ONNX) and FlatBuffers (TFLite) cannot address more than 2 GiB, so no valid model file is larger. */
export const MAX_MODEL_BYTES = 2048 * MIB;
/** A sidecar holds a few preprocessing hints and perhaps a label list: a few KiB, never megabytes. */
const MAX_SIDECAR_BYTES = 4 * MIB;

/**
 * 'default' (the embedded ImageNet InceptionV3), an .onnx file, a .tflite/.lite file, a TF.js model (its folder
 * or model.json, as a path or an http(s) URL), a Hugging Face or timm folder (config.json beside an ONNX file,
 * see hf-folder.ts) or any other http(s) URL (a black-box model behind the JSON contract in
 * docs/http-models.md). Preprocessing comes from hints (flags), then a sidecar JSON beside the model
 * (model.onnx → model.json) or the folder's config files, then the input's shape, then ImageNet defaults.
 */
export async function loadModel(ref: string, hints: ModelHints = {}): Promise<Model> {
  if (hints.variant !== undefined) return loadVariant(ref, hints);
  if (ref === 'default') return loadDefaultModel(hints);
  if (isHttpUrl(ref)) {
    return isTfjsModelRef(ref) ? loadTfjsModel(ref, hints) : loadHttpModel(ref, hints);
  }
  let isFolder: boolean;
  try {
    isFolder = (await stat(ref)).isDirectory();
  } catch {
    throw invalidArgument(
      'model',
      "'default', the path of an existing .onnx, .tflite, TF.js, Hugging Face or timm model, or an http(s) URL",
      ref,
    );
  }
  if (isFolder) {
    const layout = await folderLayout(ref);
    if (layout === 'config') return loadHfFolder(ref, hints);
    if (layout === 'tfjs') return loadTfjsModel(ref, hints);
    throw notAModelFolder(ref);
  }
  if (isTfjsModelRef(ref)) return loadTfjsModel(ref, hints);
  const ext = extname(ref).toLowerCase();
  const tflite = ext === '.tflite' || ext === '.lite';
  if (!tflite && ext !== '.onnx')
    throw invalidArgument('model', "a file ending in .onnx, .tflite or .lite (or 'default')", ref);
  const merged = { ...(await readSidecar(ref)), ...dropUndefined(hints) };
  if (tflite) return loadTfliteModel(await readModelFile(ref, 'TFLite'), merged, ref);
  const bytes = await readModelFile(ref, 'ONNX');
  return openOnnxModel(bytes, await withLabels(merged), {
    name: ref,
    gradientCache: gradientGraphCache(() => sha256(bytes).slice(0, 24)),
    openSession: openOnSessionThread,
    intraOpThreads: sessionThreads(),
  });
}

/** A variant (onnx/model_<variant>.onnx) is a file of a Hugging Face or timm folder: any other model refuses it. */
async function loadVariant(ref: string, hints: ModelHints): Promise<Model> {
  const folder =
    !isHttpUrl(ref) && ref !== 'default' && (await stat(ref).catch(() => undefined))?.isDirectory();
  if (!folder || (await folderLayout(ref)) !== 'config')
    throw invalidArgument(
      'model-variant',
      'given only with a Hugging Face or timm model folder',
      hints.variant,
    );
  return loadHfFolder(ref, hints);
}

/** A TFLite file's bytes → a model, the conversion kept in the user cache; `name` labels messages. */
export async function loadTfliteModel(tflite: Uint8Array, hints: ModelHints, name?: string): Promise<Model> {
  let converted: Awaited<ReturnType<typeof convertTfliteCached>>;
  try {
    converted = await convertTfliteCached(tflite);
  } catch (error) {
    // The reader's messages say what is wrong with "the TFLite file"; say which one.
    if (!(error instanceof SightlineError) || name === undefined) throw error;
    throw new SightlineError(
      error.code,
      `'${name}': ${error.message}`,
      { ...error.details, name },
      { cause: error },
    );
  }
  return openConvertedTflite(converted, await withLabels(hints), {
    name,
    gradientCache: gradientGraphCache(() => converted.cacheKey),
    openSession: openOnSessionThread,
    intraOpThreads: sessionThreads(),
  });
}

/**
 * ONNX Runtime's threads per session: SIGHTLINE_THREADS when set, else ONNX Runtime's own choice. Several
 * processes sharing one machine (queue workers, `sightline worker --threads` sets it) each pin their sessions
 * to a share of the cores, or their thread pools fight over them.
 */
export function sessionThreads(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.SIGHTLINE_THREADS;
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw invalidArgument('SIGHTLINE_THREADS', 'a whole number of threads from 1 to 1024', value);
  return n;
}

async function withLabels(hints: ModelHints): Promise<ModelHints> {
  if (hints.labels || !hints.labelsPath) return hints;
  return { ...hints, labels: await readLabels(hints.labelsPath) };
}

function readModelFile(path: string, format: 'ONNX' | 'TFLite'): Promise<Uint8Array> {
  return readRegularFile(path, {
    maxBytes: MAX_MODEL_BYTES,
    expected: `an ${format} model file`,
    code: 'MODEL_LOAD',
  });
}

async function readSidecar(modelPath: string): Promise<ModelHints> {
  const path = modelPath.replace(/\.[^./\\]+$/, '.json');
  let text: string;
  try {
    const bytes = await readRegularFile(path, {
      maxBytes: MAX_SIDECAR_BYTES,
      noun: "the model's sidecar",
      expected: "a small JSON file of the model's preprocessing hints",
      code: 'MODEL_LOAD',
    });
    text = new TextDecoder().decode(bytes);
  } catch (error) {
    // Most models have no sidecar; one that exists but cannot be read (a FIFO, a huge file) is reported.
    const errno = error instanceof SightlineError ? error.details.errno : undefined;
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return {};
    throw error;
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
