import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import { createRng } from '../../src/core/random.js';
import { colormap } from '../../src/render/colormaps.js';
import { legendBar, legendCaption, legendLabels } from '../../src/render/legend.js';
import { renderOverlay } from '../../src/render/overlay.js';
import {
  compressionLevel,
  encodePng,
  renderOverlayPng,
  renderOverlayWithLegend,
} from '../../src/render/png.js';

function rampPixel(bar: ReturnType<typeof legendBar>, x: number): number[] {
  const o = ((bar.ramp.y + 1) * bar.bar.width + bar.ramp.x + x) * 4;
  return [...bar.bar.data.subarray(o, o + 3)];
}

function lut(name: 'viridis' | 'coolwarm', i: number): number[] {
  return [...colormap(name).lut.subarray(i * 3, i * 3 + 3)];
}

describe('legend layout (pure)', () => {
  it('says what the colours mean in words', () => {
    expect(legendLabels('absolute')).toEqual(['low attention', 'high attention']);
    expect(legendLabels('signed')).toEqual(['against the class', '0', 'for the class']);
    expect(legendCaption('absolute', 'Grad-CAM', 'cat')).toBe('Where the model looked for “cat” · Grad-CAM');
    expect(legendCaption('signed', 'Integrated Gradients', 'cat')).toBe(
      'What spoke for and against “cat” · Integrated Gradients',
    );
  });

  it('draws the ramp end to end with the colormap, inside a white bar as wide as the photo', () => {
    const bar = legendBar(300, { mode: 'absolute', colormap: 'viridis' });
    expect(bar.bar.width).toBe(300);
    expect(bar.bar.data.length).toBe(300 * bar.bar.height * 4);
    expect(rampPixel(bar, 0)).toEqual(lut('viridis', 0));
    expect(rampPixel(bar, bar.ramp.width - 1)).toEqual(lut('viridis', 255));
    expect([...bar.bar.data.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
    expect(bar.ramp.x + bar.ramp.width).toBeLessThanOrEqual(300);
    expect(bar.ramp.y + bar.ramp.height).toBeLessThan(bar.bar.height);
  });

  it('centres zero on a signed ramp', () => {
    const bar = legendBar(201, { mode: 'signed', colormap: 'coolwarm' });
    expect(rampPixel(bar, 0)).toEqual(lut('coolwarm', 0));
    expect(rampPixel(bar, (bar.ramp.width - 1) / 2)).toEqual(lut('coolwarm', 128));
    expect(rampPixel(bar, bar.ramp.width - 1)).toEqual(lut('coolwarm', 255));
    expect(bar.svg).toContain('>against the class</text>');
    expect(bar.svg).toContain('text-anchor="middle">0</text>');
  });

  it('adds a caption line only when method and target are given, and escapes it', () => {
    const plain = legendBar(400, { mode: 'absolute', colormap: 'turbo' });
    const captioned = legendBar(400, {
      mode: 'absolute',
      colormap: 'turbo',
      method: 'Grad-CAM',
      target: `cat & <dog> "x" 'y'`,
    });
    expect(captioned.bar.height).toBeGreaterThan(plain.bar.height);
    expect(captioned.svg).toContain('“cat &#38; &#60;dog&#62; &#34;x&#34; &#39;y&#39;” · Grad-CAM');
    expect(captioned.svg).not.toContain('<dog>');
  });

  it('wraps a long caption onto two lines and ends what does not fit with an ellipsis', () => {
    const bar = legendBar(224, {
      mode: 'absolute',
      colormap: 'turbo',
      method: 'Grad-CAM',
      target: 'golden retriever',
    });
    expect(bar.svg.match(/<text /g)?.length).toBe(4);
    const long = legendBar(120, {
      mode: 'absolute',
      colormap: 'turbo',
      method: 'M'.repeat(80),
      target: 'cat',
    });
    expect(long.svg).toContain('…');
  });

  it('fits photos only a few pixels wide and refuses nonsense widths', () => {
    for (const width of [1, 2, 5, 17]) {
      const bar = legendBar(width, { mode: 'signed', colormap: 'coolwarm' });
      expect(bar.ramp.x + bar.ramp.width).toBeLessThanOrEqual(width);
      expect(bar.ramp.width).toBeGreaterThanOrEqual(1);
    }
    expect(() => legendBar(0, { mode: 'absolute', colormap: 'turbo' })).toThrow("Argument 'width'");
  });

  it('is a well-formed SVG that sharp can rasterise', async () => {
    const bar = legendBar(320, { mode: 'signed', colormap: 'coolwarm', method: 'IG', target: 'a & b' });
    const meta = await sharp(Buffer.from(bar.svg)).metadata();
    expect([meta.width, meta.height]).toEqual([320, bar.bar.height]);
  });
});

describe('PNG output (Node)', () => {
  it('encodePng keeps every RGBA byte', async () => {
    const data = Uint8ClampedArray.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 9, 9, 9, 255]);
    const png = await encodePng({ width: 2, height: 2, data });
    const { data: back, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([2, 2, 4]);
    expect([...back]).toEqual([...data]);
  });

  it('renderOverlayPng appends the legend under the unchanged overlay', async () => {
    const width = 160;
    const height = 90;
    const image: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(90) };
    const map = new Float32Array(width * height).map((_, i) => Math.exp(-(((i % width) - 80) ** 2) / 400));
    const options = { legend: { method: 'Grad-CAM', target: 'kite' } };
    const png = await renderOverlayPng(image, map, options);
    const legend = legendBar(width, {
      mode: 'absolute',
      colormap: 'turbo',
      method: 'Grad-CAM',
      target: 'kite',
    });
    // The overlay and the legend are opaque, so the PNG has no alpha channel (a quarter fewer bytes to encode).
    expect((await sharp(png).metadata()).channels).toBe(3);
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([width, height + legend.bar.height, 4]);
    expect([...data.subarray(0, width * height * 4)]).toEqual([...renderOverlay(image, map).data]);
    // The ramp survives under the text layer.
    const o = ((height + legend.ramp.y + 1) * width + legend.ramp.x) * 4;
    expect([...data.subarray(o, o + 3)]).toEqual([...colormap('turbo').lut.subarray(0, 3)]);
  });

  it('renderOverlayWithLegend draws the same pixels as renderOverlay, as RGB, on a photo over a megapixel', async () => {
    const [width, height] = [1100, 1000];
    const rng = createRng(12);
    const image: RgbImage = {
      width,
      height,
      data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rng.next() * 256)),
    };
    const map = new Float32Array(width * height).map((_, i) => Math.sin(i / 40_000) + 0.2 * rng.next());
    const rgb = await renderOverlayWithLegend(image, map);
    const rgba = renderOverlay(image, map).data;
    let differing = 0;
    for (let i = 0; i < width * height; i++)
      for (let k = 0; k < 3; k++) if (rgb.data[i * 3 + k] !== rgba[i * 4 + k]) differing++;
    expect(differing).toBe(0);
    // The outline is there too: white and black pixels the photo's noise alone would rarely give in threes.
    expect(rgba.some((v, i) => i % 4 === 0 && v === 255 && rgba[i + 1] === 255 && rgba[i + 2] === 255)).toBe(
      true,
    );
  });

  it('renderOverlayPng draws at most maxSide pixels on the longer side', async () => {
    const [width, height] = [1200, 800];
    const image: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(90) };
    const map = new Float32Array(width * height).map((_, i) => i % width);
    const png = await renderOverlayPng(image, map, { maxSide: 300 });
    const bar = legendBar(300, { mode: 'absolute', colormap: 'turbo' });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([300, 200 + bar.bar.height]);
    // The map rises left to right: turbo's dark start on the left, its red end on the right (top row, no outline).
    expect(data[0]).toBeLessThan(data[(300 - 1) * info.channels]);
    await expect(renderOverlayPng(image, map, { maxSide: 0 })).rejects.toThrow("Argument 'maxSide'");
  });

  it('stores photo-like overlays uncompressed and compresses flat ones', () => {
    const [width, height] = [256, 64];
    const rng = createRng(1);
    const noisy = new Uint8ClampedArray(width * height * 4).map((_, i) =>
      i % 4 === 3 ? 255 : rng.next() * 256,
    );
    const flat = new Uint8ClampedArray(width * height * 4).fill(200);
    expect(compressionLevel(noisy, width, height, 4)).toBe(0);
    expect(compressionLevel(flat, width, height, 4)).toBe(6);
  });

  const fonts = spawnSync('fc-list', { encoding: 'utf8' });
  it.skipIf(fonts.status !== 0 || fonts.stdout.trim() === '')(
    'draws the caption text where fonts exist',
    async () => {
      const width = 200;
      const image: RgbImage = { width, height: 10, data: new Uint8Array(width * 10 * 3) };
      const png = await renderOverlayPng(image, new Float32Array(width * 10), {
        legend: { method: 'Grad-CAM', target: 'kite' },
      });
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      const legend = legendBar(width, {
        mode: 'absolute',
        colormap: 'turbo',
        method: 'Grad-CAM',
        target: 'kite',
      });
      // Dark pixels in the caption line, above the ramp, can only be text.
      let dark = 0;
      for (let y = 10; y < 10 + legend.ramp.y; y++) {
        for (let x = 0; x < info.width; x++) if (data[(y * info.width + x) * info.channels] < 128) dark++;
      }
      expect(dark).toBeGreaterThan(20);
    },
  );
});
