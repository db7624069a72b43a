// Checks and order statistics over arrays of values, shared by the metrics and the renderers above them.
import { invalidArgument, SightlineError } from './errors.js';
import { bitsOf, percentileOf, SORTABLE, selectKeys, valueOfKey } from './select.js';

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
 * default, by selection over the values' bits (core/select.ts) rather than sorting or copying.
 */
export function percentile(values: Float32Array, p: number): number {
  if (values.length === 0) throw invalidArgument('values', 'a non-empty array', values);
  return percentileOf(bitsOf(values), SORTABLE, p);
}

/** The k-th smallest value (k from 0), without sorting. */
export function orderStatistic(values: Float32Array, k: number): number {
  if (!(Number.isInteger(k) && k >= 0 && k < values.length)) {
    throw invalidArgument('k', `an integer index in [0, ${values.length - 1}]`, k);
  }
  return valueOfKey(selectKeys(bitsOf(values), SORTABLE, k)[0]);
}

/** Whether every value is the same (an empty array is): a map that ranks no pixel above another. */
export function allEqual(values: Float32Array): boolean {
  const first = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return false;
  return true;
}
