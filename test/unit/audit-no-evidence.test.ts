// A map with no attention to measure is an answer about the image, not a failure of the audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditItem, attentionIn, auditImages, MAX_ROW_MESSAGE } from '../../src/audit/audit.js';
import type { AuditRow } from '../../src/audit/types.js';
import { SightlineError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { patchModel } from '../helpers/analytic.js';

const SIZE = 16;
/** Class 0 ("patch") scores the mean of this patch, class 1 ("minus patch") its negative. */
const PATCH = { x0: 4, y0: 4, x1: 8, y1: 8 };
let model: OnnxModel;

function grey(value: number): RgbImage {
  return { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(value) };
}

async function audit(items: AuditItem[], method: string): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  await auditImages(items, {
    model,
    method,
    async onRow(row) {
      rows.push(row);
    },
  });
  return rows;
}

beforeAll(async () => {
  model = await patchModel(SIZE, PATCH);
});

afterAll(async () => {
  await model.dispose();
});

describe('attentionIn', () => {
  const map = (values: number[], signed: boolean) => ({
    width: values.length,
    height: 1,
    data: Float32Array.from(values),
    signed,
  });
  it("is 'none' for an all-zero map and for a signed map with nothing above zero", () => {
    expect(attentionIn(map([0, 0, 0], false))).toBe('none');
    expect(attentionIn(map([0, -1, -2], true))).toBe('none');
    expect(attentionIn(map([0, -1, -2], false))).toBe('some');
    expect(attentionIn(map([0, 0, 1e-30], true))).toBe('some');
  });
  it("is 'some' for non-finite values, which the measures then refuse as such", () => {
    expect(attentionIn(map([0, Number.NaN], true))).toBe('some');
    expect(attentionIn(map([0, Number.NEGATIVE_INFINITY], true))).toBe('some');
  });
});

describe('auditImages on a class with no positive evidence', () => {
  const region = async (width: number, height: number) => {
    const mask = new Uint8Array(width * height);
    for (let y = PATCH.y0; y < PATCH.y1; y++) mask.fill(1, y * width + PATCH.x0, y * width + PATCH.x1);
    return mask;
  };

  it('records an ok row that found no evidence, with the predictions and no region numbers', async () => {
    // Gradient × input for "minus patch": −x / 16 inside the patch, 0 elsewhere: nothing above zero.
    const [row] = await audit(
      [{ file: 'a.png', load: async () => grey(128), label: 'minus patch', regionMask: region }],
      'gradient-x-input',
    );
    expect(row).toMatchObject({
      file: 'a.png',
      status: 'ok',
      noEvidence: true,
      regionGiven: true,
      width: SIZE,
      height: SIZE,
      label: { text: 'minus patch', index: 1 },
      correct: false,
      target: { index: 1, label: 'minus patch' },
    });
    expect(row.predictions?.map((p) => p.label)).toEqual(['patch', 'minus patch']);
    for (const key of ['region', 'borderShare', 'summary', 'error'] as const)
      expect(row[key]).toBeUndefined();
  });

  it('measures the same image normally for the class the patch supports', async () => {
    const [row] = await audit(
      [{ file: 'a.png', load: async () => grey(128), label: 'patch', regionMask: region }],
      'gradient-x-input',
    );
    expect(row.noEvidence).toBeUndefined();
    expect(row.region?.share).toBeCloseTo(1, 6);
    expect(row.region?.verdict).toBe('object');
  });

  it('still reports a region that does not fit the image as an error row', async () => {
    const [row] = await audit(
      [
        {
          file: 'a.png',
          load: async () => grey(128),
          label: 'minus patch',
          regionMask: async () => {
            throw new Error('no fit');
          },
        },
      ],
      'gradient-x-input',
    );
    expect(row).toMatchObject({
      status: 'error',
      error: { code: 'INTERNAL', message: 'Unexpected error: no fit' },
    });
  });

  it('records an all-black image explained by gradient × input (all zero) as no evidence too', async () => {
    const [row] = await audit([{ file: 'black.png', load: async () => grey(0) }], 'gradient-x-input');
    expect(row).toMatchObject({ status: 'ok', noEvidence: true });
    expect(row.regionGiven).toBeUndefined();
  });
});

describe('auditImages error rows', () => {
  it('keep at most MAX_ROW_MESSAGE characters of a message, saying it was cut', async () => {
    const names = Array.from({ length: 100_000 }, (_, i) => `member-${i}`).join(', ');
    const [row] = await audit(
      [
        {
          file: 'big.zip',
          load: async () => {
            throw new SightlineError('IMAGE_DECODE', `Not an image; the archive holds ${names}.`);
          },
        },
      ],
      'gradient',
    );
    expect(row.status).toBe('error');
    expect(row.error?.code).toBe('IMAGE_DECODE');
    expect(row.error?.message.length).toBeLessThan(MAX_ROW_MESSAGE + 60);
    expect(row.error?.message).toMatch(/^Not an image; the archive holds member-0, member-1, /);
    expect(row.error?.message).toMatch(/ … \(cut: 1,[0-9]{3},[0-9]{3} characters in all\)$/);
  });
});
