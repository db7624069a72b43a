// A detector audit's summary parts: the map around a detection in its box's frame (audit/detect-window.ts), on
// maps made here whose answer is known by construction (mass inside the box, in a band above it, a box at the
// photo's edge, a box smaller than the grid); the per-class mean in summary.detect.around; the journal's check
// of a row's window; and --fail-under's count on a detector (detectGate).
import { describe, expect, it } from 'vitest';
import { checkDetectPart } from '../../src/audit/detect-row-check.js';
import { aroundWords, detectGate, summarizeDetections } from '../../src/audit/detect-summary.js';
import {
  boxWindow,
  MAX_ROW_WINDOWS,
  meanWindow,
  WINDOW_BOX_CELLS,
  WINDOW_GRID,
  WINDOW_MARGIN,
  windowParts,
} from '../../src/audit/detect-window.js';
import { rowsToCsv } from '../../src/audit/report/csv.js';
import type { AuditRow, DetectRowPart } from '../../src/audit/types.js';
import type { AttributionMap } from '../../src/core/attribution.js';

/** A 64 × 64 map with `value(x, y)` at each pixel. */
function map(value: (x: number, y: number) => number, signed = false, side = 64): AttributionMap {
  const data = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] = value(x, y);
  return { width: side, height: side, data, signed };
}
const inBox = (b: number[]) => (x: number, y: number) =>
  x >= b[0] && x < b[2] && y >= b[1] && y < b[3] ? 1 : 0;
const sum = (w: readonly (number | null)[]) => w.reduce<number>((s, v) => s + (v ?? 0), 0);

describe('boxWindow', () => {
  it('puts mass inside the box in the middle cells, the box being half the window on each side', () => {
    expect([WINDOW_GRID, WINDOW_MARGIN, WINDOW_BOX_CELLS]).toEqual([16, 0.5, [4, 12]]);
    const box: [number, number, number, number] = [16, 16, 32, 32];
    const w = boxWindow(map(inBox(box)), box)!;
    expect(w).toHaveLength(256);
    // 16 px box, 32 px window: 2 × 2 pixels per cell; the 8 × 8 middle cells share the mass evenly.
    for (let cy = 0; cy < 16; cy++)
      for (let cx = 0; cx < 16; cx++) {
        const middle = cx >= 4 && cx < 12 && cy >= 4 && cy < 12;
        // Stored to 4 significant digits, as the journal keeps it.
        expect(w[cy * 16 + cx]).toBeCloseTo(middle ? 1 / 64 : 0, 4);
      }
    const parts = windowParts(w);
    expect(parts.inside).toBeCloseTo(1, 3);
    expect([parts.above, parts.below, parts.left, parts.right]).toEqual([0, 0, 0, 0]);
  });

  it('reads a band above the box as above, whatever the box size, and a signed map by its positive part', () => {
    // A 20 × 10 box; the 5 rows above it (within the box's columns) are marked, the box itself negative.
    const box: [number, number, number, number] = [20, 30, 40, 40];
    const m = map((x, y) => (x >= 20 && x < 40 && y >= 25 && y < 30 ? 2 : inBox(box)(x, y) ? -5 : 0), true);
    const parts = windowParts(boxWindow(m, box)!);
    expect(parts.above).toBeCloseTo(1, 3);
    expect(parts.inside).toBe(0);
    // Unsigned, the box's |−5| outweighs the band: 200 px × 5 against 100 px × 2.
    const absolute = windowParts(boxWindow({ ...m, signed: false }, box)!);
    expect(absolute.inside).toBeCloseTo(1000 / 1200, 3);
    expect(absolute.above).toBeCloseTo(200 / 1200, 3);
  });

  it('leaves cells outside the photo null (not zero), and sums to 1 over the rest', () => {
    const box: [number, number, number, number] = [0, 0, 16, 16];
    const w = boxWindow(
      map(() => 1),
      box,
    )!;
    // The window starts 8 px before the photo on both axes: its first 4 rows and columns lie outside.
    for (let cy = 0; cy < 16; cy++)
      for (let cx = 0; cx < 16; cx++) expect(w[cy * 16 + cx] === null).toBe(cx < 4 || cy < 4);
    expect(sum(w)).toBeCloseTo(1, 3);
    expect(w[4 * 16 + 4]).toBeCloseTo(1 / 144, 5);
  });

  it('samples a box smaller than the grid by the pixel under each cell, and gives nothing for an empty window', () => {
    const box: [number, number, number, number] = [30, 30, 32, 32];
    const w = boxWindow(map(inBox(box)), box)!;
    expect(windowParts(w).inside).toBeCloseTo(1, 3);
    expect(sum(w)).toBeCloseTo(1, 3);
    expect(boxWindow(map(inBox([0, 0, 4, 4])), box)).toBeUndefined();
    expect(
      boxWindow(
        map(() => 1),
        [5, 5, 5, 9],
      ),
    ).toBeUndefined();
    // Non-finite values under the window give no window rather than NaN cells.
    expect(
      boxWindow(
        map((x) => (x === 31 ? Number.NaN : 1)),
        box,
      ),
    ).toBeUndefined();
    expect(
      boxWindow(
        map((x) => (x === 31 ? Number.POSITIVE_INFINITY : 1)),
        box,
      ),
    ).toBeUndefined();
  });
});

describe('meanWindow', () => {
  it('averages each cell over the windows covering it, then renormalises; null where none does', () => {
    const n = WINDOW_GRID * WINDOW_GRID;
    const a = Array.from({ length: n }, (_, c) => (c === 0 ? null : c === 1 ? 1 : 0));
    const b = Array.from({ length: n }, (_, c) => (c === 0 ? 0.5 : c === 1 ? 0.5 : 0));
    const m = meanWindow([a, b]);
    // Cell 0: 0.5 (b alone); cell 1: (1 + 0.5) / 2 = 0.75; renormalised over 1.25.
    expect(m[0]).toBeCloseTo(0.4, 6);
    expect(m[1]).toBeCloseTo(0.6, 6);
    expect(meanWindow([a])[0]).toBeNull();
    expect(meanWindow([])).toEqual([]);
  });
});

const windowAt = (cells: number[]) =>
  Array.from({ length: WINDOW_GRID * WINDOW_GRID }, (_, c) => (cells.includes(c) ? 1 / cells.length : 0));

const detection = (index: number, label: string, window?: (number | null)[]) => ({
  index,
  label,
  classIndex: label === 'red' ? 0 : 1,
  score: 0.9,
  box: [0, 0, 10, 10] as [number, number, number, number],
  boxShare: 0.5,
  verdict: 'partly' as const,
  ...(window ? { window } : {}),
});

describe("a detector audit's mean window by class", () => {
  it('averages the windows of each class in summary.detect.around and says where they lie', () => {
    // red: one window inside the box (cell 8·16 + 8), one above it (cell 1·16 + 8); green: one to the right.
    const part: DetectRowPart = {
      objects: 0,
      noGroundTruth: true,
      explained: 3,
      detections: [
        detection(0, 'red', windowAt([8 * 16 + 8])),
        detection(1, 'red', windowAt([16 + 8])),
        detection(2, 'green', windowAt([8 * 16 + 14])),
        detection(3, 'green'),
      ],
      misses: [],
    };
    const rows: AuditRow[] = [{ file: 'a.png', status: 'ok', task: 'detect', detect: part }];
    const around = summarizeDetections(rows)!.around;
    expect(around.map((c) => [c.label, c.detections])).toEqual([
      ['green', 1],
      ['red', 2],
    ]);
    expect(around[1].parts).toEqual({ inside: 0.5, above: 0.5, below: 0, left: 0, right: 0 });
    expect(around[0].parts.right).toBe(1);
    expect(aroundWords(around[1])).toBe(
      "'red' (2 detections): 50% inside the box, 50% above it, 0% below it, 0% to its left, 0% to its right.",
    );
  });

  it("checks a journal row's window: its length and each cell in [0, 1] or null", () => {
    const part = (window: unknown) => ({
      objects: 0,
      explained: 1,
      detections: [{ ...detection(0, 'red'), window }],
      misses: [],
    });
    const ok = windowAt([0]).map((v, c) => (c === 5 ? null : v));
    expect(checkDetectPart(part(ok))).toEqual({ part: part(ok) });
    expect(checkDetectPart(part([1, 2]))).toEqual({
      problem: "'detect.detections[0].window' is not a list of 256 cells",
    });
    const big = windowAt([0]).map((v, c) => (c === 3 ? 7 : v));
    expect(checkDetectPart(part(big))).toEqual({
      problem: "'detect.detections[0].window[3]' is not a finite number in [0, 1]",
    });
    const many = {
      objects: 0,
      explained: MAX_ROW_WINDOWS + 1,
      detections: Array.from({ length: MAX_ROW_WINDOWS + 1 }, (_, i) => ({
        ...detection(i, 'red'),
        window: ok,
      })),
      misses: [],
    };
    expect(checkDetectPart(many)).toEqual({
      problem: `'detect.detections[${MAX_ROW_WINDOWS}].window' is past the first ${MAX_ROW_WINDOWS} detections`,
    });
    const text = windowAt([0]).map((v, c) => (c === 9 ? '0.1' : v));
    expect(checkDetectPart(part(text))).toEqual({
      problem: "'detect.detections[0].window[9]' is not a finite number in [0, 1]",
    });
  });
});

describe('detectGate (--fail-under on a detector)', () => {
  it('counts found detections whose map looks at the object; false positives and rows without ground truth not', () => {
    const found = (index: number, verdict: 'object' | 'partly' | 'none') => ({
      ...detection(index, 'red'),
      object: index,
      iou: 1,
      ...(verdict === 'none'
        ? { verdict: undefined, boxShare: undefined, noEvidence: true as const }
        : { verdict }),
    });
    const part: DetectRowPart = {
      objects: 3,
      explained: 4,
      // object (counts, looks), partly (counts), a zero map (counts, does not look), a false positive 'object'.
      detections: [
        found(0, 'object'),
        found(1, 'partly'),
        found(2, 'none'),
        { ...detection(3, 'red'), verdict: 'object' },
      ],
      misses: [],
    };
    const blind: DetectRowPart = {
      objects: 0,
      noGroundTruth: true,
      explained: 1,
      detections: [{ ...detection(0, 'red'), verdict: 'object' }],
      misses: [],
    };
    const s = summarizeDetections([
      { file: 'a.png', status: 'ok', task: 'detect', detect: part },
      { file: 'b.png', status: 'ok', task: 'detect', detect: blind },
    ])!;
    expect(s.lookingAtObject).toEqual({ found: 3, looking: 1 });
    expect(detectGate(s)).toEqual({
      share: 1 / 3,
      words: 'only 33.3% of the explained detections that found an object look at it (1 of 3)',
    });
    const none = summarizeDetections([{ file: 'b.png', status: 'ok', task: 'detect', detect: blind }])!;
    expect(detectGate(none)).toEqual({
      share: 0,
      words:
        'no explained detection found a ground-truth object (--regions gives the objects), so none looks at one',
    });
  });
});

describe("results.csv of a detector's rows", () => {
  it("writes the lowest box share and the worst detection's verdict, as the report files the row", () => {
    const part: DetectRowPart = {
      objects: 0,
      noGroundTruth: true,
      explained: 2,
      detections: [
        { ...detection(0, 'red'), verdict: 'object', boxShare: 0.8 },
        { ...detection(1, 'green'), verdict: 'partly', boxShare: 0.3 },
      ],
      misses: [],
    };
    const [header, line] = rowsToCsv([{ file: 'a.png', status: 'ok', task: 'detect', detect: part }])
      .trim()
      .split('\r\n')
      .map((l) => l.split(','));
    const field = (name: string) => line[header.indexOf(name)];
    expect([field('share'), field('verdict')]).toEqual(['0.3', 'partly']);
  });
});
