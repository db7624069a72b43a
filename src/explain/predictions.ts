// How a model's scores read as predictions and targets: every surface (explain, audit, evaluate, the web app)
// names classes, ranks them and resolves a target the same way.
import type { Target } from '../core/attribution.js';
import { invalidArgument } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { outputValues } from '../core/scores.js';
import type { Tensor } from '../core/tensor.js';
import type { Prediction } from '../explain.js';
import { resolveLabel } from '../models/label-match.js';

export function labelOf(model: Model, index: number): string {
  const noun = model.spec.task === 'multilabel' ? 'tag' : model.spec.task === 'score' ? 'score' : 'class';
  return model.spec.labels[index] ?? `${noun} ${index}`;
}

/**
 * The first k predictions in the task's words (core/scores.ts outputValues): classes by softmax probability
 * and tags by their own sigmoid probability, highest first; a score model's raw outputs in their own order, as
 * ranking regression outputs against each other means nothing.
 */
export function rankPredictions(model: Model, scores: Tensor, k: number): Prediction[] {
  const row = scores.data.subarray(0, scores.dims[1]);
  const predictions = Array.from(outputValues(row, model.spec), (score, index) => ({
    index,
    label: labelOf(model, index),
    score,
  }));
  if (model.spec.task !== 'score') predictions.sort((a, b) => b.score - a.score);
  return predictions.slice(0, Math.max(1, k));
}

/**
 * 'top' (the highest score), a class index below the number of scores, or a label as resolveLabel reads it
 * (exact, a class index, case-insensitive, underscores and hyphens as spaces, a unique part).
 */
export function resolveTarget(model: Model, scores: Tensor, target: 'top' | number | string): Target {
  const k = scores.dims[1];
  if (target === 'top') {
    let best = 0;
    for (let i = 1; i < k; i++) if (scores.data[i] > scores.data[best]) best = i;
    return { index: best, label: labelOf(model, best) };
  }
  const index = pickIndex(model, k, target);
  return { index, label: labelOf(model, index) };
}

/** A class index below k, or a label as resolveLabel reads it. */
export function pickIndex(model: Model, k: number, target: number | string): number {
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target < 0 || target >= k) {
      throw invalidArgument('target', `a class index from 0 to ${k - 1}`, target);
    }
    return target;
  }
  return resolveLabel(target, model.spec.labels, { classes: k, noun: 'Target' }).index;
}
