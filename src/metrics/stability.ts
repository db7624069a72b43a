// Does the map stay put when it should? Across seeds for random methods, and under an input change too small
// to matter to the model.
import type { AttributionMap } from '../core/attribution.js';
import { invalidArgument } from '../core/errors.js';
import type { MethodInput, MethodOptions } from '../core/method.js';
import { createRng } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import type { AnyMethod } from '../methods/registry.js';
import { resolveOptions } from '../methods/registry.js';
import { spearman } from './similarity.js';

export interface SeedStability {
  /** Spearman's ρ of each pair of seeds' maps, in seed order (0–1, 0–2, …, 1–2, …). */
  readonly pairs: readonly number[];
  /** Their mean: 1 when every seed gives the same order of pixels. */
  readonly mean: number;
}

/**
 * For a method that draws random numbers (RISE, SmoothGrad, expected gradients …): the maps from `seeds`
 * compared pairwise by Spearman's ρ on the raw values. Deterministic methods need no such check (their maps
 * are identical by construction) and are refused.
 */
export async function seedStability(
  method: AnyMethod,
  input: Omit<MethodInput, 'onProgress'>,
  options: MethodOptions = {},
  seeds: readonly number[] = [0, 1, 2],
): Promise<SeedStability> {
  if (!method.random || !('seed' in method.defaults)) {
    throw invalidArgument('method', 'a method that draws random numbers (it takes a seed)', method.id);
  }
  if (seeds.length < 2) throw invalidArgument('seeds', 'at least two seeds', seeds);
  const maps: AttributionMap[] = [];
  for (const seed of seeds) {
    maps.push(await method.attribute(input, resolveOptions(method, { ...options, seed })));
  }
  const pairs: number[] = [];
  for (let i = 0; i < maps.length; i++)
    for (let j = i + 1; j < maps.length; j++) pairs.push(spearman(maps[i].data, maps[j].data));
  return { pairs, mean: pairs.reduce((a, b) => a + b, 0) / pairs.length };
}

export interface Sensitivity {
  /**
   * Max-sensitivity (Yeh et al., "On the (In)fidelity and Sensitivity of Explanations", NeurIPS 2019, eq. 6,
   * as Quantus computes it): the largest ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂ over the samples, δ uniform in the L∞
   * ball of `radius` (in the model's normalised input units). 0 is perfectly stable.
   */
  readonly maxSensitivity: number;
  /** The smallest Spearman's ρ between the original map and a perturbed input's map. */
  readonly minSpearman: number;
}

/** The map's change under tiny input noise; `samples` perturbed inputs, seeded. */
export async function maxSensitivity(
  method: AnyMethod,
  input: Omit<MethodInput, 'onProgress'>,
  options: MethodOptions = {},
  settings: { radius?: number; samples?: number; seed?: number } = {},
): Promise<Sensitivity> {
  const radius = settings.radius ?? 0.02;
  const samples = settings.samples ?? 5;
  if (!(radius > 0)) throw invalidArgument('radius', 'a positive number', radius);
  if (!Number.isInteger(samples) || samples < 1)
    throw invalidArgument('samples', 'a whole number ≥ 1', samples);
  const resolved = resolveOptions(method, options);
  const original = await method.attribute(input, resolved);
  const norm = l2(original.data);
  if (norm === 0)
    throw invalidArgument(
      'map',
      'a map that is not zero everywhere (sensitivity divides by its norm)',
      method.id,
    );
  const rng = createRng(settings.seed ?? 0);
  let worst = 0;
  let minRho = 1;
  for (let s = 0; s < samples; s++) {
    const noisy: Tensor = {
      dims: input.input.dims,
      data: input.input.data.map((v) => v + (2 * rng.next() - 1) * radius),
    };
    const map = await method.attribute({ ...input, input: noisy }, resolved);
    let diff = 0;
    for (let i = 0; i < map.data.length; i++) diff += (map.data[i] - original.data[i]) ** 2;
    worst = Math.max(worst, Math.sqrt(diff) / norm);
    minRho = Math.min(minRho, spearman(original.data, map.data));
  }
  return { maxSensitivity: worst, minSpearman: minRho };
}

function l2(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}
