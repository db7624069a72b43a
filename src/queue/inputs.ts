// What a worker reads for a job, each path confined to its --root folders: the model (loaded once and kept), an
// embedding model's reference (read once per hash and kept), the image (a path or an http(s) URL) and its region
// mask.
import { checkShapes, readMask } from '../audit/regions/index.js';
import type { RgbImage } from '../core/image.js';
import type { Model } from '../core/model.js';
import { shapesMask } from '../core/regions/mask.js';
import { isHttpUrl } from '../core/url.js';
import { decodeImage } from '../io/decode.js';
import { decodeSource, fetchImage } from '../io/fetch-image.js';
import { readRegularFile } from '../io/read-file.js';
import { type Reference, readReferenceFile } from '../io/reference-file.js';
import type { ModelHints } from '../models/spec.js';
import { confine } from './confine.js';
import type { JobImage, JobReference } from './job.js';

/** Models kept loaded at once; a worker seldom sees more than one audit's model. */
const MODELS_KEPT = 2;
/** References kept decoded at once (a photo is a few megabytes; a vector far less). */
const REFERENCES_KEPT = 2;

/** The job's model, from the cache or loaded (its file and labels file confined to `roots`). */
export async function openModel(
  settings: { readonly model: string; readonly hints: ModelHints },
  roots: readonly string[],
  models: ModelCache,
): Promise<Model> {
  const ref =
    settings.model === 'default' || isHttpUrl(settings.model)
      ? settings.model
      : await confine(settings.model, roots, 'model');
  const { labelsPath } = settings.hints;
  const hints =
    labelsPath === undefined
      ? settings.hints
      : { ...settings.hints, labelsPath: await confine(labelsPath, roots, 'labels file') };
  return models.get(ref, hints);
}

/** The image's bytes read ahead of its decoding, and the name decoding gives it in messages. */
export interface ReadAhead {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** Images larger than this are not read ahead (a worker holds one such read per waiting job). */
const READ_AHEAD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The image's bytes, read (or fetched) while its job waits for a model lane, so the read overlaps the previous
 * job's model passes: with a small model the read took a sixth of a job's lane time, and over HTTP it can take
 * longer than the passes. Only reading happens early: decoding, which a hostile file could make fatal, stays in
 * the job's counted work (lanes.ts). Best effort: any failure, or a file over READ_AHEAD_MAX_BYTES, gives
 * undefined, and loadJobImage reads the image itself, with the messages a local audit gives.
 */
export async function readJobImageAhead(
  image: JobImage,
  roots: readonly string[],
): Promise<ReadAhead | undefined> {
  try {
    if (isHttpUrl(image.source))
      return { bytes: await fetchImage(image.source, image.file, READ_AHEAD_MAX_BYTES), name: image.file };
    const path = await confine(image.source, roots, 'image');
    const bytes = await readRegularFile(path, { maxBytes: READ_AHEAD_MAX_BYTES, expected: 'an image file' });
    return { bytes, name: path };
  } catch {
    return undefined;
  }
}

/** The job's image decoded: from the bytes read ahead when there are some, else read here. */
export async function loadJobImage(
  image: JobImage,
  roots: readonly string[],
  ahead?: Promise<ReadAhead | undefined>,
): Promise<RgbImage> {
  const read = await ahead;
  // decodeImage names a file by the path it was given and a fetched image by the job's name, as decodeSource.
  if (read) return decodeImage(read.bytes, { name: read.name });
  const url = isHttpUrl(image.source);
  return decodeSource(url ? image.source : await confine(image.source, roots, 'image'), image.file);
}

/** The job's region as a mask at the image's size (a mask file confined to `roots`, or its shapes). */
export async function jobRegionMask(
  image: JobImage,
  roots: readonly string[],
  width: number,
  height: number,
): Promise<Uint8Array> {
  const regions = image.regions as NonNullable<JobImage['regions']>;
  if (regions.maskPath) return readMask(await confine(regions.maskPath, roots, 'region mask'), width, height);
  checkShapes(regions, width, height, image.file);
  return shapesMask(regions.shapes, width, height);
}

/** The job's reference, its file confined to `roots`, read once per hash and refused when its bytes differ. */
export async function openReference(
  reference: JobReference | undefined,
  roots: readonly string[],
  references: ReferenceCache,
): Promise<Reference | undefined> {
  if (reference === undefined) return undefined;
  const path = await confine(reference.path, roots, 'reference');
  return references.get(reference.sha256, () =>
    readReferenceFile(path, reference.sha256).then((file) => file.reference),
  );
}

/**
 * What a worker loads once and keeps, by key: a load that fails is tried afresh by the next job (a file that
 * was still being copied); the least recently used is let go beyond `size`.
 */
class Kept<T> {
  private readonly loads = new Map<string, Promise<T>>();
  constructor(
    private readonly size: number,
    private readonly release: (value: T) => Promise<void> = async () => {},
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.loads.get(key);
    if (value) this.loads.delete(key);
    else {
      const loading = load();
      loading.catch(() => {
        if (this.loads.get(key) === loading) this.loads.delete(key);
      });
      value = loading;
    }
    this.loads.set(key, value);
    while (this.loads.size > this.size) {
      const [oldest, loaded] = this.loads.entries().next().value as [string, Promise<T>];
      this.loads.delete(oldest);
      void loaded.then(this.release).catch(() => {});
    }
    return value;
  }

  async clear(): Promise<void> {
    for (const value of this.loads.values()) await value.then(this.release).catch(() => {});
    this.loads.clear();
  }
}

/** Loaded models by reference and hints, the least recently used disposed beyond MODELS_KEPT. */
export class ModelCache {
  // A model let go is disposed without waiting for jobs still running on it: only a model idle long enough to
  // fall out of the cache is let go, and a rare overlap costs a reload, not a wrong row.
  private readonly models = new Kept<Model>(MODELS_KEPT, (m) => m.dispose());
  constructor(private readonly load: (ref: string, hints: ModelHints) => Promise<Model>) {}

  get(ref: string, hints: ModelHints): Promise<Model> {
    return this.models.get(JSON.stringify([ref, hints]), () => this.load(ref, hints));
  }

  dispose(): Promise<void> {
    return this.models.clear();
  }
}

/** References read, by the SHA-256 of their bytes: one per run, so a few are plenty. */
export class ReferenceCache extends Kept<Reference> {
  constructor() {
    super(REFERENCES_KEPT);
  }
}
