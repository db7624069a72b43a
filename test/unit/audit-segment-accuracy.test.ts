// A labelled segmenter audit's accuracy counts the images where the model gives the labelled class no pixels
// (it is wrong there): those rows are errors (there is no region of the class to explain), but they must not
// drop out of the accuracy, which would then be 100% whenever any labelled image was explained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarize } from '../../src/audit/aggregate.js';
import { auditImages } from '../../src/audit/audit.js';
import { datasetSection } from '../../src/audit/report/sections.js';
import { checkRow } from '../../src/audit/row-check.js';
import type { AuditRow } from '../../src/audit/types.js';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import { SIZE, segmenterProto } from '../helpers/target-models.js';

const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };
const grey = (v: number) => ({ width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(v) });

describe('a labelled segmenter audit', () => {
  let model: Model;
  beforeAll(async () => {
    // Inputs (pixel/255 − 5.5): white reads −4.5, so each class scores +0.5 on its own cells and has them;
    // black reads −5.5, so each class scores −0.5 there, under the background's 0: no pixels at all.
    model = await openOnnxModel(encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])), {
      mean: [5.5],
      std: [1],
      labels: ['background', 'cat', 'dog'],
    });
  });
  afterAll(async () => model.dispose());

  it('counts an image whose labelled class has no pixels as wrong: accuracy 1 of 2', async () => {
    const rows: AuditRow[] = [];
    await auditImages(
      [
        { file: 'white.png', load: async () => grey(255), label: 'cat' },
        { file: 'black.png', load: async () => grey(0), label: 'dog' },
      ],
      { model, method: 'gradient', concurrency: 1, onRow: async (row) => void rows.push(row) },
    );
    const byFile = new Map(rows.map((r) => [r.file, r]));
    expect(byFile.get('white.png')).toMatchObject({ status: 'ok', correct: true });
    const black = byFile.get('black.png');
    expect(black?.status).toBe('error');
    expect(black?.error?.message).toMatch(/gives 'dog' \(2\) none of the 8 × 8 output pixels/);
    expect(black).toMatchObject({ task: 'segment', label: { text: 'dog', index: 2 }, correct: false });
    // The journal's row check keeps the label and verdict of the error row on resume.
    expect(checkRow(JSON.parse(JSON.stringify(black)))).toEqual({ row: JSON.parse(JSON.stringify(black)) });
    const summary = summarize(rows);
    expect(summary.accuracy).toBe(0.5);
    const html = datasetSection(rows, summary, null, []);
    expect(html).not.toContain('top prediction');
  });
});
