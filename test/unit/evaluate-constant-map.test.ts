// evaluate on maps that rank nothing: a method whose map is the same everywhere is flagged and measured by no
// metric (a deletion curve would follow the pixels' row order), and a rank correlation that is undefined (the
// compared map constant) is counted in the table, not dropped from its mean without a word.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/core/image.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { evaluateImage, type ImageEvaluation } from '../../src/evaluate/evaluate.js';
import { checkEvaluation } from '../../src/evaluate/evaluation-check.js';
import {
  cellText,
  formatTable,
  renderEvaluationHtml,
  tableNotes,
  tabulate,
} from '../../src/evaluate/summary.js';
import { patchModel } from '../helpers/analytic.js';

const SIZE = 16;
let model: OnnxModel;

beforeAll(async () => {
  // Class 0 scores the mean of the whole image: its gradient is 1 / (3 · 16²) at every pixel, a constant map.
  model = await patchModel(SIZE, { x0: 0, y0: 0, x1: SIZE, y1: SIZE });
});

afterAll(async () => {
  await model.dispose();
});

function ramp(): RgbImage {
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let p = 0; p < SIZE * SIZE; p++) data.fill(10 + p, p * 3, p * 3 + 3);
  return { width: SIZE, height: SIZE, data };
}

describe('evaluateImage with a constant map', () => {
  it('flags the method and measures nothing on it, while the other method is measured', async () => {
    const result = await evaluateImage({
      model,
      file: 'ramp.png',
      image: ramp(),
      methods: ['gradient', 'gradient-x-input'],
      metrics: ['deletion', 'insertion', 'agreement'],
      target: 0,
    });
    const [gradient, gxi] = result.methods;
    expect(gradient).toMatchObject({ method: 'gradient', values: {}, constantMap: true });
    expect(gradient.curves).toBeUndefined();
    // Gradient × input is x / 768 on a ramp: a map with an order, measured as usual.
    expect(gxi.constantMap).toBeUndefined();
    expect(gxi.values.deletion).toBeGreaterThan(0);
    expect(gxi.values.insertion).toBeGreaterThan(0);
    // Agreement needs two maps with an order: the constant one takes no part.
    expect(result.agreement).toBeUndefined();
    // It survives the check a resumed run or a queue worker's result goes through.
    const back = checkEvaluation(JSON.parse(JSON.stringify(result)));
    expect('evaluation' in back && back.evaluation.methods[0].constantMap).toBe(true);

    const table = tabulate([result], ['deletion', 'insertion']);
    expect(table.constantMaps).toEqual({ gradient: 1 });
    expect(table.cells.gradient).toEqual({});
    expect(table.cells['gradient-x-input'].deletion?.n).toBe(1);
    expect(formatTable(table)).toMatch(/gradient: the map was the same everywhere on 1 image \(/);
  });
});

describe('checkEvaluation of constantMap', () => {
  const base = {
    file: 'a.png',
    target: { index: 0, label: 'patch' },
    methods: [{ method: 'gradient', values: {}, seconds: 0.1, constantMap: true }],
  };
  it('accepts true with no values, refuses anything else', () => {
    expect('evaluation' in checkEvaluation(base)).toBe(true);
    const other = checkEvaluation({ ...base, methods: [{ ...base.methods[0], constantMap: 'yes' }] });
    expect('problem' in other && other.problem).toMatch(/constantMap' is not true/);
    const valued = checkEvaluation({
      ...base,
      methods: [{ ...base.methods[0], values: { deletion: 0.5 } }],
    });
    expect('problem' in valued && valued.problem).toMatch(/has values for a constant map/);
  });
});

describe('tabulate with undefined values', () => {
  const image = (file: string, randomization: number, seeds?: number): ImageEvaluation => ({
    file,
    target: { index: 0, label: 'cat' },
    methods: [
      {
        method: 'grad-cam',
        values: { randomization, ...(seeds === undefined ? {} : { seeds }) },
        seconds: 1,
      },
    ],
  });

  it('averages the numbers, counts the NaNs and says what they mean', () => {
    const table = tabulate(
      [image('a', 0.2), image('b', Number.NaN), image('c', 0.4), image('d', Number.NaN)],
      ['randomization', 'seeds'],
    );
    const cell = table.cells['grad-cam'].randomization!;
    expect(cell.n).toBe(2);
    expect(cell.undefinedOn).toBe(2);
    expect(cell.mean).toBeCloseTo(0.3, 12);
    // Sample standard deviation of 0.2 and 0.4: √((0.01 + 0.01) / 1).
    expect(cell.sd).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(cellText(cell)).toBe('0.300 ± 0.141 (2 of 4)');
    // Not measured on any image: no cell, as before.
    expect(table.cells['grad-cam'].seeds).toBeUndefined();
    const notes = tableNotes(table);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^\(n of N\): the mean is over the n images where the metric is a number/);
    expect(formatTable(table)).toContain('0.300 ± 0.141 (2 of 4)');
    const html = renderEvaluationHtml(table, { model: 'm', images: 4 });
    expect(html).toContain('<td>0.300 ± 0.141 (2 of 4)</td>');
    expect(html).toMatch(/<p>\(n of N\): the mean is over the n images where the metric is a number/);
  });

  it('says undefined, with the count, when no image gave a number', () => {
    const table = tabulate([image('a', Number.NaN), image('b', Number.NaN, 0.9)], ['randomization', 'seeds']);
    expect(cellText(table.cells['grad-cam'].randomization)).toBe('undefined (0 of 2)');
    // One image measured seeds, the other did not: a mean of one, with nothing undefined.
    expect(cellText(table.cells['grad-cam'].seeds)).toBe('0.900 ± 0.000');
  });

  it('adds no note when every value is a number', () => {
    const table = tabulate([image('a', 0.1), image('b', 0.3)], ['randomization']);
    expect(tableNotes(table)).toEqual([]);
    expect(cellText(table.cells['grad-cam'].randomization)).toBe('0.200 ± 0.141');
  });
});
