import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { gradientGraphCache, sha256 } from './cache.js';
import { loadDefaultModel } from './default-model.js';
import { loadHttpModel } from './http.js';
import { readLabels } from './labels-file.js';
import { openConvertedTflite, openOnnxModel } from './open.js';
import type { ModelHints } from './spec.js';
import { isTfjsModelRef, loadTfjsModel } from './tfjs.js';
import { convertTfliteCached } from './tflite.js';

/**
 * 'default' (the embedded ImageNet InceptionV3), an .onnx file, a .tflite/.lite file, a TF.js model (its folder
 * or model.json, as a path or an http(s) URL) or any other http(s) URL (a black-box model behind the JSON
 * contract in docs/http-models.md). Preprocessing comes from hints (flags), then a sidecar JSON beside the model
 * (model.onnx → model.json), then the input's shape, then ImageNet defaults.
 */
export async function loadModel(ref: string, hints: ModelHints = {}): Promise<Model> {
  if (ref === 'default') return loadDefaultModel(hints);
  if (/^https?:\/\//i.test(ref)) {
    return isTfjsModelRef(ref) ? loadTfjsModel(ref, hints) : loadHttpModel(ref, hints);
  }
  let isFolder: boolean;
  try {
    isFolder = (await stat(ref)).isDirectory();
  } catch {
    throw invalidArgument(
      'model',
      "'default', the path of an existing .onnx, .tflite or TF.js model, or an http(s) URL",
      ref,
    );
  }
  if (isFolder || isTfjsModelRef(ref)) return loadTfjsModel(ref, hints);
  const merged = { ...(await readSidecar(ref)), ...dropUndefined(hints) };
  const ext = extname(ref).toLowerCase();
  if (ext === '.tflite' || ext === '.lite')
    return loadTfliteModel(new Uint8Array(await readFile(ref)), merged);
  if (ext === '.onnx') {
    const bytes = new Uint8Array(await readFile(ref));
    return openOnnxModel(bytes, await withLabels(merged), {
      gradientCache: gradientGraphCache(() => sha256(bytes).slice(0, 24)),
    });
  }
  throw invalidArgument('model', "a file ending in .onnx, .tflite or .lite (or 'default')", ref);
}

/** A TFLite file's bytes → a model, the conversion kept in the user cache. */
export async function loadTfliteModel(tflite: Uint8Array, hints: ModelHints): Promise<Model> {
  const converted = await convertTfliteCached(tflite);
  return openConvertedTflite(converted, await withLabels(hints), {
    gradientCache: gradientGraphCache(() => converted.cacheKey),
  });
}

async function withLabels(hints: ModelHints): Promise<ModelHints> {
  if (hints.labels || !hints.labelsPath) return hints;
  return { ...hints, labels: await readLabels(hints.labelsPath) };
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
