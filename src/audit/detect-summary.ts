// A detector audit's dataset-level numbers: detections that found an object, false positives and missed
// objects per class, and how much of the explained detections' evidence lies outside their own boxes.
import { type BoxWindow, meanWindow, windowParts } from './detect-window.js';
import type { AuditRow, DetectClassCount, DetectClassWindow, DetectSummary } from './types.js';

/** The summary over the rows of a detector's audit, or undefined when no row is one. */
export function summarizeDetections(rows: readonly AuditRow[]): DetectSummary | undefined {
  const parts = rows.filter((r) => r.status === 'ok' && r.detect).map((r) => r.detect!);
  if (parts.length === 0) return undefined;
  const counts = new Map<string, { truePositives: number; falsePositives: number; misses: number }>();
  const count = (label: string) => {
    const c = counts.get(label) ?? { truePositives: 0, falsePositives: 0, misses: 0 };
    counts.set(label, c);
    return c;
  };
  const outside = new Map<string, { sum: number; n: number }>();
  const windows = new Map<string, BoxWindow[]>();
  let sum = 0;
  let n = 0;
  const lookingAtObject = { found: 0, looking: 0 };
  for (const part of parts) {
    for (const d of part.detections) {
      if (!part.noGroundTruth) {
        const c = count(d.label);
        if (d.object !== undefined) c.truePositives++;
        else c.falsePositives++;
        if (d.object !== undefined && (d.verdict !== undefined || d.noEvidence)) {
          lookingAtObject.found++;
          if (d.verdict === 'object') lookingAtObject.looking++;
        }
      }
      if (d.window) {
        const list = windows.get(d.label) ?? [];
        list.push(d.window);
        windows.set(d.label, list);
      }
      if (d.boxShare === undefined) continue;
      const o = outside.get(d.label) ?? { sum: 0, n: 0 };
      o.sum += 1 - d.boxShare;
      o.n++;
      outside.set(d.label, o);
      sum += 1 - d.boxShare;
      n++;
    }
    for (const m of part.misses) count(m.label).misses++;
  }
  const classes: DetectClassCount[] = [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, c]) => ({ label, ...c }));
  const total = (key: 'truePositives' | 'falsePositives' | 'misses') =>
    classes.reduce((s, c) => s + c[key], 0);
  return {
    classes,
    truePositives: total('truePositives'),
    falsePositives: total('falsePositives'),
    misses: total('misses'),
    outsideBox: n > 0 ? sum / n : null,
    outsideBoxByClass: Object.fromEntries([...outside].map(([label, o]) => [label, o.sum / o.n])),
    lookingAtObject,
    around: [...windows]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([label, list]): DetectClassWindow => {
        const mean = meanWindow(list);
        return { label, detections: list.length, mean, parts: windowParts(mean) };
      }),
  };
}

/** The summary in one sentence, for the terminal and the report. */
export function detectSummaryWords(s: DetectSummary): string {
  if (s.classes.length === 0)
    return 'No ground-truth boxes were given (--regions), so detections are explained but not matched to objects.';
  const perClass = s.classes
    .map(
      (c) =>
        `${c.label}: ${c.truePositives} found, ${c.falsePositives} false positive${c.falsePositives === 1 ? '' : 's'}, ${c.misses} missed`,
    )
    .join('; ');
  const outside =
    s.outsideBox === null
      ? ''
      : ` On average ${(s.outsideBox * 100).toFixed(1)}% of a detection's map lies outside its box.`;
  return `${s.truePositives} detection${s.truePositives === 1 ? '' : 's'} found an object, ${s.falsePositives} ${s.falsePositives === 1 ? 'was a false positive' : 'were false positives'}, ${s.misses} object${s.misses === 1 ? ' was' : 's were'} missed (${perClass}).${outside}`;
}

/** A class's mean window in words: where, relative to its boxes, the maps of its detections lie. */
export function aroundWords(c: DetectClassWindow): string {
  const p = c.parts;
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  return `'${c.label}' (${c.detections} detection${c.detections === 1 ? '' : 's'}): ${pct(p.inside)} inside the box, ${pct(p.above)} above it, ${pct(p.below)} below it, ${pct(p.left)} to its left, ${pct(p.right)} to its right.`;
}

/**
 * --fail-under on a detector, as on a classifier (the share of images with regions that look at the object),
 * transposed: the share of explained detections that found a ground-truth object whose map looks at it; 0 when
 * none did. False positives and misses are the detector's accuracy, counted in the summary, not in the gate.
 */
export function detectGate(s: DetectSummary): { share: number; words: string } {
  const { found, looking } = s.lookingAtObject;
  const share = found > 0 ? looking / found : 0;
  const words =
    found > 0
      ? `only ${(share * 100).toFixed(1)}% of the explained detections that found an object look at it (${looking} of ${found})`
      : 'no explained detection found a ground-truth object (--regions gives the objects), so none looks at one';
  return { share, words };
}
