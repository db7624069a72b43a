// The 'detect' part of a journal row (a detector's audit), checked field by field and rebuilt from the fields
// it should have, as row-check.ts does for the rest of the row: journals are untrusted.
import { bad, checked, integer, list, number, record } from '../core/untrusted.js';
import { MAX_ROW_WINDOWS, WINDOW_GRID } from './detect-window.js';
import { type DetectRowPart, MAX_ROW_DETECTIONS } from './types.js';

const MAX_NAME = 4096;
const MAX_INDEX = 100_000_000;
const MAX_COORD = 1e9;

const VERDICTS: readonly string[] = ['object', 'partly', 'background'];

const name = (v: unknown, what: string): string =>
  typeof v === 'string' && v !== '' && v.length <= MAX_NAME
    ? v
    : bad(`'${what}' is not a name of 1 to ${MAX_NAME} characters`);
function box(v: unknown, what: string): [number, number, number, number] {
  if (!Array.isArray(v) || v.length !== 4) bad(`'${what}' is not a box [x0, y0, x1, y1]`);
  const b = (v as unknown[]).map((c, i) => number(c, `${what}[${i}]`, -MAX_COORD, MAX_COORD));
  if (b[2] < b[0] || b[3] < b[1]) bad(`'${what}' has a corner before its origin`);
  return b as [number, number, number, number];
}
/** A detection's window: WINDOW_GRID² shares (or null outside the photo), as detect-window.ts writes it. */
function boxWindowOf(v: unknown, what: string): (number | null)[] {
  const cells = WINDOW_GRID * WINDOW_GRID;
  if (!Array.isArray(v) || v.length !== cells) bad(`'${what}' is not a list of ${cells} cells`);
  return (v as unknown[]).map((c, i) => (c === null ? null : number(c, `${what}[${i}]`, 0, 1)));
}

/** The shares and map of an entry, each optional. */
function shares(e: Record<string, unknown>, what: string, out: Record<string, unknown>): void {
  if (e.similarity !== undefined) out.similarity = number(e.similarity, `${what}.similarity`);
  if (e.noEvidence !== undefined) {
    if (e.noEvidence !== true) bad(`'${what}.noEvidence' is not true`);
    out.noEvidence = true;
  }
  if (e.boxShare !== undefined) out.boxShare = number(e.boxShare, `${what}.boxShare`, 0, 1);
  if (e.verdict !== undefined) {
    if (!VERDICTS.includes(e.verdict as string)) bad(`'${what}.verdict' is not a verdict`);
    out.verdict = e.verdict;
  }
  if (e.maskShare !== undefined) out.maskShare = number(e.maskShare, `${what}.maskShare`, 0, 1);
  if (e.region !== undefined) {
    if (e.region !== 'mask') bad(`'${what}.region' is not 'mask'`);
    out.region = 'mask';
  }
  if (e.map !== undefined) out.map = name(e.map, `${what}.map`);
}

/** The rebuilt part, or why it cannot be one (a sentence fragment naming the field). */
export function checkDetectPart(value: unknown): { part: DetectRowPart } | { problem: string } {
  const result = checked(value, rebuild);
  return 'value' in result ? { part: result.value } : result;
}

function rebuild(value: unknown): DetectRowPart {
  const d = record(value, 'detect');
  const objects = integer(d.objects, 'detect.objects', 0, MAX_INDEX);
  const detections = list(d.detections, 'detect.detections', MAX_ROW_DETECTIONS).map((v, i) => {
    const what = `detect.detections[${i}]`;
    const e = record(v, what);
    const out: Record<string, unknown> = {
      index: integer(e.index, `${what}.index`, i, i),
      label: name(e.label, `${what}.label`),
      classIndex: integer(e.classIndex, `${what}.classIndex`, 0, MAX_INDEX),
      score: number(e.score, `${what}.score`),
      box: box(e.box, `${what}.box`),
    };
    if (e.object !== undefined) {
      out.object = integer(e.object, `${what}.object`, 0, objects - 1);
      out.iou = number(e.iou, `${what}.iou`, 0.5, 1);
      if (e.objectShare !== undefined) out.objectShare = number(e.objectShare, `${what}.objectShare`, 0, 1);
    } else if (e.iou !== undefined || e.objectShare !== undefined)
      bad(`'${what}' has a match's numbers without its object`);
    if (e.window !== undefined) {
      if (i >= MAX_ROW_WINDOWS) bad(`'${what}.window' is past the first ${MAX_ROW_WINDOWS} detections`);
      out.window = boxWindowOf(e.window, `${what}.window`);
    }
    shares(e, what, out);
    return out;
  });
  const explained = integer(d.explained, 'detect.explained', 0, detections.length);
  const found = new Set(detections.map((e) => e.object).filter((o) => o !== undefined));
  if (found.size !== detections.filter((e) => e.object !== undefined).length)
    bad("'detect.detections' match one object twice");
  const misses = list(d.misses, 'detect.misses', objects).map((v, i) => {
    const what = `detect.misses[${i}]`;
    const e = record(v, what);
    const object = integer(e.object, `${what}.object`, 0, objects - 1);
    if (found.has(object)) bad(`'${what}.object' is an object a detection found`);
    found.add(object);
    const out: Record<string, unknown> = {
      object,
      label: name(e.label, `${what}.label`),
      classIndex: integer(e.classIndex, `${what}.classIndex`, 0, MAX_INDEX),
      box: box(e.box, `${what}.box`),
      bestIou: number(e.bestIou, `${what}.bestIou`, 0, 1),
    };
    shares(e, what, out);
    return out;
  });
  if (found.size !== objects) bad("'detect' neither finds nor misses every object");
  if (d.noGroundTruth !== undefined && (d.noGroundTruth !== true || objects !== 0))
    bad("'detect.noGroundTruth' is not true on a row without objects");
  const part = {
    objects,
    ...(d.noGroundTruth ? { noGroundTruth: true } : {}),
    explained,
    detections,
    misses,
  };
  return part as unknown as DetectRowPart;
}
