// The audit tests' synthetic dataset: 64 × 64 grey photos with a bright object in the middle and a corner
// patch (the "watermark") whose grey level varies per photo, and COCO files boxing the object. The watermark
// model (analytic.ts patchModelProto on WATERMARK) scores the corner and nothing else.
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

export const SIZE = 64;
/** The "watermark": the watermark model scores the mean of this corner patch and nothing else. */
export const WATERMARK = { x0: 0, y0: 0, x1: 8, y1: 8 };
/** Where the object is drawn in every photo, and the region the audit is told to expect. */
export const OBJECT = { x: 24, y: 24, width: 16, height: 16 };

/** Photo `i`: background 90, the object at 230 − i, the watermark at 20 + 10 i. */
export async function watermarkPhoto(path: string, i: number): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE * 3, 90);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const p = (y * SIZE + x) * 3;
      if (x >= OBJECT.x && x < OBJECT.x + OBJECT.width && y >= OBJECT.y && y < OBJECT.y + OBJECT.height)
        data.fill(230 - i, p, p + 3);
      if (x < WATERMARK.x1 && y < WATERMARK.y1) data.fill(20 + 10 * i, p, p + 3);
    }
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

/** A COCO file at `path` giving every one of `files` (SIZE × SIZE) one box, category 'object'. */
export async function writeCocoBoxes(
  path: string,
  files: readonly string[],
  box: { x: number; y: number; width: number; height: number } = OBJECT,
): Promise<string> {
  await writeFile(
    path,
    JSON.stringify({
      images: files.map((file, id) => ({ id, file_name: file, width: SIZE, height: SIZE })),
      annotations: files.map((_, id) => ({
        id,
        image_id: id,
        category_id: 1,
        bbox: [box.x, box.y, box.width, box.height],
      })),
      categories: [{ id: 1, name: 'object' }],
    }),
  );
  return path;
}
