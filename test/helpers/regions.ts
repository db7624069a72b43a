/** Box (x0, y0, x1, y1) in pixels, end-exclusive. */
export type Box = readonly [number, number, number, number];

/** The dog in ../shared/images/dog.jpg (from its README). */
export const DOG_BOX: Box = [128, 222, 316, 540];

/**
 * How concentrated a map is in a box: the box's share of the map's mass above its minimum, divided by the
 * box's share of the area (1 = no better than chance). Mass is counted above the minimum because some
 * maps (RISE) carry a constant offset.
 */
export function boxMassRatio(map: Float32Array, width: number, height: number, box: Box): number {
  const [x0, y0, x1, y1] = box;
  let min = Number.POSITIVE_INFINITY;
  for (const v of map) min = Math.min(min, v);
  let inside = 0;
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = map[y * width + x] - min;
      total += v;
      if (x >= x0 && x < x1 && y >= y0 && y < y1) inside += v;
    }
  }
  return inside / total / (((x1 - x0) * (y1 - y0)) / (width * height));
}

/** Whether the map's maximum lies inside the box grown by `tolerance` pixels on every side. */
export function peakInBox(map: Float32Array, width: number, box: Box, tolerance = 15): boolean {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  const x = best % width;
  const y = Math.floor(best / width);
  const [x0, y0, x1, y1] = box;
  return x >= x0 - tolerance && x < x1 + tolerance && y >= y0 - tolerance && y < y1 + tolerance;
}
