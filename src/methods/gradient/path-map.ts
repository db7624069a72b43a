import type { AttributionMap } from '../../core/attribution.js';
import type { MethodInput } from '../../core/method.js';
import { channelMap } from './vanilla.js';

/**
 * A path method's map (channels summed, signed) with its completeness check in `details`, as Integrated
 * Gradients reports it: completenessDelta = Σ A − (S(x) − S(x′)), relativeDelta = |that| / |S(x) − S(x′)|
 * (0 when the two scores are equal).
 */
export function pathMap(
  input: MethodInput,
  attributions: ArrayLike<number>,
  ends: { readonly scoreAtInput: number; readonly scoreAtBaseline: number; readonly steps: number },
): AttributionMap {
  let sum = 0;
  for (let i = 0; i < attributions.length; i++) sum += attributions[i];
  const change = ends.scoreAtInput - ends.scoreAtBaseline;
  return {
    ...channelMap(input, Float32Array.from(attributions), 'sum', true),
    details: {
      completenessDelta: sum - change,
      relativeDelta: change === 0 ? 0 : Math.abs(sum - change) / Math.abs(change),
      ...ends,
    },
  };
}
