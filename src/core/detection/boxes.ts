/**
 * Box conventions of detector outputs and the arithmetic on boxes. Every box inside Sightline is xyxy
 * (x0, y0, x1, y1) in the model input's pixels; formats convert at the boundary (toXyxy) and the photo's
 * pixels come last (boxToImage in core/preprocess.ts).
 */
import { invalidArgument } from '../errors.js';

/** x0, y0, x1, y1. */
export type Box = readonly [number, number, number, number];

/**
 * How four numbers describe a box: 'xyxy' corners (torchvision, Ultralytics after NMS), 'xywh' top-left corner
 * and size (COCO), 'cxcywh' centre and size (YOLO raw outputs), 'yxyx' corners row first (TensorFlow Object
 * Detection API). `normalized`: in 0–1 of the input's width and height instead of pixels.
 */
export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh' | 'yxyx';

export const BOX_FORMATS: readonly BoxFormat[] = ['xyxy', 'xywh', 'cxcywh', 'yxyx'];

export interface BoxConvention {
  readonly format: BoxFormat;
  readonly normalized: boolean;
}

/** Four numbers at `offset`, `stride` apart, in `convention` → xyxy in pixels of a width × height input. */
export function toXyxy(
  values: ArrayLike<number>,
  offset: number,
  stride: number,
  convention: BoxConvention,
  width: number,
  height: number,
): Box {
  const a = values[offset];
  const b = values[offset + stride];
  const c = values[offset + 2 * stride];
  const d = values[offset + 3 * stride];
  let box: [number, number, number, number];
  switch (convention.format) {
    case 'xyxy':
      box = [a, b, c, d];
      break;
    case 'xywh':
      box = [a, b, a + c, b + d];
      break;
    case 'cxcywh':
      box = [a - c / 2, b - d / 2, a + c / 2, b + d / 2];
      break;
    case 'yxyx':
      box = [b, a, d, c];
      break;
  }
  if (convention.normalized) {
    box[0] *= width;
    box[2] *= width;
    box[1] *= height;
    box[3] *= height;
  }
  return box;
}

/** Area as torchvision's box_area computes it: (x1 − x0)(y1 − y0), not clamped (an inverted box is negative). */
export function boxArea(b: Box): number {
  return (b[2] - b[0]) * (b[3] - b[1]);
}

/**
 * Intersection over union as torchvision's box_iou and its NMS kernel compute it: the intersection's sides
 * clamped at 0, the union from the unclamped areas. 0 where the union is not positive (torch gives NaN there,
 * which no threshold test passes either).
 */
export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** The box with each coordinate clamped into [0, width] × [0, height] (torchvision's clip_boxes_to_image). */
export function clipBox(b: Box, width: number, height: number): Box {
  const cx = (v: number) => Math.min(width, Math.max(0, v));
  const cy = (v: number) => Math.min(height, Math.max(0, v));
  return [cx(b[0]), cy(b[1]), cx(b[2]), cy(b[3])];
}

/** Parses 'xyxy', 'cxcywh-normalized' and the like (a flag's or sidecar's text) into a convention. */
export function parseBoxConvention(text: string): BoxConvention {
  const [format, unit, ...rest] = text.trim().toLowerCase().split(/[-_ ]/);
  const ok = BOX_FORMATS.includes(format as BoxFormat) && rest.length === 0;
  if (!ok || (unit !== undefined && unit !== 'normalized' && unit !== 'pixels')) {
    throw invalidArgument(
      'box format',
      `one of ${BOX_FORMATS.join(', ')}, optionally followed by '-normalized' (0–1) or '-pixels'`,
      text,
    );
  }
  return { format: format as BoxFormat, normalized: unit === 'normalized' };
}
