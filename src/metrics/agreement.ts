import type { AttributionMap } from '../core/attribution.js';
import { invalidArgument, SightlineError } from '../core/errors.js';
import { attentionMass, resolveMode, resolveTopFraction, topSet, validateMap } from './region.js';

/**
 * Rank correlation is computed on the maps box-averaged down to at most this many cells per side. Two reasons:
 * cost (Spearman sorts every value: a 12-megapixel photo would mean sorting 12 million ranks per map) and
 * pixel noise (gradient maps speckle from pixel to pixel and CAM maps are upsampled from a 7×7 grid, so the
 * order of neighbouring pixels says nothing a person would see; 64×64 keeps the layout of the map).
 */
export const RANK_GRID_SIZE = 64;

export interface AgreementOptions {
  /** Fraction of pixels in each map's strongest region, in (0, 1]. Default 0.2 (DEFAULT_TOP_FRACTION, region.ts). */
  readonly topFraction?: number;
}

export interface MapAgreement {
  /**
   * Intersection over union (Jaccard index) of the two maps' strongest regions: the top round(topFraction · N)
   * pixels by attention mass, ties at the cut-off broken by pixel index (row-major) so both regions have
   * exactly that many pixels, except that pixels with no attention are never included (a sparse map's region
   * is smaller). 1: the same pixels; 0: none shared.
   */
  readonly topOverlap: number;
  /**
   * Spearman's ρ of the two maps' attention mass, with average ranks for ties, on the maps box-averaged to at
   * most RANK_GRID_SIZE × RANK_GRID_SIZE cells (see boxAverage). 1: the same order; −1: reversed. NaN when
   * either map is the same everywhere on that grid, since a constant has no order to correlate.
   */
  readonly rankCorrelation: number;
  /** The topFraction that topOverlap was measured at. */
  readonly topFraction: number;
}

/** The agreement of two maps in a comparison, named by their keys in the record given to compareMaps. */
export interface MapPair extends MapAgreement {
  readonly a: string;
  readonly b: string;
}

/**
 * How far two maps of the same image agree: the overlap of their strongest regions and the rank correlation
 * of their attention. Each map's mass is measured in its default mode (see regionAttention): max(v, 0) for a
 * signed map, |v| otherwise. Throws INVALID_ARGUMENT for maps of different sizes, non-finite values, a map
 * with no attention, or a topFraction that selects no pixel.
 */
export function mapAgreement(
  a: AttributionMap,
  b: AttributionMap,
  options: AgreementOptions = {},
): MapAgreement {
  validateMap(a, 'a');
  validateMap(b, 'b');
  if (a.width !== b.width || a.height !== b.height) throw sizeMismatch("Arguments 'a' and 'b'", a, b);
  const topFraction = resolveTopFraction(options.topFraction, a.width * a.height, 'topFraction');
  return agree(prepare(a, 'a', topFraction), prepare(b, 'b', topFraction), topFraction);
}

/**
 * mapAgreement for every pair of maps in the record (keys in insertion order: for keys p, q, r the pairs are
 * p–q, p–r, q–r). Each map is prepared once, so three maps cost three top-region selections, not six.
 */
export function compareMaps(
  maps: Readonly<Record<string, AttributionMap>>,
  options: AgreementOptions = {},
): MapPair[] {
  const names = typeof maps === 'object' && maps !== null ? Object.keys(maps) : [];
  if (names.length < 2) {
    throw invalidArgument('maps', 'a record of at least two named maps', names);
  }
  names.forEach((name) => {
    validateMap(maps[name], `maps[${JSON.stringify(name)}]`);
  });
  const first = maps[names[0]];
  for (const name of names.slice(1)) {
    const map = maps[name];
    if (map.width !== first.width || map.height !== first.height) {
      throw sizeMismatch(`Maps ${JSON.stringify(names[0])} and ${JSON.stringify(name)}`, first, map);
    }
  }
  const topFraction = resolveTopFraction(options.topFraction, first.width * first.height, 'topFraction');
  const prepared = names.map((name) => prepare(maps[name], `maps[${JSON.stringify(name)}]`, topFraction));
  const pairs: MapPair[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      pairs.push({ a: names[i], b: names[j], ...agree(prepared[i], prepared[j], topFraction) });
    }
  }
  return pairs;
}

/**
 * Box averaging down to at most `maxSide` cells per side: blocks of ceil(width / maxSide) ×
 * ceil(height / maxSide) pixels, each cell the mean of its block. When the side is not a multiple of the block,
 * the last block of a row or column is narrower and averages the pixels it has, so every pixel counts once.
 * A map already within maxSide comes back unchanged (as Float64Array).
 */
export function boxAverage(
  values: Float32Array,
  width: number,
  height: number,
  maxSide: number,
): { data: Float64Array; width: number; height: number } {
  const bx = Math.ceil(width / maxSide);
  const by = Math.ceil(height / maxSide);
  const outW = Math.ceil(width / bx);
  const outH = Math.ceil(height / by);
  const sums = new Float64Array(outW * outH);
  const counts = new Float64Array(outW * outH);
  const column = Int32Array.from({ length: width }, (_, x) => Math.floor(x / bx));
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / by) * outW;
    const start = y * width;
    for (let x = 0; x < width; x++) {
      const cell = row + column[x];
      sums[cell] += values[start + x];
      counts[cell]++;
    }
  }
  for (let c = 0; c < sums.length; c++) sums[c] /= counts[c];
  return { data: sums, width: outW, height: outH };
}

interface Prepared {
  readonly top: Uint8Array;
  readonly ranks: Float64Array;
}

function prepare(map: AttributionMap, name: string, topFraction: number): Prepared {
  const mass = attentionMass(map, resolveMode(map, undefined), name);
  const count = Math.round(topFraction * mass.length);
  return {
    top: topSet(mass, count),
    ranks: averageRanks(boxAverage(mass, map.width, map.height, RANK_GRID_SIZE).data),
  };
}

function agree(a: Prepared, b: Prepared, topFraction: number): MapAgreement {
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.top.length; i++) {
    both += a.top[i] & b.top[i];
    either += a.top[i] | b.top[i];
  }
  return { topOverlap: both / either, rankCorrelation: pearson(a.ranks, b.ranks), topFraction };
}

/**
 * Ranks from 1, ties sharing the mean of the ranks they span (as scipy.stats.rankdata's default); NaN, which
 * has no place in any order, gets NaN and leaves the others ranked among themselves (so a correlation over it
 * is NaN, not a number). Sorting indices through a comparator cost 40 ms for a 299² map, and a sanity step
 * ranks one or two: the values are sorted as numbers instead (a typed array's own sort), by packedRanks where
 * they are float32 values (every map is), else with a binary search for each value's tie run.
 */
export function averageRanks(values: Float64Array): Float64Array {
  const n = values.length;
  let float32 = n <= PACKED_MAX;
  for (let i = 0; float32 && i < n; i++) {
    const v = values[i];
    float32 = Math.fround(v) === v || Number.isNaN(v);
  }
  return float32 ? packedRanks(values) : searchedRanks(values);
}

/** Indices below 2²¹ beside a 32-bit key fill the 53 bits a double holds exactly. */
const PACKED_MAX = 2 ** 21;

/**
 * averageRanks of float32 values: each packed into one double, its order-preserving 32-bit key × 2²¹ plus its
 * index, so one numeric sort orders the values and keeps where each came from; ties are then runs of one key.
 */
function packedRanks(values: Float64Array): Float64Array {
  const n = values.length;
  // + 0 turns −0 into 0: the two are one value to rank. A loop: Float32Array.from with a mapping function
  // cost more than the sort.
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = values[i] + 0;
  const bits = new Uint32Array(f.buffer);
  const packed = new Float64Array(n);
  let nans = 0;
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    // Negative floats order by their bits reversed; the others above every negative one. NaN keys (above
    // +∞, or below −∞ for a negative NaN) are set aside below.
    const key = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    packed[i] = key * PACKED_MAX + i;
    if (Number.isNaN(f[i])) nans++;
  }
  packed.sort();
  const ranks = new Float64Array(n);
  // NaNs' keys sort to the two ends; the ranks count from the first value that is not NaN.
  let first = 0;
  while (first < n && Number.isNaN(f[packed[first] % PACKED_MAX])) first++;
  const last = first + (n - nans); // one past the last value that is not NaN
  for (let k = 0; k < first; k++) ranks[packed[k] % PACKED_MAX] = Number.NaN;
  for (let k = last; k < n; k++) ranks[packed[k] % PACKED_MAX] = Number.NaN;
  for (let start = first; start < last; ) {
    const key = Math.floor(packed[start] / PACKED_MAX);
    let end = start + 1;
    while (end < last && Math.floor(packed[end] / PACKED_MAX) === key) end++;
    const rank = (start - first + (end - first) + 1) / 2; // mean of the ranks start − first + 1 … end − first
    for (let k = start; k < end; k++) ranks[packed[k] % PACKED_MAX] = rank;
    start = end;
  }
  return ranks;
}

/** averageRanks of any doubles: sorted, then each value's tie run [lo, end) found by binary search. */
function searchedRanks(values: Float64Array): Float64Array {
  const n = values.length;
  const ranks = new Float64Array(n);
  // A typed array sorts NaN last, where the searches below never reach: every comparison with it is false.
  const sorted = Float64Array.from(values).sort();
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) {
      ranks[i] = Number.NaN;
      continue;
    }
    // lo: the first index with sorted ≥ v; end: the first with sorted > v (−0 and 0 compare equal here).
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    hi = n;
    while (end < hi) {
      const mid = (end + hi) >>> 1;
      if (sorted[mid] <= v) end = mid + 1;
      else hi = mid;
    }
    ranks[i] = (lo + end + 1) / 2; // mean of lo + 1 … end
  }
  return ranks;
}

/** Pearson's r; NaN when either side is constant. */
export function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

function sizeMismatch(subject: string, a: AttributionMap, b: AttributionMap): SightlineError {
  return new SightlineError(
    'INVALID_ARGUMENT',
    `${subject} must be maps of the same size; got ${a.width}×${a.height} and ${b.width}×${b.height} ` +
      '(width×height).',
    { sizes: [`${a.width}×${a.height}`, `${b.width}×${b.height}`] },
  );
}
