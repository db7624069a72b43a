// A dropped Hugging Face or timm model folder (or its files dropped together), read in the worker: the configs
// by the library's parser, as the command line reads them, and the ONNX files there are, for the user to pick.
// Only the configs come at first: a folder may hold several large ONNX variants (and safetensors weights,
// tokenizers), so the page reads just the ONNX file that is opened.
import {
  decodeOnnxModel,
  type FolderConfig,
  folderKind,
  type Model,
  type NamedBytes,
  parseHfFolder,
  parseTimmFolder,
  refuseFolderLabelCount,
  refuseUnsupportedOnnx,
  SightlineError,
} from '../../src/browser.js';

/** What a model folder may be, for the messages that refuse one. */
const LAYOUTS =
  'a Hugging Face model (config.json, preprocessor_config.json and onnx/model.onnx, as transformers.js and Optimum export it) or a timm model (config.json and model.onnx)';

export interface FolderVariant {
  /** The file's path in the folder, e.g. 'onnx/model_quantized.onnx'. */
  readonly label: string;
  /** Its path as dropped ('my-model/onnx/model_quantized.onnx'), by which the page finds the file. */
  readonly source: string;
}

export interface DroppedFolder {
  /** The folder's name, or the ONNX file's when loose files were dropped. */
  readonly name: string;
  readonly config: FolderConfig;
  /** The ONNX files, the one the command line would open first (onnx/model.onnx, then model.onnx). */
  readonly variants: readonly FolderVariant[];
}

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const depth = (path: string) => path.split('/').length;

/**
 * The folder's configs parsed, and its ONNX files (`onnx`, their paths). Names are paths as the browser gives
 * them for a dropped folder ('my-model/onnx/model.onnx') or bare names for loose files; the shallowest
 * config.json is the folder's.
 */
export function readFolder(files: readonly NamedBytes[], onnx: readonly string[]): DroppedFolder {
  const shallowest = (name: string) =>
    files.filter((f) => base(f.name) === name).sort((a, b) => depth(a.name) - depth(b.name))[0];
  const config = shallowest('config.json');
  const root = config.name.slice(0, config.name.length - 'config.json'.length);
  const text = (f: NamedBytes) => new TextDecoder().decode(f.bytes);
  const configText = text(config);
  let parsed: FolderConfig;
  if (folderKind(configText) === 'timm') parsed = parseTimmFolder(configText);
  else {
    const pre = shallowest('preprocessor_config.json');
    if (!pre)
      throw new SightlineError(
        'MODEL_LOAD',
        `The dropped files have a Hugging Face config.json but no preprocessor_config.json, which says how to resize and normalise photos; expected ${LAYOUTS}. Drop the whole folder, or these files together.`,
      );
    parsed = parseHfFolder(configText, text(pre));
  }
  const variants = onnx
    .filter((path) => /\.onnx$/i.test(path) && path.startsWith(root))
    .map((source) => ({ label: source.slice(root.length), source }))
    .sort((a, b) => rank(a.label) - rank(b.label) || a.label.localeCompare(b.label));
  if (variants.length === 0)
    throw new SightlineError(
      'MODEL_LOAD',
      `The dropped files hold config.json but no ONNX model; expected ${LAYOUTS}. Drop the folder with its onnx/ folder, or the .onnx file together with the config files.`,
    );
  const folderName = root.replace(/\/$/, '').split('/').pop();
  return { name: folderName || base(variants[0].label), config: parsed, variants };
}

/** The command line's order: onnx/model.onnx, then model.onnx, then the rest (variants such as quantized). */
function rank(path: string): number {
  if (path === 'onnx/model.onnx') return 0;
  if (path === 'model.onnx') return 1;
  return 2;
}

/**
 * The checks the command line's folder loader makes (models/onnx-support.ts): a float16 variant, or weights
 * in an external file (model.onnx_data) that one dropped file cannot hold, are refused in words.
 */
export function refuseUnsupported(bytes: Uint8Array, label: string): void {
  refuseUnsupportedOnnx(decodeOnnxModel(bytes, label), label, {
    weights: 'inside the .onnx file',
    float16: "pick the folder's model.onnx or a float32 variant such as model_quantized.onnx",
  });
}

/** The command line's check of the folder's labels against the scores of the ONNX file picked (`label`). */
export function refuseLabelCount(config: FolderConfig, model: Model, label: string): void {
  refuseFolderLabelCount(
    config,
    model.spec,
    label,
    'drop the folder whose config.json came with this ONNX file, or the ONNX file alone to name the labels in the form',
  );
}
