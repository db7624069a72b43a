// One audited image's pictures for the report: the overlay and the thumbnail, rendered from its map and
// written beside the journal. Split out of the CLI so a queue worker renders exactly what a local audit does
// and the coordinator writes them under the same names.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import type { AttributionMap } from '../core/attribution.js';
import { lowConfidenceCaption } from '../core/confidence.js';
import type { RgbImage } from '../core/image.js';
import { encodeRgbWebp, renderOverlayWithLegend } from '../render/png.js';
import { writeAtomically } from './output.js';
import type { AuditRow } from './types.js';

/** Longer side of the overlays kept for the report: the detail dialog's width (they are inlined, so they stay modest). */
export const OVERLAY_SIDE = 640;
/** Twice the table's 64 CSS pixels, sharp on a high-density screen. */
export const THUMBNAIL_SIDE = 120;

/**
 * The pictures' file type. WebP at quality 75: on the ten sample photos a 640-pixel overlay is 32–34 KiB and a
 * thumbnail 2 KiB, against 634 and 27 KiB as PNG (JPEG at 75: 47 KiB), and every current browser shows it.
 */
export const PICTURE_EXTENSION = 'webp';
const WEBP_QUALITY = 75;
/**
 * libwebp's effort 2 rather than sharp's default 4: on the sample photos' 640-pixel overlays 9.6 against 21.9 ms
 * of CPU for 33.9 against 32.6 KiB (effort 0: 6.5 ms, 40.7 KiB). An audit spends on the order of 100 ms of CPU
 * an image, the model included, so this is a tenth of it for 4% more bytes.
 */
const WEBP_EFFORT = 2;

/** A row's two pictures, encoded (WebP). */
export interface RenderedPictures {
  readonly overlay: Uint8Array;
  readonly thumbnail: Uint8Array;
}

/** The overlay (the map over the image, with its legend) and the thumbnail of one audited image. */
export async function renderRowPictures(
  result: { image: RgbImage; map: AttributionMap },
  row: AuditRow,
  methodTitle: string,
): Promise<RenderedPictures> {
  const mode = result.map.signed ? 'positive' : 'absolute';
  // Drawn at OVERLAY_SIDE and encoded once: no full-size picture is made and then shrunk.
  const overlay = await encodePicture(
    await renderOverlayWithLegend(result.image, result.map.data, {
      mode,
      legend: {
        method: methodTitle,
        target: row.target?.label ?? '',
        ...(row.lowConfidence ? { note: lowConfidenceCaption(row.lowConfidence) } : {}),
      },
      maxSide: OVERLAY_SIDE,
    }),
  );
  return { overlay, thumbnail: await encodeThumbnail(result.image) };
}

/** A picture already drawn at its display size, encoded as every report picture is (PICTURE_EXTENSION). */
export function encodePicture(rgb: RgbImage): Promise<Uint8Array> {
  return encodeRgbWebp(rgb, WEBP_QUALITY, WEBP_EFFORT);
}

/** The photo shrunk to fit `side` (THUMBNAIL_SIDE unless told), encoded as every report picture is. */
export async function encodeThumbnail(image: RgbImage, side = THUMBNAIL_SIDE): Promise<Uint8Array> {
  const thumbnail = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(side, side, { fit: 'inside' })
    .webp({ quality: WEBP_QUALITY, effort: WEBP_EFFORT })
    .toBuffer();
  return new Uint8Array(thumbnail.buffer, thumbnail.byteOffset, thumbnail.byteLength);
}

/** Writes a row's pictures into `out` and returns the row naming them (files first, then the journal line). */
export async function writeRowPictures(
  out: string,
  row: AuditRow,
  pictures: RenderedPictures,
): Promise<AuditRow> {
  const name = fileStem(row.file);
  const overlay = `overlays/${name}.${PICTURE_EXTENSION}`;
  const thumbnail = `thumbnails/${name}.${PICTURE_EXTENSION}`;
  await writeAtomically(join(out, overlay), pictures.overlay);
  await writeAtomically(join(out, thumbnail), pictures.thumbnail);
  return { ...row, overlay, thumbnail };
}

/** A file name safe on every file system and unique per row: the readable part plus a hash of the full path. */
export function fileStem(file: string): string {
  const hash = createHash('sha256').update(file).digest('hex').slice(0, 8);
  return `${file.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80)}-${hash}`;
}
