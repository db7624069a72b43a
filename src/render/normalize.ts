import { invalidArgument } from '../core/errors.js';
import { assertFinite, percentile } from '../core/values.js';

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
