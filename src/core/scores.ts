import type { ModelSpec } from './model.js';
import type { Tensor } from './tensor.js';

/**
 * The black-box methods explain the target class's probability, as RISE and occlusion are defined: for a
 * model that outputs logits, each row goes through a softmax first (numerically stable form).
 */
export function targetProbabilities(
  scores: Tensor,
  spec: Pick<ModelSpec, 'outputs'>,
  target: number,
): Float32Array {
  const [n, k] = scores.dims;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = scores.data.subarray(i * k, (i + 1) * k);
    out[i] = spec.outputs === 'logits' ? softmax(row)[target] : row[target];
  }
  return out;
}

export function softmax(values: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]);
  const out = new Float64Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.exp(values[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
