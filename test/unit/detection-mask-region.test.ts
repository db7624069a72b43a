/**
 * A seg detection's mask as its region (explain/detect.ts detectionRegionShare) on planted maps whose shares
 * are counted by hand, the box as fallback, and the mask drawn on an overlay (render/masks.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkDetectPart } from '../../src/audit/detect-row-check.js';
import type { AttributionMap } from '../../src/core/attribution.js';
import { detectionRegionShare } from '../../src/explain/detect.js';
import { type PhotoMask, scaleMask } from '../../src/models/detect-mask.js';
import { drawMask, edgeDistance, MASK_COLOR } from '../../src/render/masks.js';

/** A 10 × 10 map, 0 but for the given (x, y, value). */
function planted(points: [number, number, number][], signed = false): AttributionMap {
  const data = new Float32Array(100);
  for (const [x, y, v] of points) data[y * 10 + x] = v;
  return { width: 10, height: 10, data, signed };
}

// Inside: (2, 3), (3, 3), (2, 4), (3, 4) of the photo; its box is far larger (1, 1)–(8, 8).
const mask: PhotoMask = { x: 2, y: 3, width: 3, height: 2, data: Uint8Array.from([1, 1, 0, 1, 1, 0]) };
const box: [number, number, number, number] = [1, 1, 8, 8];

describe('a seg detection’s region share', () => {
  it('measures the map in its mask: counted by hand', () => {
    // 1 + 1 inside the mask, 3 at (6, 6): inside the box but outside the mask.
    const map = planted([
      [2, 3, 1],
      [3, 4, 1],
      [6, 6, 3],
    ]);
    const r = detectionRegionShare(map, { box, mask });
    expect(r?.region).toBe('mask');
    expect(r?.share).toBeCloseTo(2 / 5, 6);
    expect(r?.areaShare).toBeCloseTo(4 / 100, 6);
    expect(r?.concentration).toBeCloseTo(2 / 5 / (4 / 100), 6);
    expect(r?.peakInside).toBe(false);
    // Share 40% < 50%, concentration 10 ≥ 2: partly on the object.
    expect(r?.level).toBe('partly');
    // The same map against the box alone: all its mass is inside 7 × 7 pixels.
    const b = detectionRegionShare(map, { box });
    expect(b?.region).toBe('box');
    expect(b?.share).toBeCloseTo(1, 6);
    expect(b?.areaShare).toBeCloseTo(49 / 100, 6);
    expect(b?.level).toBe('inside');
  });

  it('falls back to the box when the mask holds no pixel, and says so', () => {
    const empty: PhotoMask = { x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) };
    const r = detectionRegionShare(planted([[4, 4, 2]]), { box, mask: empty });
    expect(r?.region).toBe('box');
    expect(r?.share).toBe(1);
    expect(r?.peakInside).toBe(true);
    // A degenerate box (a random-weight SSD gives some) marks no pixel: no share, no error.
    expect(detectionRegionShare(planted([[4, 4, 2]]), { box: [0, 0, 16, 0] })).toBeUndefined();
  });

  it('counts only positive evidence on a signed map, and gives nothing for a map without attention', () => {
    // Signed: −5 inside the mask is evidence against, not attention.
    const r = detectionRegionShare(
      planted(
        [
          [2, 3, -5],
          [3, 3, 1],
          [9, 9, 1],
        ],
        true,
      ),
      { box, mask },
    );
    expect(r?.share).toBeCloseTo(0.5, 6);
    expect(detectionRegionShare(planted([[2, 3, -1]], true), { box, mask })).toBeUndefined();
    expect(detectionRegionShare(planted([]), { box, mask })).toBeUndefined();
    expect(() => detectionRegionShare(planted([[2, 3, Number.NaN]]), { box, mask })).toThrow(/NaN|finite/);
  });
});

describe('drawing a mask', () => {
  it('outlines the mask’s edge in its colour with a dark ring inside, and tints the rest when asked', () => {
    // A 7 × 7 square mask in a 9 × 9 photo at (1, 1): thickness 1 → ring 1 cyan, ring 2 black, centre 3 × 3.
    const square: PhotoMask = { x: 1, y: 1, width: 7, height: 7, data: new Uint8Array(49).fill(1) };
    expect(Array.from(edgeDistance(square, 9).subarray(21, 28))).toEqual([1, 2, 3, 4, 3, 2, 1]);
    const rgb = { width: 9, height: 9, data: new Uint8Array(9 * 9 * 3).fill(100) };
    drawMask(rgb, 3, square, { thickness: 1, tint: 0.5 });
    const px = (x: number, y: number) => Array.from(rgb.data.subarray((y * 9 + x) * 3, (y * 9 + x) * 3 + 3));
    expect(px(0, 0)).toEqual([100, 100, 100]);
    expect(px(1, 1)).toEqual([...MASK_COLOR]);
    expect(px(7, 4)).toEqual([...MASK_COLOR]);
    expect(px(2, 2)).toEqual([0, 0, 0]);
    expect(px(4, 4)).toEqual(MASK_COLOR.map((c) => Math.round(100 * 0.5 + c * 0.5)));
    // Without a tint the inside keeps its pixels (the map's colours stay true).
    const plain = { width: 9, height: 9, data: new Uint8Array(9 * 9 * 4).fill(100) };
    drawMask(plain, 4, square, { thickness: 1 });
    expect(Array.from(plain.data.subarray((4 * 9 + 4) * 4, (4 * 9 + 4) * 4 + 4))).toEqual([
      100, 100, 100, 100,
    ]);
  });

  it('stays above a legend bar and refuses a mask whose bytes do not match its size', () => {
    const square: PhotoMask = { x: 0, y: 0, width: 4, height: 4, data: new Uint8Array(16).fill(1) };
    const rgb = { width: 4, height: 4, data: new Uint8Array(48) };
    drawMask(rgb, 3, square, { thickness: 1, rows: 2 });
    expect(Array.from(rgb.data.subarray(2 * 12))).toEqual(new Array(24).fill(0));
    expect(Array.from(rgb.data.subarray(0, 3))).toEqual([...MASK_COLOR]);
    expect(() => drawMask(rgb, 3, { ...square, data: new Uint8Array(3) })).toThrow(/mask/);
  });
});

describe('a seg detection in the audit journal and on a smaller overlay', () => {
  const part = (extra: Record<string, unknown>) => ({
    objects: 0,
    explained: 1,
    detections: [
      { index: 0, label: 'red', classIndex: 0, score: 0.9, box: [1, 2, 3, 4], boxShare: 0.9, ...extra },
    ],
    misses: [],
  });

  it('keeps a row’s mask share and region, and refuses them malformed', () => {
    const ok = checkDetectPart(part({ maskShare: 0.75, region: 'mask', verdict: 'object' }));
    expect('part' in ok && ok.part.detections[0]).toMatchObject({ maskShare: 0.75, region: 'mask' });
    expect(checkDetectPart(part({ region: 'box' }))).toEqual({ problem: expect.stringMatching(/region/) });
    expect(checkDetectPart(part({ maskShare: 1.5 }))).toEqual({
      problem: expect.stringMatching(/maskShare/),
    });
  });

  it('scales a mask by nearest neighbour', () => {
    // 2 × 2 mask at (2, 2), diagonal; halved: the pixel at (1, 1) reads source (3, 3).
    const m: PhotoMask = { x: 2, y: 2, width: 2, height: 2, data: Uint8Array.from([1, 0, 0, 1]) };
    expect(scaleMask(m, 0.5)).toEqual({ x: 1, y: 1, width: 1, height: 1, data: Uint8Array.from([1]) });
    const doubled = scaleMask(m, 2);
    expect([doubled.x, doubled.y, doubled.width, doubled.height]).toEqual([4, 4, 4, 4]);
    expect(Array.from(doubled.data)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  });
});
