// The detector audit's pure parts: COCO's greedy matching, the journal's check of a row's 'detect' part
// (hostile journals), the COCO ground-truth reader's refusals, and the per-class counts.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MATCH_IOU, matchDetections } from '../../src/audit/detect.js';
import { checkDetectPart } from '../../src/audit/detect-row-check.js';
import { detectSummaryWords, summarizeDetections } from '../../src/audit/detect-summary.js';
import { parseCocoObjects, readDetectTruth } from '../../src/audit/detect-truth.js';
import { checkRow } from '../../src/audit/row-check.js';
import type { AuditRow, DetectRowPart } from '../../src/audit/types.js';

type B = [number, number, number, number];

describe('matchDetections (COCO: greedy by score, same class, IoU ≥ 0.5)', () => {
  it('gives a contested object to the higher score even when the lower one overlaps it more', () => {
    const object = { classIndex: 0, box: [0, 0, 10, 10] as B };
    // IoU 1 for the weaker detection, 80 / 100 = 0.8 for the stronger one, which is matched first.
    const detections = [
      { classIndex: 0, score: 0.6, box: [0, 0, 10, 10] as B },
      { classIndex: 0, score: 0.9, box: [0, 0, 8, 10] as B },
    ];
    expect(matchDetections(detections, [object])).toEqual([
      { object: -1, iou: 0 },
      { object: 0, iou: 0.8 },
    ]);
  });

  it('never matches another class, nor an overlap under 0.5', () => {
    const objects = [
      { classIndex: 1, box: [0, 0, 10, 10] as B },
      { classIndex: 0, box: [20, 0, 30, 10] as B },
    ];
    // [20, 0, 29.9, 10] vs [20, 0, 30, 10]: IoU 0.99; [25, 0, 35, 10]: 50 / 150 = 0.33.
    const m = matchDetections(
      [
        { classIndex: 0, score: 0.9, box: [0, 0, 10, 10] },
        { classIndex: 0, score: 0.8, box: [25, 0, 35, 10] },
      ],
      objects,
    );
    expect(m.map((x) => x.object)).toEqual([-1, -1]);
    expect(MATCH_IOU).toBe(0.5);
    // Exactly 0.5 counts: [20, 0, 30, 10] vs [20, 0, 40, 10] has IoU 100 / 200.
    expect(matchDetections([{ classIndex: 0, score: 1, box: [20, 0, 40, 10] }], objects)[0]).toEqual({
      object: 1,
      iou: 0.5,
    });
  });
});

const PART: DetectRowPart = {
  objects: 2,
  explained: 2,
  detections: [
    {
      index: 0,
      label: 'blue',
      classIndex: 2,
      score: 0.99,
      box: [42, 6, 58, 22],
      similarity: 0.99,
      boxShare: 0.34,
      verdict: 'partly',
      map: 'overlays/a-det0.png',
    },
    {
      index: 1,
      label: 'red',
      classIndex: 0,
      score: 0.98,
      box: [10, 14, 26, 30],
      object: 0,
      iou: 1,
      objectShare: 0.3,
      boxShare: 0.3,
      map: 'overlays/a-det1.png',
    },
  ],
  misses: [
    {
      object: 1,
      label: 'green',
      classIndex: 1,
      box: [34, 38, 50, 54],
      bestIou: 0,
      similarity: 0,
      noEvidence: true,
      map: 'overlays/a-miss1.png',
    },
  ],
};
const clone = () => JSON.parse(JSON.stringify(PART));
const problem = (edit: (p: ReturnType<typeof clone>) => void) => {
  const p = clone();
  edit(p);
  const r = checkDetectPart(p);
  return 'problem' in r ? r.problem : undefined;
};

describe("checkDetectPart (a journal row's 'detect', untrusted)", () => {
  it('keeps a row the audit writes as it is and drops fields it does not write', () => {
    const r = checkDetectPart({
      ...clone(),
      extra: 'x',
      detections: clone().detections.map((d: object) => ({ ...d, html: '<b>' })),
    });
    expect(r).toEqual({ part: PART });
    const row = checkRow({ file: 'a.png', status: 'ok', task: 'detect', detect: PART });
    expect('row' in row && row.row.detect).toEqual(PART);
  });

  it('refuses each hostile field by name', () => {
    expect(problem((p) => (p.detections[1].object = 2))).toBe(
      "'detect.detections[1].object' is not a whole number from 0 to 1",
    );
    expect(problem((p) => (p.detections[1].iou = 0.3))).toBe(
      "'detect.detections[1].iou' is not a finite number in [0.5, 1]",
    );
    expect(problem((p) => (p.detections[0].iou = 0.9))).toBe(
      "'detect.detections[0]' has a match's numbers without its object",
    );
    expect(problem((p) => (p.detections[0].index = 5))).toBe(
      "'detect.detections[0].index' is not a whole number from 0 to 0",
    );
    expect(problem((p) => (p.detections[0].box = [0, 0, '1', 1]))).toBe(
      "'detect.detections[0].box[2]' is not a finite number in [-1000000000, 1000000000]",
    );
    expect(problem((p) => (p.detections[0].box = [5, 0, 1, 1]))).toBe(
      "'detect.detections[0].box' has a corner before its origin",
    );
    expect(problem((p) => (p.detections[0].boxShare = 1.5))).toBe(
      "'detect.detections[0].boxShare' is not a finite number in [0, 1]",
    );
    expect(problem((p) => (p.detections[0].label = ''))).toBe(
      "'detect.detections[0].label' is not a name of 1 to 4096 characters",
    );
    expect(problem((p) => (p.misses[0].noEvidence = false))).toBe(
      "'detect.misses[0].noEvidence' is not true",
    );
    expect(problem((p) => (p.detections[0].verdict = 'toString'))).toBe(
      "'detect.detections[0].verdict' is not a verdict",
    );
    expect(problem((p) => (p.misses[0].object = 0))).toBe(
      "'detect.misses[0].object' is an object a detection found",
    );
    expect(problem((p) => (p.misses = []))).toBe("'detect' neither finds nor misses every object");
    expect(problem((p) => (p.explained = 3))).toBe("'detect.explained' is not a whole number from 0 to 2");
    expect(
      problem((p) => {
        p.detections[0].object = 0;
        p.detections[0].iou = 1;
      }),
    ).toBe("'detect.detections' match one object twice");
    expect(problem((p) => (p.detections = Array.from({ length: 1001 }, () => p.detections[0])))).toBe(
      "'detect.detections' is not a list of up to 1000",
    );
    expect(problem((p) => (p.misses = 'all'))).toBe("'detect.misses' is not a list of up to 2");
  });
});

describe('parseCocoObjects (ground truth with a class per box)', () => {
  const coco = (annotations: unknown[], extra: object = {}) =>
    JSON.stringify({
      images: [
        { id: 1, file_name: 'a.png' },
        { id: 2, file_name: './empty.png' },
      ],
      annotations,
      categories: [{ id: 7, name: 'red' }],
      ...extra,
    });

  it('reads bbox [x, y, w, h] as x0, y0, x1, y1 with the category name; an image without boxes has none', () => {
    const index = parseCocoObjects('t.json', coco([{ image_id: 1, category_id: 7, bbox: [1, 2, 3, 4] }]));
    expect(index.get('a.png')?.objects).toEqual([{ label: 'red', box: [1, 2, 4, 6] }]);
    expect(index.get('empty.png')?.objects).toEqual([]);
  });

  it('refuses an annotation without a class or with an empty box, in words naming the entry', () => {
    expect(() =>
      parseCocoObjects('t.json', coco([{ image_id: 1, category_id: 8, bbox: [1, 2, 3, 4] }])),
    ).toThrow(
      "annotations[0] in 't.json' has category_id 8, which 'categories' does not name; a detector's audit needs each box's class.",
    );
    expect(() =>
      parseCocoObjects('t.json', coco([{ image_id: 1, category_id: 7, bbox: [1, 2, 0, 4] }])),
    ).toThrow(
      "annotations[0] in 't.json' has bbox [1,2,0,4]; expected [x, y, width, height] with width and height > 0.",
    );
    expect(() =>
      parseCocoObjects('t.json', coco([{ image_id: 3, category_id: 7, bbox: [1, 2, 3, 4] }])),
    ).toThrow("annotations[0] in 't.json' has image_id 3, which 'images' does not list.");
    expect(() => parseCocoObjects('t.json', '{"images": 1}')).toThrow("'t.json' is JSON but not COCO");
  });
});

describe('summarizeDetections', () => {
  it('counts found, false positives and misses per class, and the share of maps outside their boxes', () => {
    const rows: AuditRow[] = [
      { file: 'a.png', status: 'ok', task: 'detect', detect: PART },
      { file: 'b.png', status: 'error', error: { code: 'IO', message: 'x' } },
    ];
    const s = summarizeDetections(rows);
    expect(s?.classes).toEqual([
      { label: 'blue', truePositives: 0, falsePositives: 1, misses: 0 },
      { label: 'green', truePositives: 0, falsePositives: 0, misses: 1 },
      { label: 'red', truePositives: 1, falsePositives: 0, misses: 0 },
    ]);
    // (1 − 0.34 + 1 − 0.3) / 2
    expect(s?.outsideBox).toBeCloseTo(0.68, 10);
    expect(Object.keys(s?.outsideBoxByClass ?? {})).toEqual(['blue', 'red']);
    expect(s?.outsideBoxByClass.blue).toBeCloseTo(0.66, 10);
    expect(s?.outsideBoxByClass.red).toBeCloseTo(0.7, 10);
    expect(detectSummaryWords(s!)).toBe(
      "1 detection found an object, 1 was a false positive, 1 object was missed (blue: 0 found, 1 false positive, 0 missed; green: 0 found, 0 false positives, 1 missed; red: 1 found, 0 false positives, 0 missed). On average 68.0% of a detection's map lies outside its box.",
    );
    expect(summarizeDetections([rows[1]])).toBeUndefined();
  });
});

describe('readDetectTruth: VOC and CSV with a class per box', () => {
  it("reads VOC's 1-based inclusive corners with each object's <name>", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sightline-truth-'));
    const voc = (name: string) =>
      `<annotation><filename>a.png</filename><object>${name}<bndbox><xmin>11</xmin><ymin>15</ymin><xmax>26</xmax><ymax>30</ymax></bndbox></object></annotation>`;
    await writeFile(join(dir, 'a.xml'), voc('<name>red</name>'));
    expect((await readDetectTruth(join(dir, 'a.xml'))).get('a.png')?.objects).toEqual([
      { label: 'red', box: [10, 14, 26, 30] },
    ]);
    await writeFile(join(dir, 'b.xml'), voc(''));
    await expect(readDetectTruth(join(dir, 'b.xml'))).rejects.toThrow(
      `Object 1 in '${join(dir, 'b.xml')}' has no <name>; a detector's audit needs each box's class.`,
    );
  });

  it('reads a CSV with a label or class column, xywh or corners; refuses one without a class', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sightline-truth-'));
    await writeFile(
      join(dir, 'a.csv'),
      'file,class,x,y,width,height\na.png,red,10,14,16,16\na.png,green,34,38,16,16\n',
    );
    expect((await readDetectTruth(join(dir, 'a.csv'))).get('a.png')?.objects).toEqual([
      { label: 'red', box: [10, 14, 26, 30] },
      { label: 'green', box: [34, 38, 50, 54] },
    ]);
    await writeFile(join(dir, 'b.csv'), 'file,label,xmin,ymin,xmax,ymax\nb.png,blue,42,6,58,22\n');
    expect((await readDetectTruth(join(dir, 'b.csv'))).get('b.png')?.objects).toEqual([
      { label: 'blue', box: [42, 6, 58, 22] },
    ]);
    await writeFile(join(dir, 'c.csv'), 'file,x,y,width,height\nc.png,1,1,2,2\n');
    await expect(readDetectTruth(join(dir, 'c.csv'))).rejects.toThrow(
      "a detector's audit expects the columns file, label (or class) and x,y,width,height or xmin,ymin,xmax,ymax.",
    );
    await writeFile(join(dir, 'd.csv'), 'file,label,xmin,ymin,xmax,ymax\nd.png,red,5,5,5,9\n');
    await expect(readDetectTruth(join(dir, 'd.csv'))).rejects.toThrow('Line 2 of');
  });
});
