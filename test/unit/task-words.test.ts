// How an audit row's numbers and the low-probability note read for the tasks whose values are not class
// probabilities: an embedding's cosine is a number in [-1, 1], never a percent; a note names a class or tag
// "instead" only when the model does see it (itself at or over the threshold).
import { describe, expect, it } from 'vitest';
import { details, score } from '../../src/audit/report/row-view.js';
import { tableSection } from '../../src/audit/report/sections.js';
import type { AuditRow } from '../../src/audit/types.js';

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
