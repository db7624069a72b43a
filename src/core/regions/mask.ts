// Regions as pixel masks: which pixels of a width × height grid a box, polygon or list of shapes covers, by
// the pixel-centre rule of Box.
import { describe, invalidArgument, SightlineError } from '../errors.js';
import { type Box, describePoints, type RegionShape, validateBox, validatePolygon } from './shapes.js';

/** 1 for each pixel of a width × height grid whose centre lies in at least one box (see Box). */
export function boxMask(boxes: readonly Box[], width: number, height: number): Uint8Array {
  if (!Array.isArray(boxes) || boxes.length === 0) {
    throw invalidArgument('boxes', 'a non-empty list of boxes {x, y, width, height}', boxes);
  }
  const mask = new Uint8Array(width * height);
  boxes.forEach((box, k) => {
    const name = `boxes[${k}]`;
    validateBox(box, name);
    if (!markBox(mask, box, width, height)) throw emptyShape(name, { type: 'box', ...box }, width, height);
  });
  return mask;
}

/**
 * 1 for each pixel of a width × height grid whose centre (j + 0.5, i + 0.5) lies inside the closed polygon
 * x0, y0, x1, y1, … (at least 3 vertices) by the even-odd rule; parts beyond the image are clipped. As for
 * Box, a centre on a left or top edge is inside and one on a right or bottom edge is not, so a rectangle
 * drawn as a polygon gives exactly its box's mask. The mask may be all zero (a polygon outside the image or
 * between pixel centres); shapesMask refuses such a shape, maskAttention such a mask.
 */
export function polygonMask(points: readonly number[], width: number, height: number): Uint8Array {
  validatePolygon(points, 'points');
  const mask = new Uint8Array(width * height);
  markPolygon(mask, points, width, height);
  return mask;
}

/**
 * 1 for each pixel of a width × height grid inside at least one shape (see RegionShape): boxes by Box's
 * pixel-centre rule, polygons by polygonMask's. Throws INVALID_ARGUMENT for an empty list, a malformed shape,
 * or a shape that marks no pixel (entirely outside the image, or between pixel centres), naming `shapes[k]`;
 * the error's details carry `index` and `reason` ('outside' or 'no-pixel-centre').
 */
export function shapesMask(shapes: readonly RegionShape[], width: number, height: number): Uint8Array {
  if (!Array.isArray(shapes) || shapes.length === 0) {
    throw invalidArgument(
      'shapes',
      "a non-empty list of shapes ({type: 'box', …} or {type: 'polygon', …})",
      shapes,
    );
  }
  const mask = new Uint8Array(width * height);
  shapes.forEach((shape, k) => {
    const name = `shapes[${k}]`;
    if (typeof shape !== 'object' || shape === null) {
      throw invalidArgument(name, "a shape {type: 'box', …} or {type: 'polygon', …}", shape);
    }
    let marked: boolean;
    if (shape.type === 'box') {
      validateBox(shape, name);
      marked = markBox(mask, shape, width, height);
    } else if (shape.type === 'polygon') {
      validatePolygon(shape.points, `${name}.points`);
      marked = markPolygon(mask, shape.points, width, height);
    } else {
      throw invalidArgument(`${name}.type`, "'box' or 'polygon'", (shape as { type?: unknown }).type);
    }
    if (!marked) throw emptyShape(name, shape, width, height, k);
  });
  return mask;
}

/** Sets the box's pixels in `mask`; false when it holds no pixel centre of the image. */
function markBox(mask: Uint8Array, box: Box, width: number, height: number): boolean {
  // Column j is inside when x ≤ j + 0.5 < x + width, i.e. ceil(x − 0.5) ≤ j < ceil(x + width − 0.5).
  const x0 = Math.max(0, Math.ceil(box.x - 0.5));
  const x1 = Math.min(width, Math.ceil(box.x + box.width - 0.5));
  const y0 = Math.max(0, Math.ceil(box.y - 0.5));
  const y1 = Math.min(height, Math.ceil(box.y + box.height - 0.5));
  if (x0 >= x1 || y0 >= y1) return false;
  for (let i = y0; i < y1; i++) mask.fill(1, i * width + x0, i * width + x1);
  return true;
}

/** Sets the polygon's pixels in `mask` by scanlines through the pixel centres; false when it holds none. */
function markPolygon(mask: Uint8Array, points: readonly number[], width: number, height: number): boolean {
  const n = points.length / 2;
  let top = Infinity;
  let bottom = -Infinity;
  for (let k = 1; k < points.length; k += 2) {
    top = Math.min(top, points[k]);
    bottom = Math.max(bottom, points[k]);
  }
  // Each row tests only the edges whose rows span it (an untrusted polygon may have millions of points):
  // edges sorted by their first row join the active list there and leave it after their last. Their rows are
  // widened by one on each side, and the exact test below decides, as it would over every edge.
  const edges: { first: number; last: number; from: number; to: number }[] = [];
  for (let k = 0, prev = n - 1; k < n; prev = k++) {
    const ya = points[2 * prev + 1];
    const yb = points[2 * k + 1];
    if (ya === yb) continue; // a horizontal edge crosses no row
    const first = Math.floor(Math.min(ya, yb) - 0.5);
    edges.push({ first, last: Math.ceil(Math.max(ya, yb) - 0.5), from: prev, to: k });
  }
  edges.sort((a, b) => a.first - b.first);
  let next = 0;
  let active: typeof edges = [];
  let marked = false;
  const crossings: number[] = [];
  // Rows whose centre i + 0.5 lies in [top, bottom).
  for (let i = Math.max(0, Math.ceil(top - 0.5)); i < Math.min(height, Math.ceil(bottom - 0.5)); i++) {
    const yc = i + 0.5;
    crossings.length = 0;
    while (next < edges.length && edges[next].first <= i) active.push(edges[next++]);
    active = active.filter((edge) => edge.last >= i);
    for (const { from, to } of active) {
      const xa = points[2 * from];
      const ya = points[2 * from + 1];
      const xb = points[2 * to];
      const yb = points[2 * to + 1];
      // Half-open in y, so a vertex on the scanline is counted once and horizontal edges never.
      if (ya <= yc !== yb <= yc) crossings.push(xa + ((yc - ya) * (xb - xa)) / (yb - ya));
    }
    crossings.sort((a, b) => a - b);
    // Even-odd: a centre is inside between crossings 2m and 2m + 1, half-open like Box.
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      const j0 = Math.max(0, Math.ceil(crossings[c] - 0.5));
      const j1 = Math.min(width, Math.ceil(crossings[c + 1] - 0.5));
      if (j0 < j1) {
        mask.fill(1, i * width + j0, i * width + j1);
        marked = true;
      }
    }
  }
  return marked;
}

function emptyShape(
  name: string,
  shape: RegionShape,
  width: number,
  height: number,
  index?: number,
): SightlineError {
  const outside = outsideImage(shape, width, height);
  const seen =
    shape.type === 'box'
      ? `{x: ${describe(shape.x)}, y: ${describe(shape.y)}, width: ${describe(shape.width)}, height: ${describe(shape.height)}}`
      : `the polygon ${describePoints(shape.points)}`;
  const message = outside
    ? `Argument '${name}' lies entirely outside the ${width}×${height} image; got ${seen}.`
    : `Argument '${name}' contains no pixel centre of the ${width}×${height} image (a pixel counts when ` +
      `its centre is inside the ${shape.type}), so it marks nothing; got ${seen}.`;
  return new SightlineError('INVALID_ARGUMENT', message, {
    argument: name,
    shape,
    width,
    height,
    reason: outside ? 'outside' : 'no-pixel-centre',
    ...(index === undefined ? {} : { index }),
  });
}

/** Whether the shape's bounding box lies entirely outside the width × height image (touching counts as outside). */
function outsideImage(shape: RegionShape, width: number, height: number): boolean {
  let left = Infinity;
  let right = -Infinity;
  let top = Infinity;
  let bottom = -Infinity;
  if (shape.type === 'box') {
    [left, right, top, bottom] = [shape.x, shape.x + shape.width, shape.y, shape.y + shape.height];
  } else {
    for (let k = 0; k < shape.points.length; k += 2) {
      left = Math.min(left, shape.points[k]);
      right = Math.max(right, shape.points[k]);
      top = Math.min(top, shape.points[k + 1]);
      bottom = Math.max(bottom, shape.points[k + 1]);
    }
  }
  return left >= width || top >= height || right <= 0 || bottom <= 0;
}
