// The audit's per-image pictures: one WebP encode each (overlay at OVERLAY_SIDE with its legend, thumbnail at
// THUMBNAIL_SIDE), the picture types the report recognises by their first bytes, and the WebP encoder's checks.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pictureType } from '../../src/audit/pictures.js';
import { OVERLAY_SIDE, renderRowPictures, THUMBNAIL_SIDE } from '../../src/audit/row-pictures.js';
import { SightlineError } from '../../src/core/errors.js';
import { encodeRgbWebp } from '../../src/render/png.js';

/** A 1000 × 750 photo-like gradient with noise, so the encoders have texture to work on. */
function photo(width = 1000, height = 750) {
  const data = new Uint8Array(width * height * 3);
  let seed = 7;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    data[i] = ((i / 3) % width) * (200 / width) + ((seed >>> 24) & 31);
  }
  return { width, height, data };
}

describe('renderRowPictures', () => {
  it('encodes the overlay and the thumbnail once each as WebP at their sides', async () => {
    const image = photo();
    const map = new Float32Array(image.width * image.height);
    for (let i = 0; i < map.length; i++) map[i] = (i % image.width) / image.width;
    const { overlay, thumbnail } = await renderRowPictures(
      { image, map: { width: image.width, height: image.height, data: map, signed: false } },
      { file: 'a.jpg', status: 'ok', target: { index: 0, label: 'tabby' } },
      'Grad-CAM',
    );
    expect(pictureType(overlay)).toBe('image/webp');
    expect(pictureType(thumbnail)).toBe('image/webp');
    const o = await sharp(overlay).metadata();
    // 640 wide; 480 of photo plus the legend bar below it.
    expect(o.width).toBe(OVERLAY_SIDE);
    expect(o.height).toBeGreaterThan(480);
    expect(o.height).toBeLessThan(600);
    const t = await sharp(thumbnail).metadata();
    expect([t.width, t.height]).toEqual([THUMBNAIL_SIDE, 90]);
    // A fraction of the PNG of the same pixels (the noise keeps both honest).
    const png = await sharp(overlay).png().toBuffer();
    expect(overlay.length).toBeLessThan(png.length / 4);
  });
});

describe('pictureType', () => {
  it('tells PNG, JPEG and WebP by their first bytes, and nothing else', async () => {
    const base = sharp({ create: { width: 4, height: 3, channels: 3, background: '#804020' } });
    expect(pictureType(await base.clone().png().toBuffer())).toBe('image/png');
    expect(pictureType(await base.clone().jpeg().toBuffer())).toBe('image/jpeg');
    expect(pictureType(await base.clone().webp().toBuffer())).toBe('image/webp');
    expect(pictureType(await base.clone().gif().toBuffer())).toBeUndefined();
    expect(pictureType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(pictureType(Buffer.from('RIFF\0\0\0\0WAVE'))).toBeUndefined();
    expect(pictureType(new Uint8Array([0x89, 0x50]))).toBeUndefined();
    expect(pictureType(new Uint8Array(0))).toBeUndefined();
  });
});

describe('encodeRgbWebp', () => {
  it('refuses pixels that do not match the size, a quality outside 1–100 and an effort outside 0–6', async () => {
    const image = { width: 2, height: 2, data: new Uint8Array(12) };
    await expect(encodeRgbWebp({ ...image, data: new Uint8Array(11) }, 75)).rejects.toThrow(SightlineError);
    await expect(encodeRgbWebp(image, 0)).rejects.toThrow(/quality/);
    await expect(encodeRgbWebp(image, 101)).rejects.toThrow(/quality/);
    await expect(encodeRgbWebp(image, 7.5)).rejects.toThrow(/quality/);
    expect(pictureType(await encodeRgbWebp(image, 75))).toBe('image/webp');
    await expect(encodeRgbWebp(image, 75, 7)).rejects.toThrow(/effort/);
    await expect(encodeRgbWebp(image, 75, -1)).rejects.toThrow(/effort/);
  });

  it('passes the effort to libwebp: a lower effort gives other bytes of the same picture', async () => {
    const image = photo(320, 240);
    const fast = await encodeRgbWebp(image, 75, 0);
    const thorough = await encodeRgbWebp(image, 75, 6);
    expect(Buffer.from(fast).equals(Buffer.from(thorough))).toBe(false);
    for (const bytes of [fast, thorough]) {
      const decoded = await sharp(bytes).metadata();
      expect([decoded.width, decoded.height]).toEqual([320, 240]);
    }
  });
});
