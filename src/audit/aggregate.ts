// The dataset-level picture of an audit, from its rows alone: each image's map reduced to a small grid and a
// border share (computed once per image, stored in its row), then means, verdict counts, accuracy and clusters.
import { invalidArgument } from '../core/errors.js';
import { createRng } from '../core/random.js';
import { attentionMass, validateMap } from '../metrics/region.js';
import { summarizeShortcuts } from './shortcut-summary.js';
import {
  type AuditCluster,
  type AuditRow,
  type AuditSummary,
  type AuditTagCount,
  type AuditVerdict,
  BORDER_FRACTION,
  SUMMARY_GRID,
} from './types.js';

/** A map's shape and values, row-major height × width (an AttributionMap fits). */
export interface SummaryMapInput {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export interface SummarizeOptions {
  /** Number of clusters, a positive integer (at most the number of maps). Default min(4, ⌈√n⌉) for n maps. */
  readonly clusters?: number;
  /** Seed of the k-means++ initialisation (mulberry32). Default 0. */
  readonly seed?: number;
}

/** Lloyd iterations stop when no assignment changes, or after this many rounds. */
export const KMEANS_MAX_ROUNDS = 100;

const VERDICTS: readonly AuditVerdict[] = ['object', 'partly', 'background'];

/**
 * A map's positive attention (max(v, 0) for a signed map, |v| otherwise) reduced to grid × grid cells, row-major,
 * normalised to sum to 1: the image is stretched to the square grid and each cell is the mean of the pixels
 * whose centres fall in it, so every pixel counts once (pixel column x goes to cell ⌊(x + ½) · grid / width⌋,
 * rows alike). A cell no pixel centre falls in (only when the image is narrower or shorter than the grid) takes
 * the pixel under the cell's centre, i.e. small maps are upscaled by nearest neighbour.
 *
 * Throws INVALID_ARGUMENT for a malformed map, non-finite values, or a map with no positive attention (all
 * zero, or no value above zero in a signed map): there is nothing to normalise, and a uniform grid would claim
 * an even spread the map never showed. Callers should catch that and leave `summary` (and `borderShare`) out of
 * the image's row; summarize skips rows without a summary. `grid` defaults to SUMMARY_GRID.
 */
export function summaryGrid(map: SummaryMapInput, signed: boolean, grid: number = SUMMARY_GRID): number[] {
  if (!(Number.isInteger(grid) && grid > 0)) throw invalidArgument('grid', 'a positive integer', grid);
  const mass = positiveMass(map, signed);
  const { width, height } = map;
  const columns = cellOf(width, grid);
  const rows = cellOf(height, grid);
  const sums = new Float64Array(grid * grid);
  const counts = new Float64Array(grid * grid);
  for (let y = 0; y < height; y++) {
    const row = rows[y] * grid;
    for (let x = 0; x < width; x++) {
      sums[row + columns[x]] += mass[y * width + x];
      counts[row + columns[x]]++;
    }
  }
  const cells = new Array<number>(grid * grid);
  let total = 0;
  for (let cy = 0; cy < grid; cy++) {
    for (let cx = 0; cx < grid; cx++) {
      const c = cy * grid + cx;
      if (counts[c] > 0) cells[c] = sums[c] / counts[c];
      else {
        const x = Math.floor(((cx + 0.5) * width) / grid);
        const y = Math.floor(((cy + 0.5) * height) / grid);
        cells[c] = mass[y * width + x];
      }
      total += cells[c];
    }
  }
  return cells.map((v) => v / total);
}

/**
 * The share of a map's positive attention (as in summaryGrid) that lies in the border band: pixels whose centre
 * is within BORDER_FRACTION of the width from the left or right edge, or of the height from the top or bottom
 * (strictly within, on both sides alike). Compare with borderAreaShare, what an even spread would give. Throws
 * as summaryGrid does.
 */
export function borderShare(map: SummaryMapInput, signed: boolean): number {
  const mass = positiveMass(map, signed);
  const { width, height } = map;
  const columns = bandOf(width);
  const rows = bandOf(height);
  let total = 0;
  let band = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const m = mass[y * width + x];
      total += m;
      if (rows[y] || columns[x]) band += m;
    }
  }
  return band / total;
}

/** The border band's share of a width × height image's pixels (see borderShare): 36% for 10 × 10. */
export function borderAreaShare(width: number, height: number): number {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw invalidArgument('width/height', 'positive integers', [width, height]);
  }
  const innerColumns = bandOf(width).reduce((n, b) => n + (b ? 0 : 1), 0);
  const innerRows = bandOf(height).reduce((n, b) => n + (b ? 0 : 1), 0);
  return 1 - (innerColumns * innerRows) / (width * height);
}

/**
 * The dataset-level summary of an audit's rows:
 * - `images`, `errors`: all rows, and those with status 'error';
 * - `meanMap`: the mean of the ok rows' summaries (SUMMARY_GRID², sums to 1); empty when no row has one;
 * - `borderShare`, `borderAreaShare`: means over the ok rows with a border share (the second from their sizes,
 *   so both average the same images); NaN when no row has one;
 * - `verdicts`: ok rows per region verdict; `noEvidence`: ok rows whose map found no evidence for the class;
 * - `accuracy`: the share of rows with `correct` that are correct, overall and among each verdict's rows; null
 *   where no row counts;
 * - `task`: the rows' task; `tags`: per labelled tag of a multilabel audit, its ok images and those with it present;
 * - `clusters`: k-means on the summaries (squared Euclidean distance), k = options.clusters ?? min(4, ⌈√n⌉),
 *   at most n. Rows are taken in file-name order, so the result does not depend on the order of the rows; the
 *   k-means++ initialisation (Arthur & Vassilvitskii 2007: the first centre uniform, each next one drawn with
 *   probability ∝ squared distance to the nearest centre chosen; no more centres once every map coincides with
 *   one) draws from mulberry32 seeded with options.seed (default 0); then Lloyd iterations until no assignment
 *   changes or KMEANS_MAX_ROUNDS rounds (ties to the lower centre; an empty cluster keeps its centre). Empty
 *   clusters are dropped; clusters come largest first (ties by first member), members in file-name order, each
 *   with its members' mean map. The same rows and seed give the same clusters;
 * - `shortcuts`: the rows' shortcut tests over the dataset, per class and per cluster (shortcut-summary.ts),
 *   when any row has them.
 *
 * Throws INVALID_ARGUMENT for a summary of the wrong length or with non-finite values, a border share outside
 * [0, 1] or without the image's size, and invalid options.
 */
export function summarize(rows: readonly AuditRow[], options: SummarizeOptions = {}): AuditSummary {
  if (!Array.isArray(rows as unknown)) throw invalidArgument('rows', 'a list of audit rows', rows);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw invalidArgument('options.seed', 'an integer', seed);
  if (options.clusters !== undefined && !(Number.isInteger(options.clusters) && options.clusters > 0)) {
    throw invalidArgument('options.clusters', 'a positive integer', options.clusters);
  }
  const ok = rows.filter((row) => row.status === 'ok');
  const cells = SUMMARY_GRID * SUMMARY_GRID;

  const mapped = ok.filter((row) => row.summary !== undefined).sort((a, b) => compareText(a.file, b.file));
  for (const row of mapped) {
    const summary = row.summary!;
    if (summary.length !== cells || !summary.every((v) => Number.isFinite(v))) {
      throw invalidArgument(
        `rows[${JSON.stringify(row.file)}].summary`,
        `${cells} finite numbers (SUMMARY_GRID² = ${SUMMARY_GRID}²)`,
        `${summary.length} values`,
      );
    }
  }
  const points = mapped.map((row) => row.summary!);

  let border = 0;
  let borderArea = 0;
  const bordered = ok.filter((row) => row.borderShare !== undefined);
  for (const row of bordered) {
    const share = row.borderShare!;
    if (!(share >= 0 && share <= 1)) {
      throw invalidArgument(`rows[${JSON.stringify(row.file)}].borderShare`, 'a number in [0, 1]', share);
    }
    if (row.width === undefined || row.height === undefined) {
      throw invalidArgument(
        `rows[${JSON.stringify(row.file)}].width/height`,
        'the image size beside its border share',
        [row.width, row.height],
      );
    }
    border += share;
    borderArea += borderAreaShare(row.width, row.height);
  }

  const verdicts: Record<AuditVerdict, number> = { object: 0, partly: 0, background: 0 };
  for (const row of ok) if (row.region) verdicts[row.region.verdict]++;

  const labelled = rows.filter((row) => typeof row.correct === 'boolean');
  const accuracyByVerdict = Object.fromEntries(
    VERDICTS.map((v) => [v, accuracyOf(labelled.filter((row) => row.region?.verdict === v))]),
  ) as Record<AuditVerdict, number | null>;

  const k = Math.min(options.clusters ?? Math.min(4, Math.ceil(Math.sqrt(points.length))), points.length);
  const clusters = kMeans(points, k, seed).map(
    (members): AuditCluster => ({
      members: members.map((i) => mapped[i].file),
      mean: meanOf(
        members.map((i) => points[i]),
        cells,
      ),
    }),
  );

  const shortcuts = summarizeShortcuts(rows, clusters);
  return {
    images: rows.length,
    errors: rows.filter((row) => row.status === 'error').length,
    meanMap: points.length > 0 ? meanOf(points, cells) : [],
    borderShare: bordered.length > 0 ? border / bordered.length : Number.NaN,
    borderAreaShare: bordered.length > 0 ? borderArea / bordered.length : Number.NaN,
    verdicts,
    noEvidence: ok.filter((row) => row.noEvidence === true).length,
    task: rows.find((row) => row.task !== undefined)?.task ?? 'classify',
    tags: tagCounts(ok),
    accuracy: accuracyOf(labelled),
    accuracyByVerdict,
    clusters,
    ...(shortcuts ? { shortcuts } : {}),
  };
}

/** Code-unit order: the same on every platform and locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Attention mass per pixel, max(v, 0) for signed maps and |v| otherwise; throws when there is none. */
function positiveMass(map: SummaryMapInput, signed: boolean): Float32Array {
  if (typeof signed !== 'boolean') throw invalidArgument('signed', 'a boolean', signed);
  const attribution = { width: map?.width, height: map?.height, data: map?.data, signed };
  validateMap(attribution, 'map');
  return attentionMass(attribution, signed ? 'positive' : 'absolute', 'map');
}

/** For each of `size` pixels along a side, the grid cell its centre falls in. */
function cellOf(size: number, grid: number): Int32Array {
  return Int32Array.from({ length: size }, (_, i) => Math.floor(((i + 0.5) * grid) / size));
}

/** For each of `size` pixels along a side, 1 when its centre lies strictly within BORDER_FRACTION of an end. */
function bandOf(size: number): Uint8Array {
  const band = BORDER_FRACTION * size;
  return Uint8Array.from({ length: size }, (_, i) => (i + 0.5 < band || i + 0.5 > size - band ? 1 : 0));
}

/** Per labelled tag (by index), the images labelled with it and those where the model has it present. */
function tagCounts(rows: readonly AuditRow[]): AuditTagCount[] {
  const counts = new Map<number, { label: string; images: number; present: number }>();
  for (const row of rows) {
    for (const tag of row.tags ?? []) {
      const c = counts.get(tag.index) ?? { label: tag.label, images: 0, present: 0 };
      c.images++;
      if (tag.present) c.present++;
      counts.set(tag.index, c);
    }
  }
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([index, c]) => ({ index, label: c.label, images: c.images, present: c.present }));
}

function accuracyOf(rows: readonly AuditRow[]): number | null {
  if (rows.length === 0) return null;
  return rows.filter((row) => row.correct).length / rows.length;
}

function meanOf(maps: readonly (readonly number[])[], cells: number): number[] {
  const mean = new Array<number>(cells).fill(0);
  for (const map of maps) for (let c = 0; c < cells; c++) mean[c] += map[c];
  return mean.map((v) => v / maps.length);
}

function distance2(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let c = 0; c < a.length; c++) d += (a[c] - b[c]) ** 2;
  return d;
}

/** k-means++ then Lloyd (see summarize); the clusters as lists of point indices, largest first. */
function kMeans(points: readonly (readonly number[])[], k: number, seed: number): number[][] {
  const n = points.length;
  if (n === 0 || k === 0) return [];
  const rng = createRng(seed);
  const centres: number[][] = [[...points[Math.floor(rng.next() * n)]]];
  const nearest = points.map((p) => distance2(p, centres[0]));
  while (centres.length < k) {
    const total = nearest.reduce((s, d) => s + d, 0);
    if (!(total > 0)) break;
    const r = rng.next() * total;
    let pick = -1;
    let cumulative = 0;
    for (let i = 0; i < n; i++) {
      if (nearest[i] === 0) continue;
      pick = i;
      cumulative += nearest[i];
      if (cumulative > r) break;
    }
    const centre = [...points[pick]];
    centres.push(centre);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i], distance2(points[i], centre));
  }

  let assignment = new Int32Array(n).fill(-1);
  for (let round = 0; round < KMEANS_MAX_ROUNDS; round++) {
    const next = Int32Array.from(points, (p) => {
      let best = 0;
      let bestDistance = distance2(p, centres[0]);
      for (let c = 1; c < centres.length; c++) {
        const d = distance2(p, centres[c]);
        if (d < bestDistance) {
          best = c;
          bestDistance = d;
        }
      }
      return best;
    });
    const changed = next.some((c, i) => c !== assignment[i]);
    assignment = next;
    if (!changed) break;
    for (let c = 0; c < centres.length; c++) {
      const members = points.filter((_, i) => assignment[i] === c);
      if (members.length > 0) centres[c] = meanOf(members, points[0].length);
    }
  }

  return centres
    .map((_, c) => points.flatMap((_, i) => (assignment[i] === c ? [i] : [])))
    .filter((members) => members.length > 0)
    .sort((a, b) => b.length - a.length || a[0] - b[0]);
}
