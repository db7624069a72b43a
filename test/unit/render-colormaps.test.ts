import { describe, expect, it } from 'vitest';
import { COLORMAP_NAMES, colormap, lutIndex, rampPosition } from '../../src/render/colormaps.js';

function entry(name: (typeof COLORMAP_NAMES)[number], index: number): number[] {
  return [...colormap(name).lut.subarray(index * 3, index * 3 + 3)];
}

function hex(text: string): number[] {
  return [1, 3, 5].map((i) => Number.parseInt(text.slice(i, i + 2), 16));
}

function near(got: number[], want: number[], levels = 2) {
  want.forEach((w, k) => {
    expect(Math.abs(got[k] - w), `channel ${k}: got ${got}, want ${want}`).toBeLessThanOrEqual(levels);
  });
}

describe('colormaps', () => {
  it('offers the documented names', () => {
    expect(COLORMAP_NAMES).toEqual(['turbo', 'viridis', 'inferno', 'magma', 'gray', 'coolwarm']);
    for (const name of COLORMAP_NAMES) expect(colormap(name).lut.length).toBe(256 * 3);
  });

  it.each([
    ['viridis', '#440154', '#fde725'],
    ['inferno', '#000004', '#fcffa4'],
    ['magma', '#000004', '#fcfdbf'],
    // d3's turbo is Google's polynomial approximation, whose ends are rgb(35, 23, 27) and rgb(144, 12, 0).
    ['turbo', '#23171b', '#900c00'],
    ['gray', '#000000', '#ffffff'],
    // coolwarm: d3's RdBu reversed, blue for negative, red for positive.
    ['coolwarm', '#053061', '#67001f'],
  ] as const)('%s runs from %s to %s', (name, low, high) => {
    near(entry(name, 0), hex(low));
    near(entry(name, 255), hex(high));
  });

  it('gray is linear and coolwarm is near-white in the middle', () => {
    expect(entry('gray', 128)).toEqual([128, 128, 128]);
    for (const c of [...entry('coolwarm', 127), ...entry('coolwarm', 128)]) expect(c).toBeGreaterThan(230);
  });

  it('marks only coolwarm as diverging', () => {
    expect(COLORMAP_NAMES.filter((n) => colormap(n).diverging)).toEqual(['coolwarm']);
  });

  it('rejects unknown names, including Object.prototype keys', () => {
    expect(() => colormap('jet' as never)).toThrow(
      `Argument 'colormap' must be one of turbo, viridis, inferno, magma, gray, coolwarm; got "jet".`,
    );
    expect(() => colormap('toString' as never)).toThrow("Argument 'colormap'");
  });

  it('lutIndex rounds and clamps', () => {
    expect([lutIndex(-1), lutIndex(0), lutIndex(0.5), lutIndex(1), lutIndex(2)]).toEqual([
      0, 0, 128, 255, 255,
    ]);
  });

  it('rampPosition puts 0 in the middle of a diverging map and at the start of a sequential one', () => {
    const seq = colormap('viridis');
    const div = colormap('coolwarm');
    expect(rampPosition(0.25, 'absolute', seq)).toBe(0.25);
    expect(rampPosition(-1, 'signed', seq)).toBe(0);
    expect(rampPosition(0, 'signed', div)).toBe(0.5);
    expect(rampPosition(1, 'positive', div)).toBe(1);
    expect(rampPosition(1, 'negative', div)).toBe(0);
    expect(rampPosition(0, 'absolute', div)).toBe(0.5);
  });
});
