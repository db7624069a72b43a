import { invalidArgument, SightlineError } from '../core/errors.js';

/**
 * Which part of a signed attribution map to show:
 * - `absolute`: |v|, how much a pixel mattered either way (PAIR saliency's default for gradients);
 * - `positive` / `negative`: max(v, 0) / max(−v, 0), only the evidence for / against the class;
 * - `signed`: v itself, scaled symmetrically around 0 so that 0 stays 0.
 */
export const NORMALIZE_MODES = ['absolute', 'positive', 'negative', 'signed'] as const;
export type NormalizeMode = (typeof NORMALIZE_MODES)[number];

export const DEFAULT_CLIP_PERCENTILE = 99.5;

export interface NormalizeOptions {
  /** Default `absolute`. */
  readonly mode?: NormalizeMode;
  /**
   * The percentile of the chosen values that becomes the top of the scale; larger values are clipped to it,
   * so a few extreme pixels do not wash out the rest. Default 99.5; 100 scales by the maximum.
   */
  readonly clipPercentile?: number;
}

/**
 * Scales a map for display, as PAIR saliency's VisualizeImageGrayscale / VisualizeImageDiverging do.
 * Unsigned modes: (x − min) / (p-th percentile − min), clipped to [0, 1]. Signed: v / (p-th percentile of |v|),
 * clipped to [−1, 1]. A constant map (nothing stands out) comes back as all zeros.
 */
export function normalizeMap(map: Float32Array, options: NormalizeOptions = {}): Float32Array {
  const mode = options.mode ?? 'absolute';
  if (!NORMALIZE_MODES.includes(mode))
    throw invalidArgument('mode', `one of ${NORMALIZE_MODES.join(', ')}`, mode);
  const clip = options.clipPercentile ?? DEFAULT_CLIP_PERCENTILE;
  if (typeof clip !== 'number' || !(clip > 0 && clip <= 100)) {
    throw invalidArgument('clipPercentile', 'a number in (0, 100]', clip);
  }
  assertFinite(map);

  const out = new Float32Array(map.length);
  if (map.length === 0) return out;
  if (mode === 'signed') {
    const magnitude = map.map(Math.abs);
    const top = percentile(magnitude, clip);
    if (top === 0) return out;
    for (let i = 0; i < map.length; i++) out[i] = Math.max(-1, Math.min(1, map[i] / top));
    return out;
  }

  const sign = mode === 'negative' ? -1 : 1;
  for (let i = 0; i < map.length; i++) {
    out[i] = mode === 'absolute' ? Math.abs(map[i]) : Math.max(0, sign * map[i]);
  }
  let low = Infinity;
  for (let i = 0; i < out.length; i++) low = Math.min(low, out[i]);
  const top = percentile(out, clip);
  if (!(top > low)) return out.fill(0);
  const scale = 1 / (top - low);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, (out[i] - low) * scale);
  return out;
}

/** Rejects NaN and ±Infinity, which would otherwise turn a whole normalised map into NaN. */
export function assertFinite(map: Float32Array, name = 'map'): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < map.length; i++) {
    if (!Number.isFinite(map[i])) {
      if (bad === 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `Argument '${name}' must hold finite numbers; got ${bad} NaN or infinite value${bad === 1 ? '' : 's'} ` +
        `among its ${map.length} positions (the first at position ${first}, value ${map[first]}).`,
      { argument: name, nonFinite: bad, positions: map.length, first },
    );
  }
}

/**
 * The p-th percentile (0–100) with linear interpolation between order statistics, as numpy.percentile's
 * default. Uses selection rather than sorting: a 12-megapixel map sorts in seconds but selects in tens of ms.
 */
export function percentile(values: Float32Array, p: number): number {
  if (values.length === 0) throw invalidArgument('values', 'a non-empty array', values);
  const work = values.slice();
  const position = ((values.length - 1) * p) / 100;
  const below = Math.floor(position);
  const lower = select(work, below);
  if (below === position) return lower;
  // After selecting index `below`, everything to its right is ≥ it; the next order statistic is their minimum.
  let upper = Infinity;
  for (let i = below + 1; i < work.length; i++) upper = Math.min(upper, work[i]);
  return lower + (upper - lower) * (position - below);
}

/** The k-th smallest value (k from 0), without sorting. */
export function orderStatistic(values: Float32Array, k: number): number {
  if (!(Number.isInteger(k) && k >= 0 && k < values.length)) {
    throw invalidArgument('k', `an integer index in [0, ${values.length - 1}]`, k);
  }
  return select(values.slice(), k);
}

/**
 * Rearranges `a` so that a[k] is the k-th smallest, smaller values before it and larger after (quickselect
 * with three-way partitioning, so maps that are mostly zeros do not degrade it).
 */
function select(a: Float32Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const pivot = medianOfThree(a[left], a[(left + right) >> 1], a[right]);
    let lt = left;
    let gt = right;
    let i = left;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i++] = a[lt];
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt--] = v;
      } else {
        i++;
      }
    }
    if (k < lt) right = lt - 1;
    else if (k > gt) left = gt + 1;
    else return pivot;
  }
  return a[k];
}

function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
