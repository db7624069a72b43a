// The files of a detector's audit row: the photo with its ground-truth and detected boxes as the row's overlay,
// a thumbnail, and one overlay per explained detection and missed object with its box drawn. Rendering and
// writing are apart, as for a classifier's row (row-pictures.ts): a queue worker renders exactly what a local
// audit does, and the coordinator writes them under the same names.
import { join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../core/image.js';
import { scaleMask } from '../models/detect-mask.js';
import { drawBox } from '../render/boxes.js';
import { drawMask } from '../render/masks.js';
import { renderOverlayWithLegend } from '../render/png.js';
import type { DetectMap } from './detect.js';
import { writeAtomically } from './output.js';
import { rowPicturesProblem } from './pictures.js';
import {
  encodePicture,
  encodeThumbnail,
  fileStem,
  OVERLAY_SIDE,
  PICTURE_EXTENSION,
  type RenderedPictures,
  writeRowPictures,
} from './row-pictures.js';
import type { AuditRow, DetectRowPart } from './types.js';

const GREEN: [number, number, number] = [0, 200, 0];
const RED: [number, number, number] = [230, 0, 0];
/** The mask outline's least width in overlay pixels (drawMask's own default is 1 per 300 pixels, at least 1). */
const MIN_OUTLINE = 2;

/** A detector row's pictures: the row's two, and one per map by the key the row names it with ('det0', 'miss1'). */
export interface DetectPictures extends RenderedPictures {
  readonly maps: ReadonlyMap<string, Uint8Array>;
}

/** Renders the row's pictures (encoded as every report picture is). */
export async function renderDetectPictures(
  row: AuditRow,
  result: { image: RgbImage; maps: readonly DetectMap[] },
  method: string,
): Promise<DetectPictures> {
  const { image } = result;
  const part = row.detect as DetectRowPart;
  const maps = new Map<string, Uint8Array>();
  for (const m of result.maps) {
    const rgb = await renderOverlayWithLegend(image, m.map.data, {
      mode: m.map.signed ? 'positive' : 'absolute',
      legend: { method, target: m.caption },
      maxSide: OVERLAY_SIDE,
    });
    const scale = rgb.width / image.width;
    const rows = Math.round(image.height * scale);
    drawBox(rgb, 3, m.box.map((v) => v * scale) as unknown as [number, number, number, number], { rows });
    // Two pixels at least: the pictures' WebP keeps colour at half resolution (4:2:0), so a 1-pixel cyan
    // line next to the dark inner ring comes out grey (measured on the YOLOv8-seg fixture: median 130 from
    // cyan), while a 2-pixel one stays cyan (90% of its pixels within 92; test/e2e/audit-detect-seg.test.ts).
    if (m.mask)
      drawMask(rgb, 3, scaleMask(m.mask, scale), {
        rows,
        thickness: Math.max(MIN_OUTLINE, Math.round(Math.min(rgb.width, rows) / 300)),
      });
    maps.set(m.key, await encodePicture(rgb));
  }
  // The photo itself with every box: ground truth found in green, missed in red; detections white.
  const scale = Math.min(1, OVERLAY_SIDE / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const raw = await sharp(Buffer.from(image.data), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const photo = { width, height, data: new Uint8Array(raw) };
  const scaled = (b: readonly number[]) => b.map((v) => v * scale) as [number, number, number, number];
  for (const d of part.detections)
    if (d.object !== undefined) drawBox(photo, 3, scaled(d.box), { color: GREEN });
  for (const m of part.misses) drawBox(photo, 3, scaled(m.box), { color: RED });
  for (const d of part.detections) drawBox(photo, 3, scaled(d.box), { thickness: 1 });
  return { overlay: await encodePicture(photo), thumbnail: await encodeThumbnail(image), maps };
}

/**
 * Writes the row's pictures under `out` and returns the row naming them (map keys replaced by file paths).
 * The keys are the row's own ('det<i>', 'miss<j>'), checked by the caller where the row is untrusted.
 */
export async function writeDetectPictures(
  out: string,
  row: AuditRow,
  pictures: DetectPictures,
): Promise<AuditRow> {
  const part = row.detect as DetectRowPart;
  const stem = fileStem(row.file);
  const files = new Map<string, string>();
  for (const [key, bytes] of pictures.maps) {
    const file = `overlays/${stem}-${key}.${PICTURE_EXTENSION}`;
    await writeAtomically(join(out, file), bytes);
    files.set(key, file);
  }
  const named = <T extends { map?: string }>(e: T): T =>
    e.map === undefined ? e : { ...e, map: files.get(e.map) ?? e.map };
  return writeRowPictures(
    out,
    { ...row, detect: { ...part, detections: part.detections.map(named), misses: part.misses.map(named) } },
    pictures,
  );
}

/** Why a detector row's map files cannot be used (missing, outside `out`), or undefined when they can. */
export async function detectMapsProblem(out: string, row: AuditRow): Promise<string | undefined> {
  if (!row.detect) return undefined;
  for (const e of [...row.detect.detections, ...row.detect.misses]) {
    if (e.map === undefined) continue;
    const problem = await rowPicturesProblem(out, {
      file: row.file,
      status: 'ok',
      overlay: e.map,
      thumbnail: e.map,
    });
    if (problem !== undefined) return problem;
  }
  return undefined;
}
