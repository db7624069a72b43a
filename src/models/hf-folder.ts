// Hugging Face and timm model folders on disk (Node only): which files to read, read boundedly; what they say is
// parsed by hf-config.ts, which the web app shares.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { MIB, readRegularFile } from '../io/read-file.js';
import { gradientGraphCache, sha256 } from './cache.js';
import {
  type FolderConfig,
  folderKind,
  MAX_CONFIG_CHARS,
  MAX_PREPROCESSOR_CHARS,
  parseHfFolder,
  parseTimmFolder,
} from './hf-config.js';
import { readLabels } from './labels-file.js';
import { refuseFolderLabelCount, refuseUnsupportedOnnx } from './onnx-support.js';
import { decodeOnnxModel, openOnnxModel } from './open.js';
import type { ModelHints } from './spec.js';

/** What a model folder may be, for messages that refuse one. */
export const FOLDER_LAYOUTS =
  'a TF.js model (model.json and its weight files), a Hugging Face model (config.json, preprocessor_config.json and onnx/model.onnx, as transformers.js and Optimum export it) or a timm model (config.json and model.onnx)';

/** Protobuf cannot address more than 2 GiB, so no valid ONNX file is larger. */
const MAX_ONNX_BYTES = 2048 * MIB;

/** Which kind of model a folder holds, told by its files: config.json first, then TF.js's model.json. */
export async function folderLayout(dir: string): Promise<'config' | 'tfjs' | undefined> {
  if (await exists(join(dir, 'config.json'))) return 'config';
  if (await exists(join(dir, 'model.json'))) return 'tfjs';
  return undefined;
}

/** The refusal for a folder that holds neither layout. */
export function notAModelFolder(dir: string): SightlineError {
  return new SightlineError(
    'MODEL_LOAD',
    `The folder '${dir}' holds neither config.json nor model.json; expected ${FOLDER_LAYOUTS}.`,
    { path: dir },
  );
}

/**
 * A Hugging Face or timm folder → a model: preprocessing and labels from its JSON files, then the hints (flags)
 * over them. hints.variant picks onnx/model_<variant>.onnx instead of onnx/model.onnx.
 */
export async function loadHfFolder(dir: string, hints: ModelHints): Promise<Model> {
  const configText = await readText(dir, 'config.json', MAX_CONFIG_CHARS);
  const kind = folderKind(configText);
  let folder: FolderConfig;
  if (kind === 'timm') folder = parseTimmFolder(configText);
  else {
    if (!(await exists(join(dir, 'preprocessor_config.json')))) {
      throw new SightlineError(
        'MODEL_LOAD',
        `The folder '${dir}' has a Hugging Face config.json but no preprocessor_config.json, which says how to resize and normalise photos; expected ${FOLDER_LAYOUTS}.`,
        { path: dir },
      );
    }
    folder = parseHfFolder(
      configText,
      await readText(dir, 'preprocessor_config.json', MAX_PREPROCESSOR_CHARS),
    );
  }
  const onnxPath = await findOnnx(dir, hints.variant);
  const bytes = await readRegularFile(onnxPath, {
    maxBytes: MAX_ONNX_BYTES,
    expected: 'an ONNX model file',
    code: 'MODEL_LOAD',
  });
  refuseUnsupportedOnnx(decodeOnnxModel(bytes, onnxPath), onnxPath, {
    weights: 'inside model.onnx',
    float16: "use the folder's model.onnx (no --model-variant) or a float32 variant such as quantized",
  });
  const model = await openOnnxModel(bytes, await mergeHints(folder.hints, hints), {
    name: onnxPath,
    gradientCache: gradientGraphCache(() => sha256(bytes).slice(0, 24)),
  });
  if (hints.labels || hints.labelsPath) return model;
  try {
    refuseFolderLabelCount(folder, model.spec, onnxPath, '--labels names them instead.');
  } catch (error) {
    await model.dispose();
    throw error;
  }
  return model;
}

/**
 * Flags over the folder's hints. A flag that sets the geometry (--input-size, --resize) replaces the folder's
 * resize-then-crop, which it would otherwise contradict; --labels replaces the folder's labels.
 */
async function mergeHints(folder: ModelHints, flags: ModelHints): Promise<ModelHints> {
  const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as ModelHints;
  const geometry = ['width', 'height', 'resize', 'cropFraction'].some((k) => k in given);
  const merged: ModelHints = { ...folder, ...(geometry ? { resizeFirst: undefined } : {}), ...given };
  if (given.labels || !given.labelsPath) return merged;
  return { ...merged, labels: await readLabels(given.labelsPath) };
}

async function readText(dir: string, file: string, maxChars: number): Promise<string> {
  const bytes = await readRegularFile(join(dir, file), {
    // A character is at least one byte of UTF-8: a file within this many bytes may still be within the limit.
    maxBytes: 4 * maxChars,
    noun: `the model folder's ${file}`,
    expected: 'a small JSON file',
    code: 'MODEL_LOAD',
  });
  return new TextDecoder().decode(bytes);
}

/** onnx/model.onnx or model.onnx, or the variant's; a missing one is refused naming the ONNX files there are. */
async function findOnnx(dir: string, variant: string | undefined): Promise<string> {
  if (variant !== undefined && !/^[A-Za-z0-9_]{1,64}$/.test(variant))
    throw invalidArgument(
      'model-variant',
      'a variant name such as quantized or fp16 (letters, digits, _)',
      variant,
    );
  const file = variant === undefined ? 'model.onnx' : `model_${variant}.onnx`;
  const candidates = [join(dir, 'onnx', file), join(dir, file)];
  for (const path of candidates) if (await exists(path)) return path;
  const present = [...(await onnxFiles(dir, '')), ...(await onnxFiles(dir, 'onnx'))];
  throw new SightlineError(
    'MODEL_LOAD',
    `The folder '${dir}' has no ${candidates.map((c) => `'${c}'`).join(' or ')}; ${present.length ? `its ONNX files are ${present.join(', ')}` : 'it holds no ONNX file'}. Expected ${FOLDER_LAYOUTS}${present.length ? ', and --model-variant to name one of the model_<variant>.onnx files' : ''}.`,
    { path: dir, variant, present },
  );
}

/** The .onnx files directly in dir/sub, as relative paths; a few dozen at most are named. */
async function onnxFiles(dir: string, sub: string): Promise<string[]> {
  try {
    const names = (await readdir(join(dir, sub))).filter((n) => n.endsWith('.onnx')).sort();
    const shown = names.slice(0, 24).map((n) => (sub ? `${sub}/${n}` : n));
    return names.length > 24 ? [...shown, `… ${names.length - 24} more`] : shown;
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
