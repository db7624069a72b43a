// The audit on segment and similarity targets (issue 13): rows carry the task's prediction and the target's
// description, faithfulness runs on the target's own scalar, and the journal's row check keeps (and checks)
// the new fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditItem, auditImages } from '../../src/audit/audit.js';
import { predictionWords } from '../../src/audit/report/row-view.js';
import { checkRow } from '../../src/audit/row-check.js';
import type { AuditRow } from '../../src/audit/types.js';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { disposePrepared, prepare } from '../../src/explain.js';
import { deletionInsertion } from '../../src/metrics/deletion-insertion.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import { embedderProto, photo, SIZE, segmenterProto, toPixels } from '../helpers/target-models.js';

const PLAIN = { mean: [0], std: [1] };
const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };
const WHITE = { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(255) };

/** A mask of the photo's size over a patch of input pixels. */
function maskOf(p: Patch): Uint8Array {
  const m = new Uint8Array(SIZE * SIZE);
  for (let y = p.y0; y < p.y1; y++) for (let x = p.x0; x < p.x1; x++) m[y * SIZE + x] = 1;
  return m;
}

async function audit(
  model: Model,
  items: AuditItem[],
  extra: Partial<Parameters<typeof auditImages>[1]> = {},
): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  await auditImages(items, {
    model,
    method: 'gradient',
    concurrency: 1,
    ...extra,
    onRow: async (row) => {
      rows.push(row);
    },
  });
  return rows;
}

const item = (file: string, image: RgbImage, more: Partial<AuditItem> = {}): AuditItem => ({
  file,
  load: async () => image,
  ...more,
});

describe('an audit of a segmenter', () => {
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])), {
      ...PLAIN,
      labels: ['background', 'cat', 'dog'],
    });
  });
  afterAll(async () => model.dispose());

  it('rows say the pixel shares, the class explained (background passed over) and its region', async () => {
    const regionMask = async () => maskOf(toPixels(READ1));
    const [row] = await audit(model, [item('white.png', WHITE, { regionMask })]);
    expect(row.status).toBe('ok');
    expect(row.task).toBe('segment');
    expect(row.target).toEqual({
      index: 1,
      label: 'cat',
      description: {
        kind: 'segment',
        class: 1,
        region: 'class pixels',
        pixels: 4,
        gridWidth: 8,
        gridHeight: 8,
        passedOver: { index: 0, label: 'background' },
      },
    });
    expect(predictionWords(row)).toBe('6.3% of pixels: cat (also background 87.5%, dog 6.3%)');
    expect(row.lowConfidence).toBeUndefined();
    // The ground-truth region is the patch cat's scores read: the map's share inside it is the verdict's.
    expect(row.region?.share).toBeGreaterThanOrEqual(0.8);
    expect(row.region?.verdict).toBe('object');
  });

  it("a label names the class explained; it is right when the model gives it pixels; faithfulness is on the class's sum", async () => {
    const [row] = await audit(model, [item('white.png', WHITE, { label: 'dog' })], { faithfulness: true });
    expect(row.target).toMatchObject({ index: 2, label: 'dog', description: { class: 2, pixels: 4 } });
    expect(row.correct).toBe(true);
    expect(predictionWords(row)).toBe('6.3% of pixels: dog (also background 87.5%, cat 6.3%)');
    // Dog's sum over its 4 cells is 4 × (mean + 5) = 24 on white and 20 on the deleted (zero) input: the
    // AUCs are in those units, and equal the curves computed here on the target's own model.
    const prepared = await prepare({ model, image: WHITE, target: 'dog' });
    try {
      const input = prepared.input;
      const { inputMap } = await (await import('../../src/explain.js')).explainPrepared(model, prepared, {
        method: 'gradient',
      });
      const curves = await deletionInsertion({
        model: prepared.model ?? model,
        input,
        map: inputMap,
        target: 0,
      });
      expect(row.faithfulness?.deletion).toBeCloseTo(curves.deletion.auc, 6);
      expect(row.faithfulness?.insertion).toBeCloseTo(curves.insertion.auc, 6);
      expect(row.faithfulness?.deletion).toBeGreaterThan(20);
      expect(row.faithfulness?.deletion).toBeLessThan(24);
    } finally {
      await disposePrepared(prepared);
    }
  });

  it('the rows pass the journal’s row check unchanged', async () => {
    const rows = await audit(model, [item('a.png', WHITE), item('b.png', WHITE, { label: 'cat' })]);
    for (const row of rows) {
      const checked = checkRow(JSON.parse(JSON.stringify(row)));
      expect(checked).toEqual({ row: JSON.parse(JSON.stringify(row)) });
    }
  });
});

describe('an audit of an embedding model', () => {
  const SHARED: Patch = { x0: 4, y0: 12, x1: 20, y1: 28 };
  const A = photo(1, [
    { patch: SHARED, rgb: [0, 255, 0] },
    { patch: { x0: 20, y0: 0, x1: 32, y1: 12 }, rgb: [255, 0, 0] },
  ]);
  const B = photo(2, [
    { patch: SHARED, rgb: [0, 255, 0] },
    { patch: { x0: 0, y0: 0, x1: 12, y1: 8 }, rgb: [0, 0, 255] },
  ]);
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(embedderProto()), { ...PLAIN, task: 'embed' });
  });
  afterAll(async () => model.dispose());

  it('rows say the cosine to the one reference; the map is in the shared patch', async () => {
    const rows = await audit(model, [item('a.png', A, { regionMask: async () => maskOf(SHARED) })], {
      method: 'grad-cam',
      reference: B,
    });
    const [row] = rows;
    expect(row.status).toBe('ok');
    // 4 / (√6.25 · √5.5), as in test/unit/targets-models.test.ts.
    const cosine = 4 / (Math.sqrt(6.25) * Math.sqrt(5.5));
    expect(row.target?.description).toEqual({
      kind: 'similarity',
      reference: 'image',
      dimensions: 192,
      cosine: expect.closeTo(cosine, 5),
    });
    expect(predictionWords(row)).toBe(`cosine ${cosine.toFixed(4)} to the reference`);
    expect(row.region?.share).toBeGreaterThanOrEqual(0.8);
    expect(checkRow(JSON.parse(JSON.stringify(row)))).toEqual({ row: JSON.parse(JSON.stringify(row)) });
  });

  it('refuses an audit without a reference, and labels, in words', async () => {
    await expect(audit(model, [item('a.png', A)])).rejects.toThrow(
      'An embedding model is audited against a reference: --reference other.jpg (a photo, embedded by the same model) or --reference vector.npy; each map then explains the cosine similarity of an image to it.',
    );
    await expect(audit(model, [item('a.png', A, { label: 'x' })], { reference: B })).rejects.toThrow(
      /^The model is an embedding model \(its output is a vector, not a class\), but 1 image has a label/,
    );
  });
});

describe('the row check on target descriptions', () => {
  const base = {
    file: 'a.png',
    status: 'ok',
    width: 32,
    height: 32,
    target: {
      index: 1,
      label: 'cat',
      description: {
        kind: 'segment',
        class: 1,
        region: 'class pixels',
        pixels: 4,
        gridWidth: 8,
        gridHeight: 8,
      },
    },
  };
  const withDescription = (d: Record<string, unknown>) => ({
    ...base,
    target: { ...base.target, description: { ...base.target.description, ...d } },
  });

  it('keeps a good one and drops fields it does not know', () => {
    const checked = checkRow(withDescription({ extra: 'x'.repeat(100) }));
    expect(checked).toEqual({ row: base });
  });

  it.each([
    [{ kind: 'detect' }, "'target.description.kind' is not 'segment', 'similarity' or 'detection'"],
    [{ region: 'elsewhere' }, "'target.description.region' is not one of class pixels, box, mask"],
    [{ pixels: 0 }, "'target.description.pixels' is not a whole number from 1 to 64"],
    [{ pixels: 65 }, "'target.description.pixels' is not a whole number from 1 to 64"],
    [{ class: -1 }, "'target.description.class' is not a whole number from 0 to 100000000"],
    [
      { passedOver: { index: 'x', label: 'bg' } },
      "'target.description.passedOver.index' is not a whole number from 0",
    ],
    [
      { kind: 'similarity', reference: 'image', dimensions: 8, cosine: 5 },
      "'target.description.cosine' is not a finite number in [-1.0001, 1.0001]",
    ],
    [
      { kind: 'similarity', reference: 'url', dimensions: 8, cosine: 0.5 },
      "'target.description.reference' is not 'image' or 'vector'",
    ],
  ])('refuses %j', (d, problem) => {
    expect(checkRow(withDescription(d))).toEqual({ problem });
  });
});
