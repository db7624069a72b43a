// Matching a label as a person writes it (a folder name, a CSV cell) to one of a model's classes. Pure, so the
// browser shares it.
import { SightlineError } from '../core/errors.js';
import { capText } from '../core/text.js';

/** How many close labels an unknown or ambiguous label's message lists. */
const CANDIDATES = 5;

/**
 * Labels come from untrusted CSV cells and model files: a longer text is quoted cut, and gets no closest-label
 * search, whose letter-by-letter comparison with every label grows with the product of their lengths.
 */
const LONGEST_LABEL = 200;

export interface LabelOptions {
  /** The number of scores, the bound for a class index (default: the number of labels). */
  readonly classes?: number;
  /** What the text is called in messages: 'Label' (a folder name, a CSV cell) or 'Target' (explain's --target). */
  readonly noun?: 'Label' | 'Target';
}

/**
 * The model class a label names: the one matcher for every label a person writes (explain's --target, a
 * folder name, a CSV cell). Tried in order, the first step that finds anything decides:
 * 1. the label exactly as the model spells it;
 * 2. a whole number: the class index (checked against `options.classes`, else the number of labels; any
 *    index when neither is known, for the caller to check against the outputs);
 * 3. the same ignoring case;
 * 4. the same with underscores and hyphens read as spaces (ImageNet folder names like `golden_retriever`);
 * 5. a label that contains it, so read.
 * A step that finds several classes (ImageNet has two `crane`s) makes the label ambiguous. An unknown or
 * ambiguous label throws UNKNOWN_TARGET naming it and up to 5 candidates with their indices. `text` in the
 * result is the label as given, trimmed.
 */
export function resolveLabel(
  text: string,
  modelLabels: readonly string[],
  options: LabelOptions = {},
): { text: string; index: number } {
  const wanted = text.trim();
  const named = `${options.noun ?? 'Label'} '${capText(wanted, LONGEST_LABEL)}'`;
  if (/^\d+$/.test(wanted) && !modelLabels.includes(wanted)) {
    return classIndex(wanted, named, options.classes ?? modelLabels.length);
  }
  if (wanted === '' || modelLabels.length === 0) {
    throw new SightlineError(
      'UNKNOWN_TARGET',
      `${named} cannot be matched: ${wanted === '' ? 'it is empty' : 'the model has no labels'}; ` +
        'expected a label of the model or a class index.',
      { label: wanted },
    );
  }
  const found = (index: number) => ({ text: wanted, index });
  const exact = indicesWhere(modelLabels, (label) => label === wanted);
  if (exact.length === 1) return found(exact[0]);
  const lower = wanted.toLowerCase();
  const spaced = spacedLabel(wanted);
  const steps = [
    exact,
    indicesWhere(modelLabels, (label) => label.toLowerCase() === lower),
    indicesWhere(modelLabels, (label) => spacedLabel(label) === spaced),
    indicesWhere(modelLabels, (label) => spacedLabel(label).includes(spaced)),
  ];
  const matches = steps.find((indices) => indices.length > 0) ?? [];
  if (matches.length === 1) return found(matches[0]);
  if (matches.length > 1) {
    throw new SightlineError(
      'UNKNOWN_TARGET',
      `${named} is ambiguous: it matches ${matches.length} labels of the model, ` +
        `${candidateList(modelLabels, matches)}; give the full label or the class index.`,
      { label: wanted, matches },
    );
  }
  const close = closeLabels(modelLabels, spaced);
  throw new SightlineError(
    'UNKNOWN_TARGET',
    `${named} is not a label of the model (${
      close.length === 0
        ? 'no label is close to it'
        : `the closest ${close.length === 1 ? 'is' : 'are'} ${candidateList(modelLabels, close)}`
    }); expected a label of the model or a class index.`,
    { label: wanted, candidates: close },
  );
}

/** A whole number as a class index, below `classes` when that is known (0: any index). */
function classIndex(wanted: string, named: string, classes: number): { text: string; index: number } {
  const index = Number(wanted);
  if (classes > 0 && index >= classes) {
    throw new SightlineError(
      'UNKNOWN_TARGET',
      `${named} reads as a class index, but the model has ${classes} classes (0 to ${classes - 1}).`,
      { label: wanted },
    );
  }
  return { text: wanted, index };
}

/** Lower case, underscores and hyphens as spaces, runs of spaces as one. */
function spacedLabel(label: string): string {
  return label
    .toLowerCase()
    .replace(/[_\s-]+/g, ' ')
    .trim();
}

function indicesWhere(labels: readonly string[], test: (label: string) => boolean): number[] {
  return labels.flatMap((label, i) => (test(label) ? [i] : []));
}

/** 'golden retriever' (207), 'Labrador retriever' (208), … — the first CANDIDATES. */
function candidateList(labels: readonly string[], indices: readonly number[]): string {
  const shown = indices.slice(0, CANDIDATES).map((i) => `'${labels[i]}' (${i})`);
  return indices.length > CANDIDATES ? `${shown.join(', ')}, …` : shown.join(', ');
}

/**
 * Up to CANDIDATES labels within edit distance max(2, 40% of the label's length) of `spaced`, comparing the
 * whole label and each of its comma-separated names, nearest first.
 */
function closeLabels(labels: readonly string[], spaced: string): number[] {
  if (spaced.length > LONGEST_LABEL) return [];
  const limit = Math.max(2, Math.floor(spaced.length * 0.4));
  // The distance is at least the difference in length, so names much longer or shorter are never close.
  const near = (name: string) => Math.abs(name.length - spaced.length) <= limit;
  return labels
    .map((label, index) => {
      const names = [label, ...label.split(',')].map(spacedLabel).filter(near);
      const distance = names.reduce((least, name) => Math.min(least, editDistance(name, spaced)), Infinity);
      return { index, distance };
    })
    .filter((c) => c.distance <= limit)
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, CANDIDATES)
    .map((c) => c.index);
}

/** Levenshtein distance: insertions, deletions and substitutions, each costing 1. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
