// How an audit row's numbers and the low-probability note read for the tasks whose values are not class
// probabilities: an embedding's cosine is a number in [-1, 1], never a percent; a note names a class or tag
// "instead" only when the model does see it (itself at or over the threshold).
import { describe, expect, it } from 'vitest';
import { details, score } from '../../src/audit/report/row-view.js';
import { tableSection } from '../../src/audit/report/sections.js';
import type { AuditRow } from '../../src/audit/types.js';
import { LOW_TAG_PROBABILITY, lowConfidence, lowConfidenceWords } from '../../src/core/confidence.js';

const names = (i: number) => ['dog', 'leash', 'cat'][i] ?? `class ${i}`;

describe('an embedding audit row shows its cosine as a number', () => {
  const row: AuditRow = {
    file: 'a.jpg',
    status: 'ok',
    task: 'embed',
    predictions: [{ index: 0, label: 'similarity to other.jpg', score: -0.1234 }],
    target: {
      index: 0,
      label: 'similarity to other.jpg',
      description: { kind: 'similarity', reference: 'image', dimensions: 8, cosine: -0.1234 },
    },
  };

  it('in the table and the dialog: -0.1234, not -12.3%', () => {
    expect(score(-0.1234, 'embed')).toBe('-0.1234');
    const table = tableSection([row], new Map(), new Map());
    expect(table).toContain('-0.1234');
    expect(table).not.toContain('%');
    const facts = details(row).map(([k, v]) => `${k}: ${v}`);
    expect(facts.join('\n')).not.toContain('%');
  });
});

describe('the note names what the model sees instead only when it sees it', () => {
  it('a tagger whose every tag is low: no tag is named as what the model "mostly sees"', () => {
    const spec = { task: 'multilabel', outputs: 'probabilities' } as const;
    // leash 2% explained; dog 4% is likelier but under 10% too: the model sees neither.
    const note = lowConfidence(spec, [0.04, 0.02, 0.01], 1, names);
    expect(note?.threshold).toBe(LOW_TAG_PROBABILITY);
    expect(note?.instead).toBeUndefined();
    const words = lowConfidenceWords(note!, 'leash', 'tag');
    expect(words).not.toContain("mostly sees 'dog'");
    expect(words).toMatch(/no tag is likely either\.$/);
    // dog at 60% is seen: it is named.
    expect(lowConfidence(spec, [0.6, 0.02, 0.01], 1, names)?.instead).toEqual({
      index: 0,
      label: 'dog',
      probability: 0.6,
    });
  });

  it('a classifier over 200 classes whose top class is 0.9%: not "mostly" anything', () => {
    const probs = new Array(200).fill(0.995 / 199);
    probs[0] = 0.005;
    probs[7] = 0.009;
    const note = lowConfidence({ task: 'classify', outputs: 'probabilities' }, probs, 0, names);
    expect(note?.probability).toBe(0.005);
    expect(note?.instead).toBeUndefined();
  });

  it('no note at all for outputs that are not probabilities (segment, embed, detect)', () => {
    for (const task of ['segment', 'embed', 'detect'] as const)
      expect(lowConfidence({ task, outputs: 'probabilities' }, [0.9, 0.001], 1, names)).toBeUndefined();
  });
});
