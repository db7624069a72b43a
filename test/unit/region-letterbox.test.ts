// A segmenter's --region through a letterboxed input (resize 'letterbox'): the output grid spans the whole
// input, padding included, so an output cell's centre must be mapped through the letterbox window, not
// through the whole photo as a crop. A 64 × 32 photo in a 32 × 32 input sits in rows 8..24 (gray above and
// below); on a 4 × 4 grid rows 0 and 3 are padding and rows 1, 2 show the photo's top and bottom halves.
import { describe, expect, it } from 'vitest';
import { inputGeometry } from '../../src/core/preprocess.js';
import { boxRegion, maskRegion } from '../../src/core/targets.js';
import { analyticSpec } from '../helpers/analytic.js';

const spec = { ...analyticSpec(32), resize: 'letterbox' as const };
const g = inputGeometry(spec, 64, 32);
const input = { width: 32, height: 32 };
const rows = (mask: Uint8Array) => [0, 1, 2, 3].map((r) => Array.from(mask.subarray(r * 4, r * 4 + 4)));

describe('regions through a letterbox', () => {
  it('the geometry is the one the comment assumes', () => {
    expect(g.letterbox).toEqual({ width: 32, height: 16, left: 0, top: 8 });
  });

  it("a box over the photo's top half keeps the grid row that shows it, not the padding above", () => {
    const mask = boxRegion({ x0: 0, y0: 0, x1: 64, y1: 16 }, g, 4, 4, input);
    expect(rows(mask)).toEqual([
      [0, 0, 0, 0],
      [1, 1, 1, 1],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('a mask covering the whole photo keeps only the rows that show the photo', () => {
    const data = new Uint8Array(64 * 32 * 3).fill(255);
    const mask = maskRegion({ width: 64, height: 32, data, channels: 3 }, g, 4, 4, input);
    expect(rows(mask)).toEqual([
      [0, 0, 0, 0],
      [1, 1, 1, 1],
      [1, 1, 1, 1],
      [0, 0, 0, 0],
    ]);
  });
});
