// What a worker reads for a job, each path confined to its --root folders: the model (loaded once per
// reference and kept), the image (a path or an http(s) URL) and its region mask.
import { checkShapes, readMask } from '../audit/regions/index.js';
import type { RgbImage } from '../core/image.js';
import type { Model } from '../core/model.js';
import { shapesMask } from '../core/regions/mask.js';
import { decodeSource } from '../io/fetch-image.js';
import type { ModelHints } from '../models/spec.js';
import { confine, type JobImage } from './job.js';

/** Models kept loaded at once; a worker seldom sees more than one audit's model. */
const MODELS_KEPT = 2;

/** The job's model, from the cache or loaded (its file and labels file confined to `roots`). */
export async function openModel(
  settings: { readonly model: string; readonly hints: ModelHints },
  roots: readonly string[],
  models: ModelCache,
): Promise<Model> {
  const ref =
    settings.model === 'default' || /^https?:\/\//i.test(settings.model)
      ? settings.model
      : await confine(settings.model, roots, 'model');
  const { labelsPath } = settings.hints;
  const hints =
    labelsPath === undefined
      ? settings.hints
      : { ...settings.hints, labelsPath: await confine(labelsPath, roots, 'labels file') };
  return models.get(ref, hints);
}

export async function loadJobImage(image: JobImage, roots: readonly string[]): Promise<RgbImage> {
  const url = /^https?:\/\//i.test(image.source);
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

/** Loaded models by reference and hints, the least recently used disposed beyond MODELS_KEPT. */
export class ModelCache {
  private readonly models = new Map<string, Promise<Model>>();
  constructor(private readonly load: (ref: string, hints: ModelHints) => Promise<Model>) {}

  get(ref: string, hints: ModelHints): Promise<Model> {
    const key = JSON.stringify([ref, hints]);
    let model = this.models.get(key);
    if (model) this.models.delete(key);
    else {
      model = this.load(ref, hints);
      // A model that failed to load is tried afresh by the next job (a file that was still being copied).
      model.catch(() => this.models.delete(key));
    }
    this.models.set(key, model);
    while (this.models.size > MODELS_KEPT) {
      const [oldest, loaded] = this.models.entries().next().value as [string, Promise<Model>];
      this.models.delete(oldest);
      // Jobs still running on it finish first: disposal waits for nothing, so only models idle long enough
      // to fall out of the cache are disposed; a rare overlap costs a reload, not a wrong row.
      void loaded.then((m) => m.dispose()).catch(() => {});
    }
    return model;
  }

  async dispose(): Promise<void> {
    for (const model of this.models.values()) await model.then((m) => m.dispose()).catch(() => {});
    this.models.clear();
  }
}
