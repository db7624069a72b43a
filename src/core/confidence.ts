// When the explained class is one the model barely believes in, its map shows what little evidence there is
// for it, not what the model sees: every surface (CLI, report, web app) says so beside the map, in the same
// words, decided here once.
import type { ModelSpec } from './model.js';
import { outputValues } from './scores.js';

/**
 * Below this softmax probability a class is "low": one class in a hundred, where a classifier over a few
 * classes spreads its mass unevenly enough that such a class is not what it sees.
 */
export const LOW_CLASS_PROBABILITY = 0.01;
/**
 * Below this sigmoid probability a tag is "low": tags are independent yes/no answers, so a tag at 10% is a
 * clear "no" without any other tag having to win.
 */
export const LOW_TAG_PROBABILITY = 0.1;

/** A tag is present, as a yes/no answer, when its own sigmoid probability is at least this. */
export const TAG_PRESENT = 0.5;

/** What a surface needs to say that the explained target is unlikely, as plain data (rows keep it). */
export interface LowConfidence {
  /** The target's probability (softmax for a class, its own sigmoid for a tag). */
  readonly probability: number;
  /** The threshold it is under (LOW_CLASS_PROBABILITY or LOW_TAG_PROBABILITY). */
  readonly threshold: number;
  /**
   * The class or tag the model gives the most probability instead; absent when the target is itself the top,
   * or when the top is under the threshold too (a tagger that sees no tag: naming one as what it "mostly sees"
   * would be wrong).
   */
  readonly instead?: { readonly index: number; readonly label: string; readonly probability: number };
}

/**
 * The note for explaining output `target` of a row of raw scores, or undefined when there is none to give: the
 * target is at or above its threshold, or the outputs are not probabilities (a score, a segmenter's class
 * scores, an embedding, a detector's outputs: only 'classify' and 'multilabel' read as probabilities).
 * `labelOf` names an output (as explain.ts labelOf does). NaN or out-of-range targets give no note.
 */
export function lowConfidence(
  spec: Pick<ModelSpec, 'outputs' | 'task'>,
  scores: ArrayLike<number>,
  target: number,
  labelOf: (index: number) => string,
): LowConfidence | undefined {
  const probabilities = spec.task === undefined || spec.task === 'classify' || spec.task === 'multilabel';
  if (!probabilities || !(target >= 0 && target < scores.length)) return undefined;
  const threshold = spec.task === 'multilabel' ? LOW_TAG_PROBABILITY : LOW_CLASS_PROBABILITY;
  const values = outputValues(scores, spec);
  const probability = values[target];
  if (!(probability < threshold)) return undefined;
  let top = target;
  for (let i = 0; i < values.length; i++) if (values[i] > values[top]) top = i;
  return {
    probability,
    threshold,
    ...(top !== target && values[top] >= threshold
      ? { instead: { index: top, label: labelOf(top), probability: values[top] } }
      : {}),
  };
}

/** A probability in the note's words: one decimal of a percent, "under 0.1%" for what rounds to nothing. */
export function notePercent(p: number): string {
  return p >= 0.0005 ? `${(p * 100).toFixed(1)}%` : 'under 0.1%';
}

/**
 * The note in words, one sentence: "'cat' has 0.4% probability (under 1%): the map shows what little evidence
 * there is for it; the model mostly sees 'dog' (92.0%)." `noun` is 'class' or 'tag'; without `instead` (no
 * class or tag reaches the threshold) the sentence says none is likely.
 */
export function lowConfidenceWords(note: LowConfidence, target: string, noun: 'class' | 'tag'): string {
  const head =
    `'${target}' has ${notePercent(note.probability)} probability (under ${notePercent(note.threshold)}): ` +
    'the map shows what little evidence there is for it';
  if (note.instead)
    return `${head}; the model mostly sees '${note.instead.label}' (${notePercent(note.instead.probability)}).`;
  return `${head}; no ${noun} is likely either.`;
}

/** A short form for a legend caption: "only 0.4%; mostly 'dog' (92.0%)". */
export function lowConfidenceCaption(note: LowConfidence): string {
  const instead = note.instead
    ? `; mostly '${note.instead.label}' (${notePercent(note.instead.probability)})`
    : '';
  return `only ${notePercent(note.probability)}${instead}`;
}
