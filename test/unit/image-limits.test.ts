import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { checkImageSize, MAX_ASPECT_RATIO, MAX_IMAGE_SIDE } from '../../src/io/image-limits.js';

function refusal(width: number, height: number, maxPixels = 50_000_000): SightlineError {
  try {
    checkImageSize('p.png', width, height, maxPixels);
  } catch (error) {
    expect(error).toBeInstanceOf(SightlineError);
    return error as SightlineError;
  }
  throw new Error(`${width}×${height} was accepted`);
}

describe('checkImageSize', () => {
  it('accepts real photos and panoramas up to the limits', () => {
    for (const [w, h] of [
      [768, 576],
      [8000, 6000], // 48 MP phone photo
      [30000, 1500], // 20:1 stitched panorama, 45 MP
      [MAX_IMAGE_SIDE, 66], // longest side at its limit, 993:1
      [1000, 1], // aspect ratio at its limit
      [1, 1],
    ])
      expect(() => checkImageSize('p.png', w, h, 50_000_000), `${w}×${h}`).not.toThrow();
  });

  it('refuses a side over 65,535 pixels even when the pixel count is small (the 49,000,000 × 1 PNG)', () => {
    const error = refusal(49_000_000, 1);
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toBe(
      "'p.png' is 49000000×1, a side of 49000000 pixels, over the limit of 65535 pixels a side.",
    );
    expect(refusal(1000, MAX_IMAGE_SIDE + 1).details).toMatchObject({ maxSide: 65535, height: 65536 });
  });

  it('refuses an aspect ratio beyond 1000:1 either way round', () => {
    expect(refusal(1001, 1).message).toBe(
      "'p.png' is 1001×1, an aspect ratio of 1001:1, beyond the limit of 1000:1.",
    );
    expect(refusal(20, 50_000).details).toMatchObject({ maxAspectRatio: MAX_ASPECT_RATIO });
  });

  it('still refuses over maxPixels, and a size of zero as undecodable', () => {
    expect(refusal(60_000, 60_000).message).toBe(
      "'p.png' is 60000×60000 = 3600 megapixels, over the limit of 50 megapixels; pass a higher maxPixels to allow it.",
    );
    const zero = refusal(0, 10);
    expect(zero.code).toBe('IMAGE_DECODE');
    expect(zero.message).toBe(
      "'p.png' declares a size of 0×10; expected a width and height of at least 1 pixel.",
    );
  });
});
