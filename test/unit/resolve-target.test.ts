import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/model.js';
import type { Tensor } from '../../src/core/tensor.js';
import { resolveTarget } from '../../src/explain.js';
import { defaultModelFiles } from '../../src/models/default-model.js';
import { resolveLabel } from '../../src/models/label-match.js';
import { parseLabels } from '../../src/models/labels.js';
import { analyticSpec } from '../helpers/analytic.js';
import { thrown } from '../helpers/errors.js';

/** The default model's 1001 ImageNet labels (index 0 is the background class). */
const IMAGENET = parseLabels(readFileSync(defaultModelFiles().labels, 'utf8'));

/** A model with the given labels whose scores are 0, 1, …, K − 1 (so 'top' is the last class). */
function labelled(labels: readonly string[], classes = labels.length): { model: Model; scores: Tensor } {
  const scores = { data: Float32Array.from({ length: classes }, (_, i) => i), dims: [1, classes] };
  const model: Model = {
    spec: { ...analyticSpec(4), labels },
    capabilities: new Set(['predict']),
    maxBatch: 1,
    predict: async () => scores,
    dispose: async () => {},
  };
  return { model, scores };
}

describe('explain targets and audit labels share one matcher', () => {
  const { model, scores } = labelled(IMAGENET);

  it("'golden_retriever', 'golden retriever', 'Golden Retriever' and 208 name the same class in both", () => {
    expect(IMAGENET[208]).toBe('golden retriever');
    for (const text of [
      'golden_retriever',
      'golden retriever',
      'Golden Retriever',
      'GOLDEN-RETRIEVER',
      '208',
    ]) {
      expect(resolveTarget(model, scores, text)).toEqual({ index: 208, label: 'golden retriever' });
      expect(resolveLabel(text, IMAGENET).index).toBe(208);
    }
    expect(resolveTarget(model, scores, 208)).toEqual({ index: 208, label: 'golden retriever' });
    // A unique part, with underscores: only one label holds "Chesapeake Bay".
    expect(resolveTarget(model, scores, 'chesapeake_bay').index).toBe(210);
    expect(resolveTarget(model, scores, 'top')).toEqual({ index: 1000, label: IMAGENET[1000] });
  });

  it('an ambiguous part lists the first five candidates with their indices, the same for both', () => {
    const target = thrown(() => resolveTarget(model, scores, 'retriever'));
    const label = thrown(() => resolveLabel('retriever', IMAGENET));
    expect(target.code).toBe('UNKNOWN_TARGET');
    // Each caller names the text as its user gave it: explain's --target, the audit's label.
    expect(target.message).toBe(label.message.replace(/^Label/, 'Target'));
    expect(target.message).toBe(
      "Target 'retriever' is ambiguous: it matches 5 labels of the model, 'flat-coated retriever' (206), " +
        "'curly-coated retriever' (207), 'golden retriever' (208), 'Labrador retriever' (209), 'Chesapeake Bay " +
        "retriever' (210); give the full label or the class index.",
    );
    // 'dog' is part of far more than five labels: five are shown, then an ellipsis.
    const dog = thrown(() => resolveTarget(model, scores, 'dog'));
    expect(dog.details?.matches).toHaveLength(IMAGENET.filter((l) => l.toLowerCase().includes('dog')).length);
    expect(dog.message.match(/'[^']+' \(\d+\)/g)).toHaveLength(5);
    expect(dog.message).toMatch(/\), …; give the full label or the class index\.$/);
  });

  it('an unknown label names the closest ones, whichever caller asked', () => {
    const target = thrown(() => resolveTarget(model, scores, 'golden_retreiver'));
    expect(target.code).toBe('UNKNOWN_TARGET');
    expect(target.message).toBe(
      "Target 'golden_retreiver' is not a label of the model (the closest is 'golden retriever' (208)); " +
        'expected a label of the model or a class index.',
    );
    expect(thrown(() => resolveLabel('golden_retreiver', IMAGENET)).message).toBe(
      target.message.replace(/^Target/, 'Label'),
    );
  });

  it('class indices are checked against the number of scores, labels or not', () => {
    const bare = labelled([], 10);
    expect(resolveTarget(bare.model, bare.scores, '9')).toEqual({ index: 9, label: 'class 9' });
    const tooBig = thrown(() => resolveTarget(bare.model, bare.scores, '10'));
    expect(tooBig.code).toBe('UNKNOWN_TARGET');
    expect(tooBig.message).toBe("Target '10' reads as a class index, but the model has 10 classes (0 to 9).");
    expect(thrown(() => resolveTarget(bare.model, bare.scores, 'dog')).message).toBe(
      "Target 'dog' cannot be matched: the model has no labels; expected a label of the model or a class index.",
    );
    // A number (not text) that is out of range is a bad argument, as before.
    const number = thrown(() => resolveTarget(bare.model, bare.scores, 10));
    expect(number.code).toBe('INVALID_ARGUMENT');
    expect(number.message).toBe("Argument 'target' must be a class index from 0 to 9; got 10.");
    // A label spelled as a number beats the index it would read as, in both callers.
    const numbered = labelled(['a', 'b', '0']);
    expect(resolveTarget(numbered.model, numbered.scores, '0')).toEqual({ index: 2, label: '0' });
    expect(resolveLabel('0', ['a', 'b', '0']).index).toBe(2);
  });
});
