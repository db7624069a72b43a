// report.html's heat maps are encoded without sharp (src/audit/report/png.ts) so the web app renders the same
// report; sharp (libvips' PNG decoder) must read them back to the very pixels given, and nearest-neighbour
// upscaling must repeat each pixel as a square.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeSmallPng, upscaleNearest } from '../../src/audit/report/png.js';

describe('encodeSmallPng', () => {
  it('writes a PNG that sharp decodes to the same RGB pixels', async () => {
    const [width, height] = [37, 11];
    const data = new Uint8Array(width * height * 3).map((_, i) => (i * 97 + (i >> 5)) % 256);
    const png = encodeSmallPng({ width, height, data });
    const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width, height, channels: 3 });
    expect(new Uint8Array(decoded.data)).toEqual(data);
  });

  it('upscales by repeating each pixel as a scale × scale square', () => {
    const image = { width: 2, height: 1, data: Uint8Array.of(1, 2, 3, 4, 5, 6) };
    const big = upscaleNearest(image, 2);
    expect([big.width, big.height]).toEqual([4, 2]);
    expect([...big.data]).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  });
});
