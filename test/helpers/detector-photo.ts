// The square detectors' test image (scripts/golden/detectors.py, test/fixtures/detectors/input.npy) as a photo a
// user gives: twice the size and not square (128 × 96), so the letterbox and its mapping back are on the path.
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readNpy } from '../../src/io/npy-file.js';

export const DETECTOR_FIXTURES = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));

/** Writes the 128 × 96 PNG to `file`: 64 × 64 → 128 × 128 by nearest (exact squares), the bottom 32 rows cut. */
export async function writeSquaresPhoto(file: string): Promise<void> {
  const x = await readNpy(`${DETECTOR_FIXTURES}input.npy`);
  const data = Buffer.alloc(64 * 64 * 3);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 4096; p++) data[p * 3 + c] = Math.round(x.data[c * 4096 + p] * 255);
  await sharp(data, { raw: { width: 64, height: 64, channels: 3 } })
    .resize(128, 128, { kernel: 'nearest' })
    .extract({ left: 0, top: 0, width: 128, height: 96 })
    .png()
    .toFile(file);
}
