/**
 * Detection boxes drawn onto an overlay (issue 14): a rectangle outline in photo pixels, so a detection's map
 * is seen beside the box it explains. Pure pixel writes, no text: the legend's caption names the detection.
 */
import { invalidArgument } from '../core/errors.js';

/** Pixels, row-major, `channels` bytes each (3 RGB or 4 RGBA); only the first three are written. */
export interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

export interface BoxStyle {
  /** Line colour, RGB. Default: white, which stands out on every colormap's low end and on photos. */
  readonly color?: readonly [number, number, number];
  /** Line width in pixels; default 1 per 200 pixels of the shorter side, at least 2. */
  readonly thickness?: number;
  /** Draw only within the first `rows` rows (the overlay above a legend bar); default the whole image. */
  readonly rows?: number;
}

/**
 * Draws the outline of box x0, y0, x1, y1 (photo pixels, x1 and y1 exclusive) into `image` in place, with a
 * dark edge inside the line so it shows on white too. The box is clipped to the image; an empty one draws
 * nothing.
 */
export function drawBox(
  image: Pixels,
  channels: 3 | 4,
  box: readonly [number, number, number, number],
  style: BoxStyle = {},
): void {
  const { width, data } = image;
  const rows = Math.min(image.height, style.rows ?? image.height);
  if (data.length !== width * image.height * channels)
    throw invalidArgument('image', `${width} × ${image.height} × ${channels} bytes`, data.length);
  if (!box.every(Number.isFinite)) throw invalidArgument('box', 'four finite numbers', box);
  const t = Math.max(1, Math.round(style.thickness ?? Math.max(2, Math.min(width, rows) / 200)));
  const color = style.color ?? [255, 255, 255];
  const x0 = Math.max(0, Math.floor(box[0]));
  const y0 = Math.max(0, Math.floor(box[1]));
  const x1 = Math.min(width, Math.ceil(box[2]));
  const y1 = Math.min(rows, Math.ceil(box[3]));
  if (x1 <= x0 || y1 <= y0) return;
  const put = (x: number, y: number, rgb: readonly number[]) => {
    const o = (y * width + x) * channels;
    data[o] = rgb[0];
    data[o + 1] = rgb[1];
    data[o + 2] = rgb[2];
  };
  const ring = (inset: number, rgb: readonly number[]) => {
    const [a, b, c, d] = [x0 + inset, y0 + inset, x1 - 1 - inset, y1 - 1 - inset];
    if (c < a || d < b) return;
    for (let x = a; x <= c; x++) {
      put(x, b, rgb);
      put(x, d, rgb);
    }
    for (let y = b; y <= d; y++) {
      put(a, y, rgb);
      put(c, y, rgb);
    }
  };
  for (let i = 0; i < t; i++) ring(i, color);
  ring(t, [0, 0, 0]);
}
