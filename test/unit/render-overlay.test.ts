import { describe, expect, it } from 'vitest';
import type { RgbaImage, RgbImage } from '../../src/core/image.js';
import { createRng } from '../../src/core/random.js';
import { colormap, lutIndex, rampPosition } from '../../src/render/colormaps.js';
import { normalizeMap } from '../../src/render/normalize.js';
import { drawOutline, smoothMap, topThreshold } from '../../src/render/outline.js';
import { drawOverlay, renderOverlay, topRegion } from '../../src/render/overlay.js';

function grey(width: number, height: number, level = 128): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3).fill(level) };
}

function rgb(image: RgbaImage, i: number): number[] {
  return [...image.data.subarray(i * 4, i * 4 + 3)];
}

describe('renderOverlay blending', () => {
  it('blends each pixel as (1 − opacity) · photo + opacity · colour', () => {
    // Map [0, 1] normalises to [0, 1]: turbo(0) = (35, 23, 27) and turbo(1) = (144, 12, 0) in d3.
    const image = { width: 2, height: 1, data: Uint8Array.from([40, 80, 120, 200, 100, 0]) };
    const out = renderOverlay(image, new Float32Array([0, 1]), {
      opacity: 0.25,
      outlineTop: 0,
      clipPercentile: 100,
    });
    // 0.75·40 + 0.25·35 = 38.75, 0.75·80 + 0.25·23 = 65.75, 0.75·120 + 0.25·27 = 96.75
    expect(rgb(out, 0)).toEqual([39, 66, 97]);
    // 0.75·200 + 0.25·144 = 186, 0.75·100 + 0.25·12 = 78, 0
    expect(rgb(out, 1)).toEqual([186, 78, 0]);
    expect([out.data[3], out.data[7]]).toEqual([255, 255]);
    expect([out.width, out.height]).toEqual([2, 1]);
  });

  it('opacity 0 keeps the photo, opacity 1 shows only the colour', () => {
    const image = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const map = new Float32Array([0, 1]);
    expect(rgb(renderOverlay(image, map, { opacity: 0, outlineTop: 0 }), 1)).toEqual([4, 5, 6]);
    expect(rgb(renderOverlay(image, map, { opacity: 1, outlineTop: 0, colormap: 'gray' }), 1)).toEqual([
      255, 255, 255,
    ]);
  });

  it('on a diverging map, weights the colour by the distance from zero so 0 leaves the photo untouched', () => {
    const image = grey(3, 1, 100);
    const out = renderOverlay(image, new Float32Array([-1, 0, 0.5]), {
      mode: 'signed',
      opacity: 0.4,
      outlineTop: 0,
      clipPercentile: 100,
    });
    // −1 → the blue end (5, 48, 97) at full opacity: 0.6·100 + 0.4·(5, 48, 97) = (62, 79.2, 98.8).
    expect(rgb(out, 0)).toEqual([62, 79, 99]);
    expect(rgb(out, 1)).toEqual([100, 100, 100]);
    // 0.5 → reddish, but lighter than the full-strength end.
    const [r, , b] = rgb(out, 2);
    expect(r).toBeGreaterThan(b);
  });

  it('uses the requested colormap', () => {
    const out = renderOverlay(grey(2, 1, 0), new Float32Array([0, 1]), {
      colormap: 'viridis',
      opacity: 1,
      outlineTop: 0,
    });
    expect(rgb(out, 1)).toEqual([0xfd, 0xe7, 0x25]);
  });
});

describe('renderOverlay on a photo of 65,536 pixels or more (colours from a precomputed table)', () => {
  it('gives every pixel (1 − opacity) · photo + opacity · colour, as the formula does', () => {
    const [width, height] = [1100, 1000];
    const rng = createRng(11);
    const photo = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rng.next() * 256));
    const map = Float32Array.from({ length: width * height }, () => rng.next() * 3 - 1);
    for (const mode of ['absolute', 'positive', 'negative', 'signed'] as const) {
      const out = renderOverlay({ width, height, data: photo }, map, {
        mode,
        colormap: 'viridis',
        opacity: 0.35,
        outlineTop: 0,
      });
      const cmap = colormap('viridis');
      const values = normalizeMap(map, { mode });
      for (let i = 0; i < width * height; i++) {
        const c = lutIndex(rampPosition(values[i], mode, cmap)) * 3;
        for (let k = 0; k < 3; k++) {
          const want = Math.round(0.65 * photo[i * 3 + k] + 0.35 * cmap.lut[c + k]);
          if (out.data[i * 4 + k] !== want) expect(out.data[i * 4 + k], `${mode} pixel ${i}`).toBe(want);
        }
        if (out.data[i * 4 + 3] !== 255) expect(out.data[i * 4 + 3]).toBe(255);
      }
    }
  });
});

describe('drawOverlay on the table path', () => {
  it('outlines what smoothMap, topThreshold and drawOutline find on the normalised map, in RGB as in RGBA', () => {
    // The colours and the smoothed values come from one sweep over the map; here they are found apart.
    const [width, height] = [640, 480];
    const rng = createRng(5);
    const photo = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rng.next() * 256));
    const map = new Float32Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        map[y * width + x] = Math.exp(-((x - 250) ** 2 + (y - 200) ** 2) / 8000) - 0.3 + 0.2 * rng.next();
    for (const mode of ['absolute', 'positive', 'negative', 'signed'] as const) {
      const options = { mode, colormap: 'viridis' as const, outlineTop: 0.2, outlineSmoothing: 0.01 };
      const got = renderOverlay({ width, height, data: photo }, map, options);
      const want = renderOverlay({ width, height, data: photo }, map, { ...options, outlineTop: 0 });
      const smoothed = smoothMap(normalizeMap(map, { mode }), width, height, 0.01 * height);
      drawOutline(want.data, 4, smoothed, topThreshold(smoothed.grid, 0.2));
      expect(Buffer.compare(Buffer.from(got.data), Buffer.from(want.data)), mode).toBe(0);
      const rgb = new Uint8Array(width * height * 3);
      drawOverlay({ width, height, data: photo }, map, options, rgb, 3);
      for (let i = 0; i < width * height; i++)
        for (let k = 0; k < 3; k++)
          if (rgb[i * 3 + k] !== got.data[i * 4 + k])
            expect(rgb[i * 3 + k], `${mode} ${i}`).toBe(got.data[i * 4 + k]);
    }
  });
});

describe('renderOverlay outline', () => {
  it('draws a 2-px line exactly around a known top-20% region: white inside the edge, black outside', () => {
    // 10×10 map: a 4×5 block (x 3..6, y 2..6) of values 0.6–1 is the top 20 of 100 pixels; the rest is below.
    const width = 10;
    const height = 10;
    const map = new Float32Array(width * height);
    const inBlock = (x: number, y: number) => x >= 3 && x <= 6 && y >= 2 && y <= 6;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        map[y * width + x] = inBlock(x, y) ? 0.6 + 0.02 * (x + y) : 0.05 * ((x * 7 + y * 3) % 10);
      }
    }
    // Opacity 0 leaves the grey photo wherever no line is drawn.
    const out = renderOverlay(grey(width, height), map, { opacity: 0, clipPercentile: 100 });
    const inside = (x: number, y: number) => x >= 0 && x < width && y >= 0 && y < height && inBlock(x, y);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const neighbours = [inside(x - 1, y), inside(x + 1, y), inside(x, y - 1), inside(x, y + 1)];
        const onBorder = [x > 0, x < width - 1, y > 0, y < height - 1];
        const touchesOutside = neighbours.some((n, k) => onBorder[k] && !n);
        const want = inBlock(x, y) ? (touchesOutside ? 255 : 128) : neighbours.some(Boolean) ? 0 : 128;
        expect(rgb(out, y * width + x), `pixel (${x}, ${y})`).toEqual([want, want, want]);
      }
    }
    // 14 edge pixels of the block (all but its 2×3 interior) and 18 around it.
    const count = (v: number) =>
      [...Array(width * height).keys()].filter((i) => out.data[i * 4] === v).length;
    expect(count(255)).toBe(14);
    expect(count(0)).toBe(18);
  });

  it('does not draw along the image border', () => {
    // The top row is the region; only the line between rows 0 and 1 is drawn.
    const map = new Float32Array(5 * 5);
    map.fill(1, 0, 5);
    const out = renderOverlay(grey(5, 5), map, { opacity: 0 });
    expect([0, 1, 2, 3, 4].map((i) => out.data[i * 4])).toEqual([255, 255, 255, 255, 255]);
    expect([5, 6, 7, 8, 9].map((i) => out.data[i * 4])).toEqual([0, 0, 0, 0, 0]);
    expect(out.data[10 * 4]).toBe(128);
  });

  it('traces the smoothed map, so isolated speckles get no outline of their own', () => {
    // A 40×40 map: a bright 12×12 block plus single bright pixels scattered far from it.
    const size = 40;
    const map = new Float32Array(size * size);
    for (let y = 20; y < 32; y++) for (let x = 20; x < 32; x++) map[y * size + x] = 1;
    const speckles = [
      [3, 3],
      [10, 5],
      [5, 30],
      [33, 4],
    ];
    for (const [x, y] of speckles) map[y * size + x] = 1;
    const lines = (smoothing: number) => {
      const out = renderOverlay(grey(size, size), map, {
        opacity: 0,
        outlineTop: 0.1,
        outlineSmoothing: smoothing,
      });
      return speckles.filter(([x, y]) => out.data[(y * size + x) * 4] !== 128).length;
    };
    expect(lines(0)).toBe(4);
    expect(lines(0.05)).toBe(0);
  });

  it('outlineTop 0 draws nothing', () => {
    const map = new Float32Array(25).map((_, i) => i);
    const out = renderOverlay(grey(5, 5), map, { opacity: 0, outlineTop: 0 });
    expect(out.data.every((v, i) => (i % 4 === 3 ? v === 255 : v === 128))).toBe(true);
  });
});

describe('topRegion', () => {
  it('takes the top fraction, ties included', () => {
    const values = new Float32Array([0.1, 0.9, 0.5, 0.9, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8]);
    expect([...topRegion(values, 0.2)]).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect([...topRegion(values, 0.1)]).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect([...topRegion(values, 0.3)]).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
  });

  it('leaves out zeros, so a sparse map outlines only what has signal', () => {
    const values = new Float32Array(10);
    values[4] = 0.5;
    expect([...topRegion(values, 0.2)]).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });
});

describe('renderOverlay validation', () => {
  it('refuses a map of the wrong size and bad options', () => {
    const image = grey(4, 3);
    expect(() => renderOverlay(image, new Float32Array(11))).toThrow(
      "Argument 'map' must be one value per photo pixel, 3×4 = 12; got Float32Array of length 11.",
    );
    expect(() => renderOverlay(image, new Float32Array(12), { opacity: 1.5 })).toThrow(
      "Argument 'opacity' must be a number in [0, 1]; got 1.5.",
    );
    expect(() => renderOverlay(image, new Float32Array(12), { outlineTop: -0.1 })).toThrow(
      "Argument 'outlineTop' must be a fraction in [0, 1]; got -0.1.",
    );
  });

  it('refuses NaN in the map', () => {
    const map = new Float32Array(12);
    map[5] = Number.NaN;
    expect(() => renderOverlay(grey(4, 3), map)).toThrow(
      'got 1 NaN or infinite value among its 12 positions',
    );
  });
});
