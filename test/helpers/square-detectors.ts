/** The hand-set square detectors' fixtures (scripts/golden/detectors.py, test/fixtures/detectors/). */
import { fileURLToPath } from 'node:url';
import type { RgbImage } from '../../src/core/image.js';
import { readNpy } from '../../src/io/npy-file.js';

export const DETECTORS_DIR = fileURLToPath(new URL('../fixtures/detectors/', import.meta.url));

/** The fixtures' input as an 8-bit photo (64 × 64: the letterbox is the identity). */
export async function squaresPhoto(): Promise<RgbImage> {
  const x = await readNpy(`${DETECTORS_DIR}input.npy`);
  const [, , h, w] = x.shape;
  const data = new Uint8Array(w * h * 3);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < w * h; p++) data[p * 3 + c] = Math.round(x.data[c * w * h + p] * 255);
  return { width: w, height: h, data };
}
