/**
 * A TF.js model's files, read from wherever they are: a folder or URL (models/tfjs.ts supplies those readers),
 * a zip (Teachable Machine's "Export model → TensorFlow.js → Download"), or files dropped on the web page.
 * No Node APIs here, so the browser shares the same reading, metadata and conversion rules.
 */
import { SightlineError } from '../core/errors.js';
import { formatCount, listSome } from '../core/text.js';
import { encodeModel } from '../engines/onnx/proto.js';
import {
  convertTfjsLayers,
  expectedGroupBytes,
  isGraphModel,
  parseModelJson,
  type TfjsArtifacts,
} from '../engines/tfjs/index.js';
import type { ModelHints } from './spec.js';
import { checkZipSize, formatSize, MAX_TFJS_ZIP_BYTES, ZipFiles } from './tfjs-zip.js';

export { checkZipSize, MAX_TFJS_ZIP_BYTES, MAX_ZIP_ENTRIES } from './tfjs-zip.js';

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
  readonly modelName?: string;
}

/**
 * The most a TF.js model's weight files may hold together, wherever they come from: the weights are read
 * into memory whole, and the manifest declares their size, which a file or server must not exceed.
 */
export const MAX_TFJS_WEIGHT_BYTES = MAX_TFJS_ZIP_BYTES;
/**
 * The most weight files a manifest may list, together: each is opened (or fetched) on its own, so a model.json
 * naming one file a million times would take an hour. Large Graph models come in a few hundred shards.
 */
export const MAX_TFJS_WEIGHT_FILES = 10_000;
/** The largest model.json read (Graph models' topologies run to a few MB). */
export const MAX_TFJS_MODEL_JSON_BYTES = 64 * 1024 * 1024;
/** The largest metadata.json read (Teachable Machine's is a few hundred bytes). */
const MAX_METADATA_JSON_BYTES = 4 * 1024 * 1024;

/** Where a model's files are read from: a folder, a server, a zip, dropped files. */
export interface TfjsFiles {
  /**
   * The bytes at `location`, or undefined when there is no such file. A reader stops once it has more than
   * `maxBytes` (it may throw tooLargeError, or return what it read so far: the caller checks).
   */
  read(location: string, maxBytes: number): Promise<Uint8Array | undefined>;
  /** `relative` resolved against the folder holding `base`. */
  beside(base: string, relative: string): string;
  /** Where a missing file was looked for, as the end of a sentence: "at '/models/weights.bin'". */
  where(location: string): string;
}

/** The error for a file or answer past its limit; `seen` is how many bytes were counted before stopping. */
export function tooLargeError(location: string, maxBytes: number, seen?: number): SightlineError {
  return new SightlineError(
    'MODEL_LOAD',
    `'${location}' holds ${seen === undefined ? 'more than' : `${formatSize(seen)} or more, over`} the limit of ${formatSize(maxBytes)} for this file of a TF.js model (what its manifest declares, or ${formatSize(MAX_TFJS_WEIGHT_BYTES)} of weights, ${formatSize(MAX_TFJS_MODEL_JSON_BYTES)} for model.json); Sightline stops reading there.`,
    { ref: location, maxBytes },
  );
}

/** A dropped or picked file: its name and bytes. */
export interface NamedBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/**
 * Reads model.json at `modelJsonAt`, the weight files its manifest lists and metadata.json beside it. Weight
 * paths must stay beside model.json (no absolute paths, URLs or '..'), and no file may hold more than the
 * manifest declares, nor the weights more than MAX_TFJS_WEIGHT_BYTES together.
 */
export async function readTfjsFiles(modelJsonAt: string, files: TfjsFiles): Promise<TfjsSource> {
  const text = await readCapped(files, modelJsonAt, MAX_TFJS_MODEL_JSON_BYTES);
  if (!text) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Cannot read the TF.js model: '${modelJsonAt}' does not exist (a TF.js model is a folder with model.json and its weight files).`,
      { ref: modelJsonAt },
    );
  }
  const modelJson = parseModelJson(new TextDecoder().decode(text), modelJsonAt);
  const declared = modelJson.weightsManifest.map(expectedGroupBytes);
  const total = declared.reduce((a: number, b) => a + (b ?? 0), 0);
  if (total > MAX_TFJS_WEIGHT_BYTES) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TF.js model '${modelJsonAt}' declares ${formatSize(total)} of weights, over the limit of ${formatSize(MAX_TFJS_WEIGHT_BYTES)}; Sightline reads a model's weights into memory whole.`,
      { ref: modelJsonAt, bytes: total, maxBytes: MAX_TFJS_WEIGHT_BYTES },
    );
  }
  const fileCount = modelJson.weightsManifest.reduce((n, group) => n + group.paths.length, 0);
  if (fileCount > MAX_TFJS_WEIGHT_FILES) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The TF.js model '${modelJsonAt}' lists ${formatCount(fileCount)} weight files, over the limit of ${formatCount(MAX_TFJS_WEIGHT_FILES)}; a model's weights come in a few files (a large Graph model's, in a few hundred).`,
      { ref: modelJsonAt, files: fileCount, maxFiles: MAX_TFJS_WEIGHT_FILES },
    );
  }
  for (const group of modelJson.weightsManifest)
    for (const path of group.paths) checkWeightPath(path, modelJsonAt);
  const groups: Uint8Array[] = [];
  // Groups with string weights declare no size: they share what the others leave of the limit.
  let budget = MAX_TFJS_WEIGHT_BYTES - total;
  for (const [g, group] of modelJson.weightsManifest.entries()) {
    const expected = declared[g];
    const parts: Uint8Array[] = [];
    let held = 0;
    for (const path of group.paths) {
      const at = files.beside(modelJsonAt, path);
      const bytes = await files.read(at, (expected ?? budget) - held);
      if (!bytes) {
        throw new SightlineError(
          'MODEL_LOAD',
          `The TF.js model '${modelJsonAt}' lists weight file '${path}', which does not exist ${files.where(at)}.`,
          { ref: modelJsonAt, weights: at },
        );
      }
      held += bytes.byteLength;
      if (held > (expected ?? budget)) break;
      parts.push(bytes);
    }
    if (expected === undefined && held > budget) throw tooLargeError(listSome(group.paths, 3), budget);
    if (expected !== undefined && held !== expected) {
      throw new SightlineError(
        'MODEL_LOAD',
        `The weight files ${listSome(
          group.paths.map((p) => `'${p}'`),
          3,
        )} of '${modelJsonAt}' hold ${held > expected ? `more than ${expected}` : held} bytes; the manifest describes ${expected}.`,
        { ref: modelJsonAt },
      );
    }
    if (expected === undefined) budget -= held;
    groups.push(concat(parts));
  }
  const metadataBytes = await readCapped(
    files,
    files.beside(modelJsonAt, 'metadata.json'),
    MAX_METADATA_JSON_BYTES,
  );
  return {
    artifacts: { modelJson, groups },
    metadata: metadataBytes ? parseMetadata(metadataBytes, modelJsonAt) : undefined,
    location: modelJsonAt,
  };
}

/** A file read whole, refused past `maxBytes`. */
async function readCapped(files: TfjsFiles, at: string, maxBytes: number): Promise<Uint8Array | undefined> {
  const bytes = await files.read(at, maxBytes);
  if (bytes && bytes.byteLength > maxBytes) throw tooLargeError(at, maxBytes);
  return bytes;
}

/**
 * A manifest path names a file beside model.json or in a folder below it, as TF.js's converter writes them;
 * anything that could reach elsewhere is refused before a file is opened, in every encoding a reader might
 * decode: on disk '%2e%2e' is a plain name, but a URL resolves it as '..'.
 */
export function checkWeightPath(path: string, modelJsonAt: string): void {
  const why = unsafePath(path);
  if (why === undefined) return;
  throw new SightlineError(
    'MODEL_LOAD',
    `The TF.js model '${modelJsonAt}' lists weight file ${quote(path)}, which ${why}; weight paths must name files beside model.json (or in folders below it).`,
    { ref: modelJsonAt },
  );
}

function unsafePath(path: string): string | undefined {
  if (path === '') return 'is empty';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'holds a malformed %-escape';
  }
  for (const p of [path, decoded]) {
    if (/[\\\0]/.test(p)) return 'holds a backslash or NUL';
    // A URL parser drops tabs and line breaks wherever they stand and spaces at the ends: '.\t.' is '..' there.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to refuse.
    if (/[\u0001-\u001f\u007f]/.test(p)) return 'holds a control character';
    if (p !== p.trim()) return 'starts or ends with a space';
    if (/^[a-z][a-z0-9+.-]*:/i.test(p)) return 'is a URL or a drive path';
    if (p.startsWith('/')) return 'is an absolute path';
    if (p.split('/').includes('..')) return "climbs out of the model's folder with '..'";
  }
  return undefined;
}

/** A value from the file, quoted for a message and cut short. */
function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/**
 * A zipped TF.js model: the zip holds one model.json (at its root or in a folder), the weight files it lists
 * and metadata.json beside it. Only those files are unpacked, and together they may hold at most `maxBytes`
 * (512 MB by default): a zip bomb stops at the sizes its directory declares, before anything is inflated.
 */
export async function readTfjsZip(
  bytes: Uint8Array,
  name: string,
  options: { maxBytes?: number } = {},
): Promise<TfjsSource> {
  const maxBytes = options.maxBytes ?? MAX_TFJS_ZIP_BYTES;
  checkZipSize(bytes.byteLength, name, maxBytes);
  const zip = new ZipFiles(bytes, name, maxBytes);
  const models = zip.names.filter((n) => baseName(n) === 'model.json');
  if (models.length === 0) {
    throw new SightlineError(
      'MODEL_LOAD',
      `'${name}' holds no model.json (${zip.contents()}); a TF.js export zip holds model.json, its weight files and metadata.json.`,
      { ref: name },
    );
  }
  if (models.length > 1) {
    throw new SightlineError(
      'MODEL_LOAD',
      `'${name}' holds ${models.length} models (${models.slice(0, 8).join(', ')}${models.length > 8 ? ', …' : ''}); zip one model's folder.`,
      { ref: name },
    );
  }
  return readTfjsFiles(`${name}/${models[0]}`, zip);
}

/**
 * Files dropped or picked together: one .zip (read as readTfjsZip does), or model.json with its weight files
 * and, for Teachable Machine, metadata.json. Weight files are matched by name, whatever folder the manifest
 * puts them in, since dropped files carry no folders.
 */
export async function readTfjsDropped(
  dropped: readonly NamedBytes[],
  options: { maxBytes?: number } = {},
): Promise<TfjsSource> {
  const zips = dropped.filter((f) => /\.zip$/i.test(f.name));
  if (zips.length === 1 && dropped.length === 1) return readTfjsZip(zips[0].bytes, zips[0].name, options);
  const names = dropped.map((f) => f.name).join(', ');
  if (zips.length > 0) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Dropped together: ${names}. Drop a zipped model on its own, or the unzipped files (model.json, its weight files, metadata.json) together.`,
    );
  }
  const jsons = dropped.filter((f) => /\.json$/i.test(f.name) && f.name !== 'metadata.json');
  const model = jsons.find((f) => f.name === 'model.json') ?? (jsons.length === 1 ? jsons[0] : undefined);
  if (!model) {
    throw new SightlineError(
      'MODEL_LOAD',
      jsons.length === 0
        ? `No model.json among the dropped files (${names}): a TF.js model is model.json with its weight files (and metadata.json from Teachable Machine).`
        : `Several model files among the dropped files (${jsons.map((f) => f.name).join(', ')}); drop one model's model.json with its weight files.`,
    );
  }
  return readTfjsFiles(model.name, new DroppedFiles(dropped));
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

/**
 * The model as ONNX bytes, or why it does not convert (a Graph model, or a layer the converter lacks).
 * `inputSize` fills an input size the model leaves open.
 */
export function convertTfjsSource(
  source: TfjsSource,
  inputSize?: { width: number; height: number },
): { readonly onnx: Uint8Array } | { readonly reason: string } {
  if (isGraphModel(source.artifacts.modelJson)) {
    return { reason: 'it is a TF.js Graph model, which does not convert to ONNX' };
  }
  try {
    return { onnx: encodeModel(convertTfjsLayers(source.artifacts, { inputSize }).model) };
  } catch (error) {
    if (!(error instanceof SightlineError) || error.code !== 'UNSUPPORTED_OP') throw error;
    const { layer, className } = error.details as { layer?: string; className?: string };
    return {
      reason: layer
        ? `its layer '${layer}' (${className}) does not convert to ONNX`
        : error.message.replace(/\.$/, ''),
    };
  }
}

/** Files dropped on the page: flat, so a manifest's paths are matched by their last part. */
class DroppedFiles implements TfjsFiles {
  private readonly byName: ReadonlyMap<string, Uint8Array>;

  constructor(private readonly dropped: readonly NamedBytes[]) {
    this.byName = new Map(dropped.map((f) => [f.name, f.bytes]));
  }

  async read(location: string, _maxBytes: number): Promise<Uint8Array | undefined> {
    return this.byName.get(location);
  }

  beside(_base: string, relative: string): string {
    return baseName(relative);
  }

  where(): string {
    return `among the dropped files (${this.dropped.map((f) => f.name).join(', ')}); drop it together with model.json`;
  }
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

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
