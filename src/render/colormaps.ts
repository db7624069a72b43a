import {
  interpolateInferno,
  interpolateMagma,
  interpolateRdBu,
  interpolateTurbo,
  interpolateViridis,
} from 'd3-scale-chromatic';
import { invalidArgument } from '../core/errors.js';
import type { NormalizeMode } from './normalize.js';

/** The colormaps a user can choose; CLI choices and web menus read this list. */
export const COLORMAP_NAMES = ['turbo', 'viridis', 'inferno', 'magma', 'gray', 'coolwarm'] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];

export interface Colormap {
  readonly name: ColormapName;
  /** Diverging maps have a neutral middle and are meant for signed values (negative → 0 → positive). */
  readonly diverging: boolean;
  /** 256 entries × RGB; entry i is the colour of t = i / 255. */
  readonly lut: Uint8Array;
}

const INTERPOLATORS: Record<ColormapName, (t: number) => string> = {
  turbo: interpolateTurbo,
  viridis: interpolateViridis,
  inferno: interpolateInferno,
  magma: interpolateMagma,
  gray: (t) => {
    const v = Math.round(t * 255);
    return `rgb(${v}, ${v}, ${v})`;
  },
  // d3's RdBu runs red → blue; reversed, negative evidence is blue and positive red, as in matplotlib's
  // coolwarm, with a near-white middle for zero.
  coolwarm: (t) => interpolateRdBu(1 - t),
};

const cache = new Map<ColormapName, Colormap>();

export function colormap(name: ColormapName): Colormap {
  const cached = cache.get(name);
  if (cached) return cached;
  if (!Object.hasOwn(INTERPOLATORS, name))
    throw invalidArgument('colormap', `one of ${COLORMAP_NAMES.join(', ')}`, name);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(parseColor(INTERPOLATORS[name](i / 255)), i * 3);
  const map: Colormap = { name, diverging: name === 'coolwarm', lut };
  cache.set(name, map);
  return map;
}

export function defaultColormap(mode: NormalizeMode): ColormapName {
  return mode === 'signed' ? 'coolwarm' : 'turbo';
}

/**
 * Where a normalised value sits on a colormap's 0–1 ramp. Zero is the neutral middle of a diverging map
 * whatever the mode (negative evidence leans to its cold side); a sequential map spans signed values end to end.
 */
export function rampPosition(value: number, mode: NormalizeMode, map: Colormap): number {
  if (mode === 'signed') return (value + 1) / 2;
  if (!map.diverging) return value;
  return mode === 'negative' ? 0.5 - value / 2 : 0.5 + value / 2;
}

/** The lookup-table entry for t ∈ [0, 1], clamped. */
export function lutIndex(t: number): number {
  return Math.round(Math.min(1, Math.max(0, t)) * 255);
}

/** d3's interpolators answer "#rrggbb" or "rgb(r, g, b)". */
function parseColor(text: string): number[] {
  if (text.startsWith('#')) return [1, 3, 5].map((i) => Number.parseInt(text.slice(i, i + 2), 16));
  return (text.match(/\d+/g) ?? []).map(Number);
}
