/**
 * TF.js models (Layers and Graph, Teachable Machine exports included) from a folder, a model.json path, a .zip
 * of the export or an http(s) URL of a model.json. Layers models are converted to ONNX (engines/tfjs) and
 * open like any ONNX model, so every method works; Graph models, and Layers models with a layer the converter
 * lacks, run predict-only on TF.js with a note saying why. Labels and preprocessing come from hints (flags)
 * first, then a Teachable Machine metadata.json beside the model. Reading the files themselves, zips
 * included, is shared with the browser (tfjs-source.ts); this file adds the disk and the network.
 */
import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { invalidArgument, SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { isHttpUrl } from '../core/url.js';
import { displayUrl, HttpClient } from '../engines/http/index.js';
import { gradientGraphCache, sha256 } from './cache.js';
import { readLabels } from './labels-file.js';
import { openOnnxModel } from './open.js';
import { type ModelHints, specFromIo } from './spec.js';
import {
  checkZipSize,
  convertTfjsSource,
  MAX_TFJS_ZIP_BYTES,
  metadataHints,
  readTfjsFiles,
  readTfjsZip,
  type TfjsFiles,
  type TfjsSource,
  tooLargeError,
} from './tfjs-source.js';

export { metadataHints, type TfjsMetadata, type TfjsSource } from './tfjs-source.js';

/** A folder, a model.json or .zip path, or a URL whose path ends in .json names a TF.js model. */
export function isTfjsModelRef(ref: string): boolean {
  // URL.canParse: a malformed URL is not a TF.js model; the HTTP loader then refuses it as a usage error.
  if (isHttpUrl(ref)) return URL.canParse(ref) && /\.json$/i.test(new URL(ref).pathname);
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
        `${source.location} runs on TF.js for prediction only: ${converted.reason}. Input gradients and layers need a TF.js Layers model made of supported layers (docs/tfjs-models.md).`,
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
  if (isHttpUrl(ref)) return readTfjsUrl(ref);
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
  if (info.isDirectory()) {
    const modelJson = join(ref, 'model.json');
    return readTfjsFiles(modelJson, new DiskFiles(modelJson));
  }
  if (/\.zip$/i.test(ref)) {
    // Checked before reading, so a huge file is refused without loading it; read as a regular file only, and
    // no further than the limit, so a FIFO or a link to /dev/zero named .zip cannot hang or fill the memory.
    checkZipSize(info.size, ref);
    const real = await realpath(ref);
    const bytes = await readRegularFile(ref, real, MAX_TFJS_ZIP_BYTES);
    checkZipSize(bytes.byteLength, ref);
    return readTfjsZip(bytes, ref);
  }
  return readTfjsFiles(ref, new DiskFiles(ref));
}

/**
 * A model.json URL. Its user info and query values may be credentials, so none reaches a message or the
 * source's location (notes quote it): user info is refused (fetch cannot send it anyway), query values are
 * redacted as an HTTP model's are.
 */
async function readTfjsUrl(ref: string): Promise<TfjsSource> {
  const parsed = URL.canParse(ref) ? new URL(ref) : undefined;
  if (!parsed) throw invalidArgument('model', 'an http(s) URL', displayUrl(ref));
  if (parsed.username || parsed.password)
    throw invalidArgument('model', "a URL without 'user:password@'", displayUrl(ref));
  try {
    return { ...(await readTfjsFiles(ref, new UrlFiles(ref))), location: displayUrl(ref) };
  } catch (error) {
    if (!(error instanceof SightlineError)) throw error;
    const redacted = new HttpClient({ url: ref }).redact(error.message);
    throw new SightlineError(error.code, redacted, { ref: displayUrl(ref) });
  }
}

/**
 * model.json's folder on disk. Every file but model.json itself must resolve (symlinks followed) inside the
 * folder, and be a regular file: /dev/zero or a FIFO would never end, and a link could reach any file.
 */
class DiskFiles implements TfjsFiles {
  private folder: Promise<string> | undefined;

  constructor(private readonly modelJsonAt: string) {}

  async read(location: string, maxBytes: number): Promise<Uint8Array | undefined> {
    let real: string;
    try {
      real = await realpath(location);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.ioError(location, cause);
    }
    if (location !== this.modelJsonAt) {
      this.folder ??= realpath(dirname(this.modelJsonAt));
      const folder = await this.folder;
      if (!real.startsWith(folder.endsWith(sep) ? folder : folder + sep)) {
        throw new SightlineError(
          'MODEL_LOAD',
          `'${location}' leads outside the folder of '${this.modelJsonAt}' (it resolves to a file elsewhere); a TF.js model's files must lie in its folder.`,
          { ref: this.modelJsonAt, file: location },
        );
      }
    }
    return readRegularFile(location, real, maxBytes).catch((cause: unknown) => {
      throw cause instanceof SightlineError ? cause : this.ioError(location, cause);
    });
  }

  beside(base: string, relative: string): string {
    return join(dirname(base), relative);
  }

  where(location: string): string {
    return `at '${location}'`;
  }

  private ioError(location: string, cause: unknown): SightlineError {
    return new SightlineError('IO', `Cannot read '${location}': ${(cause as Error).message}`, {}, { cause });
  }
}

/**
 * At most maxBytes + 1 bytes of a regular file. Opened without blocking (a FIFO would wait for a writer) and
 * checked on the open handle, so what is read is what was checked.
 */
async function readRegularFile(location: string, real: string, maxBytes: number): Promise<Uint8Array> {
  // O_NOFOLLOW: the checked path holds no links, so one that appears there since is refused (ELOOP).
  const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new SightlineError(
        'MODEL_LOAD',
        `'${location}' is not a regular file (a device, FIFO or socket); a TF.js model's files must be regular files.`,
        { file: location },
      );
    }
    const buffer = new Uint8Array(Math.min(info.size, maxBytes) + 1);
    let filled = 0;
    while (filled < buffer.byteLength) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * model.json on a server, and its files beside it on the same origin (a manifest cannot send Sightline to
 * another host or to file://). Bodies are read no further than the caller's limit, whatever Content-Length says.
 */
class UrlFiles implements TfjsFiles {
  private readonly origin: string;

  constructor(private readonly modelJsonAt: string) {
    this.origin = new URL(modelJsonAt).origin;
  }

  async read(location: string, maxBytes: number): Promise<Uint8Array | undefined> {
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
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new SightlineError('MODEL_LOAD', `Fetching '${location}' gave HTTP ${response.status}.`, {
        url: location,
        status: response.status,
      });
    }
    const declared = Number(response.headers.get('content-length'));
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw tooLargeError(location, maxBytes, declared);
    }
    return readStream(response, location, maxBytes);
  }

  beside(base: string, relative: string): string {
    const url = new URL(relative, base);
    if (url.origin !== this.origin) {
      throw new SightlineError(
        'MODEL_LOAD',
        `The TF.js model '${this.modelJsonAt}' lists a file on another origin (${url.protocol}//${url.host}); its files must come from ${this.origin}.`,
        { ref: this.modelJsonAt },
      );
    }
    return url.href;
  }

  where(location: string): string {
    return `at '${location}'`;
  }
}

/** The body, read chunk by chunk and cancelled once it passes maxBytes. */
async function readStream(response: Response, location: string, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (cause) {
      // A dropped connection ('terminated') or the 60 s timeout, mid-body: the server's fault, not a crash.
      const why =
        (cause as Error).name === 'TimeoutError'
          ? 'no complete answer within 60 s'
          : (cause as Error).message;
      throw new SightlineError(
        'MODEL_LOAD',
        `Cannot fetch '${location}': the answer broke off after ${total} bytes (${why}).`,
        { url: location },
        { cause },
      );
    }
    const { done, value } = next;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLargeError(location, maxBytes, total);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
