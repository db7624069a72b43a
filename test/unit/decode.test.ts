import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Color, type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import { decodeImage } from '../../src/io/decode.js';
import { blankPng } from '../helpers/images.js';

const DOG = '/work/shared/images/dog.jpg';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-decode-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function pixel(image: RgbImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return [...image.data.subarray(i, i + 3)];
}

function solid(width: number, height: number, channels: 3 | 4, colour: Color) {
  return sharp({ create: { width, height, channels, background: colour } });
}

async function rejection(promise: Promise<unknown>): Promise<SightlineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  return error as SightlineError;
}

describe('decodeImage: formats', () => {
  it('flattens a half-transparent PNG onto white', async () => {
    // 50% opaque pure red over white: 255·0.5 + 255·0.5 = 255 red, 0·0.5 + 255·0.5 ≈ 128 green and blue.
    const png = await solid(4, 3, 4, { r: 255, g: 0, b: 0, alpha: 128 / 255 })
      .png()
      .toBuffer();
    const image = await decodeImage(png);
    expect([image.width, image.height, image.data.length]).toEqual([4, 3, 4 * 3 * 3]);
    const [r, g, b] = pixel(image, 2, 1);
    expect(r).toBe(255);
    expect(Math.abs(g - 127)).toBeLessThanOrEqual(1);
    expect(Math.abs(b - 127)).toBeLessThanOrEqual(1);
  });

  it('turns a fully transparent pixel white', async () => {
    const png = await solid(2, 2, 4, { r: 0, g: 0, b: 0, alpha: 0 }).png().toBuffer();
    expect(pixel(await decodeImage(png), 0, 0)).toEqual([255, 255, 255]);
  });

  it('applies EXIF orientation 6 (rotate 90° clockwise): width and height swap, pixels move', async () => {
    // Stored 40×20: left half red, right half blue. Orientation 6 displays it rotated 90° clockwise, so
    // the displayed image is 20×40 with red on top and blue at the bottom.
    const raw = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    }
    const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const image = await decodeImage(jpeg);
    expect([image.width, image.height]).toEqual([20, 40]);
    const top = pixel(image, 10, 5);
    const bottom = pixel(image, 10, 34);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(50);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(50);
  });

  it('expands a one-channel greyscale PNG to RGB', async () => {
    const png = await solid(5, 4, 3, '#606060').toColourspace('b-w').png().toBuffer();
    expect((await sharp(png).metadata()).channels).toBe(1);
    const image = await decodeImage(png);
    expect(image.data.length).toBe(5 * 4 * 3);
    expect(pixel(image, 4, 3)).toEqual([0x60, 0x60, 0x60]);
  });

  it('reduces a 16-bit PNG to 8 bits', async () => {
    const png = await solid(3, 3, 3, { r: 255, g: 128, b: 0 }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    expect(pixel(await decodeImage(png), 1, 1)).toEqual([255, 128, 0]);
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const jpeg = await solid(8, 8, 3, { r: 255, g: 128, b: 0 }).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk');
    const image = await decodeImage(jpeg);
    expect(image.data.length).toBe(8 * 8 * 3);
    const [r, g, b] = pixel(image, 4, 4);
    // The round trip goes through ICC profiles, so only roughly orange.
    expect(r).toBeGreaterThan(220);
    expect(Math.abs(g - 128)).toBeLessThan(25);
    expect(b).toBeLessThan(40);
  });

  it('reads the first frame of an animated GIF', async () => {
    const frames = new Uint8Array(6 * 4 * 2 * 3);
    for (let i = 0; i < 6 * 4; i++) {
      frames.set([255, 0, 0], i * 3); // frame 1 red
      frames.set([0, 0, 255], (6 * 4 + i) * 3); // frame 2 blue
    }
    const gif = await sharp(frames, { raw: { width: 6, height: 8, channels: 3, pageHeight: 4 } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await decodeImage(gif);
    expect([image.width, image.height]).toEqual([6, 4]);
    expect(pixel(image, 3, 3)).toEqual([255, 0, 0]);
  });

  it.each([
    ['WebP', (s: Sharp) => s.webp({ lossless: true })],
    ['TIFF', (s: Sharp) => s.tiff()],
    ['AVIF', (s: Sharp) => s.avif({ lossless: true })],
  ])('reads %s', async (_format, encode) => {
    const bytes = await encode(solid(16, 8, 3, { r: 10, g: 200, b: 60 })).toBuffer();
    const image = await decodeImage(bytes);
    expect([image.width, image.height]).toEqual([16, 8]);
    const got = pixel(image, 8, 4);
    [10, 200, 60].forEach((want, k) => {
      expect(Math.abs(got[k] - want)).toBeLessThanOrEqual(3);
    });
  });

  it('reads a real photo from a path', async () => {
    const image = await decodeImage(DOG);
    expect([image.width, image.height, image.data.length]).toEqual([768, 576, 768 * 576 * 3]);
  });
});

describe('decodeImage: refusals', () => {
  it('refuses a truncated JPEG instead of returning a grey half-image', async () => {
    const whole = await readFile(DOG);
    const path = join(dir, 'half.jpg');
    await writeFile(path, whole.subarray(0, whole.length >> 1));
    const error = await rejection(decodeImage(path));
    expect(error.code).toBe('IMAGE_DECODE');
    expect(error.message).toContain(`'${path}' could not be decoded as JPEG`);
    expect(error.message).toContain('truncated');
  });

  it('refuses a 0-byte file', async () => {
    const path = join(dir, 'empty.png');
    await writeFile(path, new Uint8Array(0));
    const error = await rejection(decodeImage(path));
    expect(error.code).toBe('IMAGE_DECODE');
    expect(error.message).toBe(
      `'${path}' is empty (0 bytes); expected JPEG, PNG, WebP, GIF, TIFF or AVIF data.`,
    );
  });

  it('refuses a text file named .jpg', async () => {
    const path = join(dir, 'notes.jpg');
    await writeFile(path, 'shopping list: eggs, milk\n');
    const error = await rejection(decodeImage(path));
    expect(error.code).toBe('IMAGE_DECODE');
    expect(error.message).toMatch(
      new RegExp(
        `^'${path}' is not an image sharp can read \\(expected JPEG, PNG, WebP, GIF, TIFF or AVIF\\): `,
      ),
    );
  });

  it('refuses formats outside the list, such as SVG', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>';
    const error = await rejection(decodeImage(new TextEncoder().encode(svg), { name: 'logo.svg' }));
    expect(error.code).toBe('IMAGE_DECODE');
    expect(error.message).toBe(
      "'logo.svg' is a SVG file, which Sightline does not read (expected JPEG, PNG, WebP, GIF, TIFF or AVIF).",
    );
  });

  it('refuses a 20000×20000 PNG from its header, before decoding any pixel', async () => {
    const png = blankPng(20000, 20000);
    expect(png.length).toBeLessThan(1_000_000);
    expect(await sharp(png, { limitInputPixels: false }).metadata()).toMatchObject({
      width: 20000,
      height: 20000,
    });
    const path = join(dir, 'big.png');
    await writeFile(path, png);
    const started = performance.now();
    const heapBefore = process.memoryUsage().rss;
    const error = await rejection(decodeImage(path));
    expect(performance.now() - started).toBeLessThan(1000);
    // Decoding would need 400 MB for the grey plane alone.
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(100e6);
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toBe(
      `'${path}' is 20000×20000 = 400 megapixels, over the limit of 50 megapixels; pass a higher maxPixels to allow it.`,
    );
    expect(error.details).toMatchObject({ width: 20000, height: 20000, maxPixels: 50_000_000 });
  });

  it('honours a custom maxPixels', async () => {
    const png = await solid(100, 100, 3, '#000000').png().toBuffer();
    const error = await rejection(decodeImage(png, { maxPixels: 9999, name: 'upload.png' }));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toContain("'upload.png' is 100×100 = 10000 pixels, over the limit of 9999 pixels");
    expect((await decodeImage(png, { maxPixels: 10000 })).width).toBe(100);
  });

  it('refuses a missing file with an IO error', async () => {
    const path = join(dir, 'nowhere.jpg');
    const error = await rejection(decodeImage(path));
    expect(error.code).toBe('IO');
    expect(error.message).toBe(
      `Cannot read '${path}': no such file or folder; expected a readable image file.`,
    );
  });

  it('rejects a nonsensical maxPixels', async () => {
    const error = await rejection(decodeImage(DOG, { maxPixels: 0 }));
    expect(error.code).toBe('INVALID_ARGUMENT');
  });
});
