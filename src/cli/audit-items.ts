// The audited files as the audit's items: each one's loader, label and region mask, as the CLI reads them.
import type { AuditItem } from '../audit/audit.js';
import { checkShapes, readMask, regionsFor } from '../audit/regions/index.js';
import type { ImageRegions } from '../audit/types.js';
import { shapesMask } from '../core/regions/mask.js';
import { decodeSource } from '../io/fetch-image.js';
import { passedOverError } from '../io/list-images.js';

export interface ItemSources {
  /** Every audited file, relative to the folder (regions may name an image by its base name among them). */
  readonly files: readonly string[];
  /** Entries with an image's name that are not regular files inside the folder, and why. */
  readonly passedOver: ReadonlyMap<string, string>;
  /** Where a file is read from: its path, or a manifest's URL. */
  sourceOf(file: string): string;
  readonly labels?: ReadonlyMap<string, string>;
  readonly regions?: ReadonlyMap<string, ImageRegions>;
}

/** A function giving each file's item. */
export function auditItems(s: ItemSources): (file: string) => AuditItem {
  return (file) => {
    const imageRegions = s.regions ? regionsFor(s.regions, file, s.files) : undefined;
    return {
      file,
      load: async () => {
        const reason = s.passedOver.get(file);
        if (reason === undefined) return decodeSource(s.sourceOf(file), file);
        throw passedOverError(file, reason);
      },
      label: s.labels ? labelFor(s.labels, file) : undefined,
      regionMask: imageRegions
        ? async (width, height) => {
            if (imageRegions.maskPath) return readMask(imageRegions.maskPath, width, height);
            checkShapes(imageRegions, width, height, file);
            return shapesMask(imageRegions.shapes, width, height);
          }
        : undefined,
    };
  };
}

/** A label CSV may name images by their path in the folder or, when that is unambiguous, by base name. */
export function labelFor(labels: ReadonlyMap<string, string>, file: string): string | undefined {
  const exact = labels.get(file);
  if (exact !== undefined) return exact;
  const base = file.slice(file.lastIndexOf('/') + 1);
  return labels.get(base);
}
