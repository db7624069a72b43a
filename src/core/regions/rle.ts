// Run-length masks as COCO stores them ({counts, size: [height, width]}, column-major, runs alternating from
// 0), turned into boxes so that every region source yields the same RegionShape list.
import type { Box } from './shapes.js';

/**
 * pycocotools' compressed RLE string (maskApi.c rleFrString): 5-bit groups, deltas from the second run on.
 * Undefined when the string is cut short or holds characters outside the encoding.
 */
export function decodeRleString(text: string): number[] | undefined {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = text.charCodeAt(p) - 48;
      if (p >= text.length || c < 0 || c > 63) return undefined;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/**
 * The 1s of a column-major run-length mask with `rows` rows as boxes: each run of 1s within a column is a
 * one-pixel-wide box, merged with the run beside it in the previous column when both span the same rows.
 * `runs` must be whole numbers ≥ 0 adding up to the mask's pixel count (the caller checks, naming its file).
 */
export function rleBoxes(runs: readonly number[], rows: number): ({ type: 'box' } & Box)[] {
  const boxes: { type: 'box'; x: number; y: number; width: number; height: number }[] = [];
  let previous = new Map<number, number>(); // first row * (rows + 1) + run length → box index, previous column
  let current = new Map<number, number>();
  let column = 0;
  let start = 0;
  runs.forEach((length, k) => {
    const end = start + length;
    if (k % 2 === 1) {
      for (let p = start; p < end; ) {
        const x = Math.floor(p / rows);
        if (x !== column) {
          [previous, current] = [current, previous];
          current.clear();
          if (x !== column + 1) previous.clear();
          column = x;
        }
        const y = p % rows;
        const height = Math.min(rows - y, end - p);
        const key = y * (rows + 1) + height;
        const left = previous.get(key);
        if (left !== undefined && boxes[left].x + boxes[left].width === x) {
          boxes[left].width++;
          current.set(key, left);
        } else {
          current.set(key, boxes.length);
          boxes.push({ type: 'box', x, y, width: 1, height });
        }
        p += height;
      }
    }
    start = end;
  });
  return boxes;
}
