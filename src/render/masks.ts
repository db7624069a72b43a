/**
 * A detection's instance mask drawn onto an overlay or photo (issue 14): an outline along the mask's edge, with
 * a dark line inside it so it shows on white too, and optionally a light tint over the mask. Pure pixel writes
 * in photo pixels, as render/boxes.ts draws the box.
 */
import { invalidArgument } from '../core/errors.js';
import type { Pixels } from './boxes.js';

/** A mask over a window of the image (models/detect-mask.ts PhotoMask has this shape). */
export interface MaskWindow {
  /** Column and row of the window's first pixel in the image. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** width × height bytes, row-major, non-zero inside. */
  readonly data: Uint8Array;
}

export interface MaskStyle {
  /** Outline colour, RGB. Default cyan: apart from the box's white and from every colormap's low end. */
  readonly color?: readonly [number, number, number];
  /** Outline width in pixels; default 1 per 300 pixels of the shorter side, at least 1. */
  readonly thickness?: number;
  /** How much of the colour to mix into the mask's inside, 0–1; default 0 (the map's colours stay true). */
  readonly tint?: number;
  /** Draw only within the first `rows` rows (the overlay above a legend bar); default the whole image. */
  readonly rows?: number;
}

export const MASK_COLOR: readonly [number, number, number] = [0, 230, 255];

/**
 * Each inside pixel's chessboard distance to the nearest outside pixel (pixels beyond the window are outside),
 * capped at `cap`: two chamfer passes.
 */
export function edgeDistance(mask: MaskWindow, cap: number): Uint8Array {
  const { width: w, height: h, data } = mask;
  const d = new Uint8Array(w * h);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : d[y * w + x]);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!data[i]) continue;
      d[i] = Math.min(cap, 1 + Math.min(at(x - 1, y - 1), at(x, y - 1), at(x + 1, y - 1), at(x - 1, y)));
    }
  for (let y = h - 1; y >= 0; y--)
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      if (!data[i]) continue;
      d[i] = Math.min(d[i], 1 + Math.min(at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x + 1, y)));
    }
  return d;
}

/** Draws `mask` into `image` in place: pixels within `thickness` of its edge in the colour, the next ring dark. */
export function drawMask(image: Pixels, channels: 3 | 4, mask: MaskWindow, style: MaskStyle = {}): void {
  const { width, data } = image;
  const rows = Math.min(image.height, style.rows ?? image.height);
  if (data.length !== width * image.height * channels)
    throw invalidArgument('image', `${width} × ${image.height} × ${channels} bytes`, data.length);
  if (mask.data.length !== mask.width * mask.height)
    throw invalidArgument('mask', `${mask.width} × ${mask.height} bytes`, mask.data.length);
  const t = Math.max(1, Math.round(style.thickness ?? Math.max(1, Math.min(width, rows) / 300)));
  const tint = style.tint ?? 0;
  if (!(tint >= 0 && tint <= 1)) throw invalidArgument('tint', 'a number in 0–1', tint);
  const color = style.color ?? MASK_COLOR;
  const distance = edgeDistance(mask, t + 2);
  for (let y = 0; y < mask.height; y++) {
    const py = mask.y + y;
    if (py < 0 || py >= rows) continue;
    for (let x = 0; x < mask.width; x++) {
      const px = mask.x + x;
      const d = distance[y * mask.width + x];
      if (d === 0 || px < 0 || px >= width) continue;
      const o = (py * width + px) * channels;
      if (d <= t) for (let c = 0; c < 3; c++) data[o + c] = color[c];
      else if (d === t + 1) for (let c = 0; c < 3; c++) data[o + c] = 0;
      else if (tint > 0)
        for (let c = 0; c < 3; c++) data[o + c] = Math.round(data[o + c] * (1 - tint) + color[c] * tint);
    }
  }
}
