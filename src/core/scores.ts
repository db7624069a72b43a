import type { ModelSpec } from './model.js';
import type { Tensor } from './tensor.js';

type Reading = Pick<ModelSpec, 'outputs' | 'task'>;

/**
 * One row of a model's scores in the task's words: 'classify' → class probabilities (a softmax over logits);
 * 'multilabel' → each tag's own sigmoid probability (sigmoid of each logit; the other tags play no part);
 * 'score', 'segment', 'embed' → the raw outputs (a segment or embed target is a function of them, see
 * core/targets.ts). Predictions and the black-box targets both read scores through here.
 */
export function outputValues(row: ArrayLike<number>, spec: Reading): Float64Array {
  const out = Float64Array.from(row as ArrayLike<number>);
  if (spec.outputs !== 'logits' || !coupledOrTagged(spec)) return out;
  if (spec.task === 'multilabel') return out.map(sigmoid);
  // A spec made before tasks existed (a plain-JS caller's) has no task: it is a classifier, as it was then.
  return softmax(out);
}

/** Whether a target's value depends on the other outputs too (a softmax couples the classes). */
function coupled(spec: Reading): boolean {
  // A spec made before tasks existed has none: a classifier.
  return spec.task === 'classify' || spec.task === undefined;
}

/** Whether logits are turned into probabilities: a class's softmax, a tag's sigmoid; other tasks read raw. */
function coupledOrTagged(spec: Reading): boolean {
  return coupled(spec) || spec.task === 'multilabel';
}

/**
 * The scalar the black-box methods explain for each row, as RISE and occlusion are defined on probabilities:
 * a class's softmax probability, a tag's sigmoid probability (independent of the other tags' outputs), or a
 * score's raw value (signed, so a map shows what raises and what lowers it).
 */
export function targetValues(scores: Tensor, spec: Reading, target: number): Float32Array {
  const [n, k] = scores.dims;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = scores.data.subarray(i * k, (i + 1) * k);
    out[i] = coupled(spec) ? outputValues(row, spec)[target] : outputValues([row[target]], spec)[0];
  }
  return out;
}

export function sigmoid(x: number): number {
  // Both branches keep exp's argument ≤ 0, so a large logit of either sign does not overflow.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
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
