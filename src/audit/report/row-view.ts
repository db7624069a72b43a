// How one audit row reads in report.html: its kind (worst first), the words and numbers shown for it, the
// dialog's facts, the sort keys and the filter's text.

import { lowConfidenceWords, notePercent, TAG_PRESENT } from '../../core/confidence.js';
import type { ModelTask } from '../../core/model.js';
import { compareText } from '../aggregate.js';
import { type AuditRow, VERDICT_WORDS } from '../types.js';
import { detectCountWords, detectDetails } from './detect-words.js';

/** Row kinds in the default order, worst first; also the verdict filter's values. */
export const KINDS = ['error', 'noevidence', 'background', 'partly', 'object', 'none'] as const;
export type RowKind = (typeof KINDS)[number];

/** The words for the kinds that are not verdicts. */
const OTHER_KIND_WORDS = {
  error: 'error',
  noevidence: 'no evidence for the class',
  none: 'no region',
} as const;

/** Kinds only a detector's row has, after KINDS in the verdict filter: a false positive, a missed object. */
export const DETECT_KINDS = ['falsepositive', 'missed'] as const;
export type FilterKind = RowKind | (typeof DETECT_KINDS)[number];

const DETECT_KIND_WORDS = { falsepositive: 'false positives', missed: 'missed objects' } as const;

/** The rows in the report's default order: kind (KINDS), then the lowest share inside, then file name. */
export function worstFirst(rows: readonly AuditRow[]): AuditRow[] {
  return [...rows].sort(
    (a, b) =>
      KINDS.indexOf(kindOf(a)) - KINDS.indexOf(kindOf(b)) ||
      (shareOf(a) ?? 0) - (shareOf(b) ?? 0) ||
      compareText(a.file, b.file),
  );
}

/** A row's kind; a detector's row takes its worst explained detection's (each judged against its own box). */
export function kindOf(row: AuditRow): RowKind {
  if (row.status === 'error') return 'error';
  if (row.noEvidence) return 'noevidence';
  if (row.detect) {
    const kinds = detectionKinds(row);
    return KINDS.find((k) => kinds.has(k)) ?? 'none';
  }
  return row.region?.verdict ?? 'none';
}

/** The verdicts of a detector row's explained detections, 'noevidence' for a map zero everywhere. */
function detectionKinds(row: AuditRow): Set<RowKind> {
  const kinds = new Set<RowKind>();
  for (const d of row.detect?.detections ?? []) {
    if (d.noEvidence) kinds.add('noevidence');
    else if (d.verdict) kinds.add(d.verdict);
  }
  return kinds;
}

/**
 * Every kind the verdict filter finds a row under: its own, and for a detector's row each of its explained
 * detections' verdicts, plus 'falsepositive' and 'missed' when it has one.
 */
export function kindsOf(row: AuditRow): FilterKind[] {
  const kinds = new Set<FilterKind>([kindOf(row)]);
  const d = row.detect;
  if (row.status === 'ok' && d) {
    for (const k of detectionKinds(row)) kinds.add(k);
    if (!d.noGroundTruth && d.detections.some((e) => e.object === undefined)) kinds.add('falsepositive');
    if (d.misses.length > 0) kinds.add('missed');
  }
  return [...KINDS, ...DETECT_KINDS].filter((k) => kinds.has(k));
}

/**
 * The share the row is sorted by: inside its region; for a detector's row, the lowest share of an explained
 * detection's map inside its own box (the detection that looks furthest outside). Undefined without one.
 */
export function shareOf(row: AuditRow): number | undefined {
  if (row.region) return row.region.share;
  const shares = (row.detect?.detections ?? []).flatMap((d) =>
    d.boxShare === undefined ? [] : [d.boxShare],
  );
  return shares.length > 0 ? Math.min(...shares) : undefined;
}

export function kindWords(kind: RowKind): string {
  return kind === 'error' || kind === 'noevidence' || kind === 'none'
    ? OTHER_KIND_WORDS[kind]
    : (VERDICT_WORDS[kind] ?? String(kind));
}

/** The verdict filter's words for a kind: short, so the menu is no wider than its longest verdict. */
export function filterWords(kind: FilterKind): string {
  if (kind === 'falsepositive' || kind === 'missed') return DETECT_KIND_WORDS[kind];
  return kind === 'error' ? 'errors' : kind === 'noevidence' ? 'no evidence' : kindWords(kind);
}

/** A share as a whole percent; above 0 but rounding to 0 reads "under 1%"; nothing for NaN or absent. */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const whole = Math.round(value * 100);
  return whole === 0 && value > 0 ? 'under 1%' : `${whole}%`;
}

/**
 * A prediction's value in its task's words: a probability (or a segmenter's pixel share) as a percent, a score
 * as the number it is, an embedding's cosine (in [-1, 1], not a share of anything) as predictionWords gives it.
 */
export function score(value: number | undefined, task: ModelTask = 'classify'): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  if (task === 'embed') return value.toFixed(4);
  return task === 'score' ? value.toPrecision(4) : `${(value * 100).toFixed(1)}%`;
}

/** The row's task; rows written before tasks existed are a classifier's. */
export function taskOf(row: AuditRow): ModelTask {
  return row.task ?? 'classify';
}

/**
 * The prediction in the task's words: 'dog 91.0%' for a classifier; 'tags: dog 91.0%, leash 64.0%' (those at
 * or over TAG_PRESENT) for a tagger, or 'no tag over 50% (highest: dog 12.0%)'; 'score 0.7300' for a scorer
 * (each output named when it has several); '6.3% of pixels: cat (also background 87.5%, dog 6.3%)' for a
 * segmenter, the explained class first; 'cosine 0.6822 to the reference' for an embedding model. '' for a row
 * without predictions.
 */
export function predictionWords(row: AuditRow): string {
  if (row.detect) return detectCountWords(row.detect);
  const ps = row.predictions ?? [];
  if (ps.length === 0) return '';
  const task = taskOf(row);
  const d = row.target?.description;
  if (d?.kind === 'similarity') return `cosine ${d.cosine.toFixed(4)} to the reference`;
  if (task === 'segment') {
    // The explained class's share of the output pixels first, then the others the row kept.
    const shown = d?.kind === 'segment' ? d.class : ps[0].index;
    const first = ps.find((p) => p.index === shown) ?? ps[0];
    const others = ps.filter((p) => p !== first && p.score > 0);
    return `${score(first.score)} of pixels: ${first.label}${others.length > 0 ? ` (also ${others.map((p) => `${p.label} ${score(p.score)}`).join(', ')})` : ''}`;
  }
  if (task === 'score') {
    if (ps.length === 1 && ps[0].index === 0) return `score ${score(ps[0].score, task)}`;
    return `scores: ${ps.map((p) => `${p.label} ${score(p.score, task)}`).join(', ')}`;
  }
  if (task === 'multilabel') {
    const tags = ps.filter((p) => p.score >= TAG_PRESENT);
    return tags.length > 0
      ? `tags: ${tags.map((p) => `${p.label} ${score(p.score)}`).join(', ')}`
      : `no tag over ${TAG_PRESENT * 100}% (highest: ${ps[0].label} ${score(ps[0].score)})`;
  }
  return `${ps[0].label} ${score(ps[0].score)}`;
}

/** The low-probability note of a row, in words, or '' when it has none. */
export function lowConfidenceText(row: AuditRow): string {
  if (!row.lowConfidence || !row.target) return '';
  return lowConfidenceWords(
    row.lowConfidence,
    row.target.label,
    taskOf(row) === 'multilabel' ? 'tag' : 'class',
  );
}

/** A multilabel row's labelled tags: 'dog 91.0% (present), leash 12.0% (absent)'. */
export function tagWords(row: AuditRow): string {
  return (row.tags ?? [])
    .map((t) => `${t.label} ${notePercent(t.probability)} (${t.present ? 'present' : 'absent'})`)
    .join(', ');
}

export function yesNo(value: boolean | undefined): string {
  return value === undefined ? '' : value ? 'yes' : 'no';
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a no-evidence row says, in words. */
export function noEvidenceWords(row: AuditRow): string {
  const target = row.target ? `'${row.target.label}'` : 'the class';
  return `none: the map is zero everywhere, so the model found no evidence for ${target} in this image and there is no attention to measure`;
}

/** The dialog's list of facts about a row, as plain text pairs (the script sets them as text, never HTML). */
export function details(row: AuditRow, missingPictures?: string): [string, string][] {
  const out: [string, string][] = [['Status', row.status]];
  const task = taskOf(row);
  if (row.error) out.push(['Error', `${row.error.message} (${row.error.code})`]);
  if (row.predictions && row.predictions.length > 0) {
    out.push(['Task', task], ['Prediction', predictionWords(row)]);
    out.push([
      task === 'score' ? 'Outputs' : 'Top predictions',
      row.predictions.map((p) => `${p.label} ${score(p.score, task)}`).join(', '),
    ]);
  }
  if (row.detect) out.push(...detectDetails(row.detect));
  if (row.label) out.push([task === 'multilabel' ? 'Labelled tags' : 'Label', row.label.text]);
  if (row.tags && row.tags.length > 0) out.push(['Tags', tagWords(row)]);
  if (row.correct !== undefined)
    out.push([task === 'multilabel' ? 'Every labelled tag present' : 'Correct', yesNo(row.correct)]);
  if (row.target)
    out.push([
      `Explained ${task === 'multilabel' ? 'tag' : task === 'score' ? 'output' : 'class'}`,
      row.target.label,
    ]);
  if (row.lowConfidence) out.push(['Low probability', lowConfidenceText(row)]);
  if (row.noEvidence) out.push(['Evidence', noEvidenceWords(row)]);
  if (row.region) {
    const r = row.region;
    out.push(
      ['Verdict', VERDICT_WORDS[r.verdict]],
      ['Share inside', percent(r.share)],
      ['Region area', `${percent(r.areaShare)} of the image`],
      ['Concentration', `${r.concentration.toFixed(1)}× an even spread`],
      ['Peak inside', `${yesNo(r.peakInside)} (within ${r.tolerance} px)`],
    );
  }
  if (row.borderShare !== undefined) out.push(['Border share', percent(row.borderShare)]);
  if (row.faithfulness) {
    out.push(
      ['Deletion AUC', `${row.faithfulness.deletion.toFixed(3)} (lower: the map found what the model uses)`],
      ['Insertion AUC', `${row.faithfulness.insertion.toFixed(3)} (higher is better)`],
    );
  }
  if (row.width !== undefined && row.height !== undefined) {
    out.push(['Size', `${row.width} × ${row.height} px`]);
  }
  if (row.seconds !== undefined) out.push(['Time', `${row.seconds.toFixed(1)} s`]);
  if (missingPictures !== undefined) out.push(['Pictures', `missing: ${missingPictures}`]);
  return out;
}

/** What each sortable column sorts by; null sorts last in either direction. */
export function sortKeys(row: AuditRow): Record<string, string | number | null> {
  const top = row.predictions?.[0];
  const bool = (b: boolean | undefined) => (b === undefined ? null : b ? 1 : 0);
  return {
    file: row.file,
    top1: top?.label ?? null,
    score: top?.score ?? null,
    label: row.label?.text ?? null,
    correct: bool(row.correct),
    share: shareOf(row) ?? null,
    peak: bool(row.region?.peakInside),
    // Severity, then share inside: the default order.
    verdict: KINDS.indexOf(kindOf(row)) * 2 + (shareOf(row) ?? 0),
    border: row.borderShare ?? null,
  };
}

export function searchText(row: AuditRow): string {
  return [
    row.file,
    row.predictions?.[0]?.label,
    predictionWords(row),
    row.label?.text,
    row.target?.label,
    ...kindsOf(row).map((k) =>
      k === 'falsepositive' || k === 'missed' ? DETECT_KIND_WORDS[k] : kindWords(k),
    ),
    row.error?.code,
    row.error?.message,
  ]
    .filter((t): t is string => typeof t === 'string')
    .join('\n')
    .toLowerCase();
}

/**
 * The text of a row's table cells after its picture and file name, in column order: written as escaped markup
 * into a single-file report, and set with textContent by the script of a report whose rows load in pages.
 */
export interface RowCells {
  readonly prediction: string;
  /** The low-probability note under the prediction, or ''. */
  readonly low: string;
  readonly score: string;
  readonly label: string;
  readonly correct: string;
  readonly share: string;
  readonly peak: string;
  readonly kind: RowKind;
  readonly verdict: string;
  readonly border: string;
  readonly error: string;
}

export function rowCells(row: AuditRow): RowCells {
  const kind = kindOf(row);
  return {
    prediction: predictionWords(row),
    low: row.lowConfidence ? lowConfidenceText(row) : '',
    score: score(row.predictions?.[0]?.score, taskOf(row)),
    label: row.label?.text ?? '',
    correct: yesNo(row.correct),
    share: percent(shareOf(row)),
    peak: yesNo(row.region?.peakInside),
    kind,
    verdict: kindWords(kind),
    border: percent(row.borderShare),
    error: row.error?.message ?? '',
  };
}
