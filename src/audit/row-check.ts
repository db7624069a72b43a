// Rows read back from a journal are untrusted: anyone who can write the output folder can edit them. Each one
// is checked field by field and rebuilt from the fields it should have, so what reaches the summary and the
// report has the types, ranges and sizes the code that writes rows gives them.
import { MODEL_TASKS, type ModelTask } from '../core/model.js';
import { bad, bool, checked, integer, number, optional, record, text } from '../core/untrusted.js';
import { checkTargetDescription } from '../explain/description-check.js';
import { checkDetectPart } from './detect-row-check.js';
import { checkShortcutPart } from './shortcut-check.js';
import { type AuditRow, type AuditVerdict, SUMMARY_GRID } from './types.js';

/** Longest file path, picture path, label or class name accepted (characters). */
const MAX_NAME = 4096;
/** Longest error code and message accepted (characters); rows cap their messages well below this. */
const MAX_CODE = 64;
const MAX_MESSAGE = 20_000;
/** Most predictions a row may hold (the audit keeps --top of them). */
const MAX_PREDICTIONS = 1000;
/** Largest image side a row may claim. */
const MAX_SIDE = 1_000_000;
const VERDICTS: readonly AuditVerdict[] = ['object', 'partly', 'background'];

/** The row rebuilt from its expected fields, or why it cannot be one (a sentence fragment naming the field). */
export function checkRow(value: unknown): { row: AuditRow } | { problem: string } {
  const result = checked(value, rebuild);
  return 'value' in result ? { row: result.value } : result;
}

function rebuild(value: unknown): AuditRow {
  const o = record(value, 'the row');
  const status = o.status;
  if (status !== 'ok' && status !== 'error') bad("'status' is not 'ok' or 'error'");
  const row: Record<string, unknown> = { file: name(o.file, 'file'), status };
  if (status === 'error' || o.error !== undefined) {
    const e = record(o.error, 'error');
    row.error = {
      code: text(e.code, 'error.code', MAX_CODE),
      message: text(e.message, 'error.message', MAX_MESSAGE),
    };
  }
  optional(o, row, 'width', (v) => integer(v, 'width', 1, MAX_SIDE));
  optional(o, row, 'height', (v) => integer(v, 'height', 1, MAX_SIDE));
  optional(o, row, 'task', (v) => {
    if (!MODEL_TASKS.includes(v as ModelTask)) bad(`'task' is not one of ${MODEL_TASKS.join(', ')}`);
    return v;
  });
  optional(o, row, 'predictions', (v) => {
    if (!Array.isArray(v) || v.length > MAX_PREDICTIONS)
      bad(`'predictions' is not a list of up to ${MAX_PREDICTIONS}`);
    return v.map((p, i) => indexed(p, `predictions[${i}]`, true));
  });
  optional(o, row, 'label', (v) => {
    const l = record(v, 'label');
    return { text: name(l.text, 'label.text'), index: integer(l.index, 'label.index', 0) };
  });
  optional(o, row, 'correct', (v) => bool(v, 'correct'));
  optional(o, row, 'tags', (v) => {
    if (!Array.isArray(v) || v.length > MAX_PREDICTIONS)
      bad(`'tags' is not a list of up to ${MAX_PREDICTIONS}`);
    return v.map((t, i) => {
      const what = `tags[${i}]`;
      const tag = indexed(t, what, false);
      const r = record(t, what);
      return {
        ...tag,
        probability: number(r.probability, `${what}.probability`, 0, 1),
        present: bool(r.present, `${what}.present`),
      };
    });
  });
  optional(o, row, 'target', (v) => {
    const t = record(v, 'target');
    const target: Record<string, unknown> = indexed(t, 'target', false);
    if (t.description !== undefined)
      target.description = checkTargetDescription(t.description, 'target.description');
    return target;
  });
  optional(o, row, 'lowConfidence', (v) => {
    const l = record(v, 'lowConfidence');
    const out: Record<string, unknown> = {
      probability: number(l.probability, 'lowConfidence.probability', 0, 1),
      threshold: number(l.threshold, 'lowConfidence.threshold', 0, 1),
    };
    if (l.instead !== undefined) {
      const i = record(l.instead, 'lowConfidence.instead');
      out.instead = {
        ...indexed(i, 'lowConfidence.instead', false),
        probability: number(i.probability, 'lowConfidence.instead.probability', 0, 1),
      };
    }
    return out;
  });
  optional(o, row, 'noEvidence', (v) => bool(v, 'noEvidence'));
  optional(o, row, 'regionGiven', (v) => bool(v, 'regionGiven'));
  optional(o, row, 'region', (v) => {
    const r = record(v, 'region');
    if (!VERDICTS.includes(r.verdict as AuditVerdict)) bad("'region.verdict' is not a verdict");
    return {
      share: number(r.share, 'region.share', 0, 1),
      areaShare: number(r.areaShare, 'region.areaShare', 0, 1),
      concentration: number(r.concentration, 'region.concentration', 0),
      peakInside: bool(r.peakInside, 'region.peakInside'),
      tolerance: number(r.tolerance, 'region.tolerance', 0),
      verdict: r.verdict,
    };
  });
  optional(o, row, 'faithfulness', (v) => {
    const f = record(v, 'faithfulness');
    return {
      deletion: number(f.deletion, 'faithfulness.deletion'),
      insertion: number(f.insertion, 'faithfulness.insertion'),
    };
  });
  optional(o, row, 'borderShare', (v) => {
    if (row.width === undefined || row.height === undefined)
      bad("'borderShare' comes without the image size");
    return number(v, 'borderShare', 0, 1);
  });
  optional(o, row, 'summary', (v) => {
    const cells = SUMMARY_GRID * SUMMARY_GRID;
    if (
      !Array.isArray(v) ||
      v.length !== cells ||
      !v.every((c) => typeof c === 'number' && Number.isFinite(c))
    )
      bad(`'summary' is not ${cells} finite numbers`);
    return v;
  });
  optional(o, row, 'detect', (v) => {
    const checked = checkDetectPart(v);
    return 'part' in checked ? checked.part : bad(checked.problem);
  });
  optional(o, row, 'shortcuts', (v) => {
    const checked = checkShortcutPart(v);
    return 'part' in checked ? checked.part : bad(checked.problem);
  });
  optional(o, row, 'overlay', (v) => name(v, 'overlay'));
  optional(o, row, 'thumbnail', (v) => name(v, 'thumbnail'));
  optional(o, row, 'seconds', (v) => number(v, 'seconds', 0));
  return row as unknown as AuditRow;
}

function name(v: unknown, what: string): string {
  const s = text(v, what, MAX_NAME);
  if (s === '') bad(`'${what}' is empty`);
  return s;
}

/** A prediction ({index, label, score}) or a target ({index, label}). */
function indexed(v: unknown, what: string, scored: boolean) {
  const p = record(v, what);
  const out = {
    index: integer(p.index, `${what}.index`, 0),
    label: text(p.label, `${what}.label`, MAX_NAME),
  };
  return scored ? { ...out, score: number(p.score, `${what}.score`) } : out;
}
