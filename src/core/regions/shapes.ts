// Where a model should look, as shapes in an image's pixel coordinates: the types every region source turns
// into (audit and evaluate read them from files, metrics measure attention inside them) and their checks.
import { describe, invalidArgument } from '../errors.js';

/**
 * A rectangle in an image's (or its map's) pixel coordinates: (x, y) is its top-left corner, x to the right, y down. It may be
 * fractional and may reach beyond the image (it is clipped). Pixel (row i, column j) is inside when its centre
 * (j + 0.5, i + 0.5) lies in the half-open box [x, x + width) × [y, y + height), so two boxes that share an
 * edge never both claim the pixel on it, and an integer box {x: 1, y: 0, width: 2, height: 1} is columns 1–2
 * of row 0.
 */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Where the model should look, in the image's own pixel coordinates. */
export type RegionShape =
  | ({ readonly type: 'box' } & Box)
  /** A closed polygon: x0, y0, x1, y1, … (COCO segmentation order); inside by the even-odd rule at pixel centres. */
  | { readonly type: 'polygon'; readonly points: readonly number[] };

/** Checks a box's fields: finite numbers, width and height ≥ 0; INVALID_ARGUMENT names `name` otherwise. */
export function validateBox(box: Box, name: string): void {
  if (typeof box !== 'object' || box === null) {
    throw invalidArgument(name, 'a box {x, y, width, height}', box);
  }
  for (const key of ['x', 'y', 'width', 'height'] as const) {
    if (typeof box[key] !== 'number' || !Number.isFinite(box[key])) {
      throw invalidArgument(`${name}.${key}`, 'a finite number', box[key]);
    }
  }
  if (box.width < 0) throw invalidArgument(`${name}.width`, 'a number ≥ 0', box.width);
  if (box.height < 0) throw invalidArgument(`${name}.height`, 'a number ≥ 0', box.height);
}

/** Checks a polygon's points: an even count ≥ 6 of finite numbers; INVALID_ARGUMENT names `name` otherwise. */
export function validatePolygon(points: readonly number[], name: string): void {
  if (!Array.isArray(points) || points.length < 6 || points.length % 2 !== 0) {
    throw invalidArgument(name, 'a list x0, y0, x1, y1, … of at least 3 points (an even count ≥ 6)', points);
  }
  const bad = points.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw invalidArgument(`${name}[${bad}]`, 'a finite number', points[bad]);
}

/** A polygon's points for a message, the first 8 numbers and a count of the rest. */
export function describePoints(points: readonly number[]): string {
  const shown = points.slice(0, 8).map(describe).join(', ');
  return points.length > 8 ? `[${shown}, … (${points.length / 2} points)]` : `[${shown}]`;
}
