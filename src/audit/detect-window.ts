// The map around a detection, in the box's own frame: the box widened by a margin on every side and resampled
// to a fixed grid, so windows of boxes of any size and place average into one picture per class ("where,
// relative to its box, does the model look for a person": inside, above it, along its lower edge).
import type { AttributionMap } from '../core/attribution.js';
import type { Box } from '../core/detection/boxes.js';
import type { DetectClassWindow } from './types.js';

/** Side of a window's square grid. */
export const WINDOW_GRID = 16;
/**
 * The margin added on each side, as a share of the box's width (height): the window is twice the box, and the
 * box covers exactly the middle WINDOW_GRID / 2 cells of each side.
 */
export const WINDOW_MARGIN = 0.5;
/** The first and one-past-last cell of the box along a side of the window (4 and 12 for 16 and 0.5). */
export const WINDOW_BOX_CELLS: readonly [number, number] = [
  Math.round((WINDOW_MARGIN / (1 + 2 * WINDOW_MARGIN)) * WINDOW_GRID),
  Math.round(((1 + WINDOW_MARGIN) / (1 + 2 * WINDOW_MARGIN)) * WINDOW_GRID),
];

/**
 * Detections per image whose window a row keeps (the first, by score): a window is up to ~2.3 kB of JSON, and a
 * journal line must stay under MAX_LINE (1 MB) even with --detections 1000.
 */
export const MAX_ROW_WINDOWS = 100;

/** A window: WINDOW_GRID² cells row-major, summing to 1; null for a cell wholly outside the photo. */
export type BoxWindow = readonly (number | null)[];

/**
 * The map's attention (max(v, 0) for a signed map, |v| otherwise) in the window around `box` (photo pixels),
 * WINDOW_GRID² cells normalised to sum to 1. A cell is the mean over the pixels whose centres fall in it, as
 * summaryGrid does for the whole image; a cell no pixel centre falls in (a box smaller than the grid) takes the
 * pixel under its centre. Cells wholly outside the photo are null: the model could not look there, which is
 * not the same as not looking. Undefined when the window holds no attention (nothing to normalise) or a
 * non-finite value, or the box has no area.
 */
export function boxWindow(map: AttributionMap, box: Box): BoxWindow | undefined {
  const [x0, y0, x1, y1] = box;
  const bw = x1 - x0;
  const bh = y1 - y0;
  if (!(bw > 0 && bh > 0)) return undefined;
  const { width, height, data, signed } = map;
  // Read only under the window (a box is often a small part of a large photo); non-finite values are refused
  // earlier, by the box's share (maskAttention).
  const massAt = (i: number) => (signed ? Math.max(0, data[i]) : Math.abs(data[i]));
  const g = WINDOW_GRID;
  const wx = x0 - WINDOW_MARGIN * bw;
  const wy = y0 - WINDOW_MARGIN * bh;
  const cw = (bw * (1 + 2 * WINDOW_MARGIN)) / g;
  const ch = (bh * (1 + 2 * WINDOW_MARGIN)) / g;
  const sums = new Float64Array(g * g);
  const counts = new Float64Array(g * g);
  // Only the pixels whose centres can fall in the window are visited.
  const px0 = Math.max(0, Math.floor(wx));
  const px1 = Math.min(width, Math.ceil(wx + g * cw));
  const py0 = Math.max(0, Math.floor(wy));
  const py1 = Math.min(height, Math.ceil(wy + g * ch));
  for (let y = py0; y < py1; y++) {
    const cy = Math.floor((y + 0.5 - wy) / ch);
    if (cy < 0 || cy >= g) continue;
    for (let x = px0; x < px1; x++) {
      const cx = Math.floor((x + 0.5 - wx) / cw);
      if (cx < 0 || cx >= g) continue;
      sums[cy * g + cx] += massAt(y * width + x);
      counts[cy * g + cx]++;
    }
  }
  const cells: (number | null)[] = new Array(g * g);
  let total = 0;
  for (let cy = 0; cy < g; cy++) {
    for (let cx = 0; cx < g; cx++) {
      const c = cy * g + cx;
      let v: number | null = null;
      if (counts[c] > 0) v = sums[c] / counts[c];
      else {
        // Cells overlapping the photo always have a pixel under them somewhere; the one under the centre.
        const x = Math.floor(wx + (cx + 0.5) * cw);
        const y = Math.floor(wy + (cy + 0.5) * ch);
        if (x >= 0 && x < width && y >= 0 && y < height) v = massAt(y * width + x);
      }
      cells[c] = v;
      if (v !== null) total += v;
    }
  }
  if (!(total > 0 && Number.isFinite(total))) return undefined;
  return cells.map((v) => (v === null ? null : Number((v / total).toPrecision(4))));
}

/**
 * The mean of windows, cell by cell over the windows where the cell lies in the photo, renormalised to sum to
 * 1; null where no window covers the cell. Empty for no windows.
 */
export function meanWindow(windows: readonly BoxWindow[]): BoxWindow {
  if (windows.length === 0) return [];
  const n = WINDOW_GRID * WINDOW_GRID;
  const sums = new Float64Array(n);
  const counts = new Float64Array(n);
  for (const w of windows)
    for (let c = 0; c < n; c++) {
      const v = w[c];
      if (v === null || v === undefined) continue;
      sums[c] += v;
      counts[c]++;
    }
  const cells = Array.from(sums, (s, c) => (counts[c] > 0 ? s / counts[c] : null));
  const total = cells.reduce<number>((t, v) => t + (v ?? 0), 0);
  return cells.map((v) => (v === null ? null : total > 0 ? Number((v / total).toPrecision(4)) : 0));
}

/** Where a window's attention lies relative to the box: inside it, above and below it (full width), beside it. */
export type WindowParts = DetectClassWindow['parts'];

/** A window's attention split into the box and the four bands around it (summing to 1 with the window). */
export function windowParts(window: BoxWindow): WindowParts {
  const [b0, b1] = WINDOW_BOX_CELLS;
  const parts = { inside: 0, above: 0, below: 0, left: 0, right: 0 };
  for (let cy = 0; cy < WINDOW_GRID; cy++)
    for (let cx = 0; cx < WINDOW_GRID; cx++) {
      const v = window[cy * WINDOW_GRID + cx] ?? 0;
      const part = cy < b0 ? 'above' : cy >= b1 ? 'below' : cx < b0 ? 'left' : cx >= b1 ? 'right' : 'inside';
      parts[part] += v;
    }
  const round = (v: number) => Number(v.toPrecision(4));
  return {
    inside: round(parts.inside),
    above: round(parts.above),
    below: round(parts.below),
    left: round(parts.left),
    right: round(parts.right),
  };
}
