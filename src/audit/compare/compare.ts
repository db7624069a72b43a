// Two audits of the same images side by side: per image what changed (prediction, correctness, verdict, share
// inside the region, shortcut flags) and whether that is worse or better, and the dataset-level numbers of
// each over the images both audited. Plain data: the reports (html.ts, csv.ts) only show it.
import { SightlineError } from '../../core/errors.js';
import type { ModelTask } from '../../core/model.js';
import { capText } from '../../core/text.js';
import { compareText } from '../aggregate.js';
import { kindOf, percent, type RowKind, taskOf } from '../report/row-view.js';
import { type AuditConfig, type AuditRow, SUMMARY_GRID } from '../types.js';
import type { AuditRead } from './read.js';
import { settingsWarnings } from './settings.js';

/** A change of the share inside the region at least this large (0 to 1) counts on its own as worse or better. */
export const SHARE_STEP = 0.1;

/** Verdicts from best to worst: a step to the right is worse. */
const VERDICT_RANK: Partial<Record<RowKind, number>> = { object: 0, partly: 1, background: 2 };

/** Weights of the reasons, for the order within the worse (or better) images: the heavier first. */
const WEIGHT = { error: 8, correct: 4, verdictStep: 2, flag: 1, share: 1 } as const;

/** What one audit says about one image, as compared. */
export interface SideView {
  readonly status: 'ok' | 'error';
  /** The error's code, for an error row. */
  readonly error?: string;
  /** How `score` reads (row-view.ts taskOf). */
  readonly task: ModelTask;
  /** The top prediction's label and score (a probability, or the raw score of a score model). */
  readonly prediction?: string;
  readonly score?: number;
  readonly label?: string;
  readonly correct?: boolean;
  /** The class the map explains. */
  readonly target?: string;
  /** row-view.ts kindOf: error, noevidence, background, partly, object, or none (no region). */
  readonly kind: RowKind;
  /** Share of attention inside the region. */
  readonly share?: number;
  readonly borderShare?: number;
  /** Shortcut flags in words (absent when the audit ran without --shortcuts). */
  readonly flags?: readonly string[];
}

export type ChangeKind = 'worse' | 'mixed' | 'same' | 'better';
/** Images worse first, then mixed, unchanged, better. */
export const CHANGE_ORDER: readonly ChangeKind[] = ['worse', 'mixed', 'same', 'better'];

export interface ImageChange {
  readonly file: string;
  readonly a: SideView;
  readonly b: SideView;
  readonly change: ChangeKind;
  /** What got worse and what got better, in words (A → B). */
  readonly worse: readonly string[];
  readonly better: readonly string[];
  /** Weighted reasons, worse minus better (WEIGHT): the order within a change kind. */
  readonly weight: number;
  readonly predictionChanged: boolean;
  /** 'broken': right in A, wrong in B; 'fixed' the other way; undefined when either is unlabelled. */
  readonly correctness?: 'same' | 'fixed' | 'broken';
  /** B's share inside minus A's, when both have one. */
  readonly shareDelta?: number;
  readonly flagsGained: readonly string[];
  readonly flagsLost: readonly string[];
}

/** One audit's numbers over the images both audited. */
export interface SideNumbers {
  readonly errors: number;
  /** Rows with a label, and those the model got right. */
  readonly labelled: number;
  readonly correct: number;
  /** correct / labelled, null without labelled rows. */
  readonly accuracy: number | null;
  /** Rows by kind (row-view.ts kindOf). */
  readonly kinds: Readonly<Record<RowKind, number>>;
  /** Mean share inside over the rows that have one (null for none), and how many do. */
  readonly meanShare: number | null;
  readonly shared: number;
  /** Rows with at least one shortcut flag, of those with flags read. */
  readonly flagged: number;
  /** Mean of the rows' summary maps (SUMMARY_GRID², sums to 1), [] when no row has one. */
  readonly meanMap: readonly number[];
}

export interface Comparison {
  readonly format: 'sightline-compare';
  readonly version: 1;
  readonly a: { readonly folder: string; readonly config: AuditConfig; readonly images: number };
  readonly b: { readonly folder: string; readonly config: AuditConfig; readonly images: number };
  /** Settings that differ in ways that change what the numbers mean, in words. */
  readonly warnings: readonly string[];
  readonly numbers: {
    /** Images in both audits; all the numbers below are over these. */
    readonly both: number;
    readonly a: SideNumbers;
    readonly b: SideNumbers;
    /** Images by change kind. */
    readonly changes: Readonly<Record<ChangeKind, number>>;
    readonly predictionChanged: number;
    readonly fixed: number;
    readonly broken: number;
    /** Images whose verdict moved towards the background, and towards the object. */
    readonly verdictWorse: number;
    readonly verdictBetter: number;
  };
  /** Worse first (CHANGE_ORDER; heavier reasons first, then the larger fall in share, then file name). */
  readonly images: readonly ImageChange[];
  /** Files only one audit has. */
  readonly onlyA: readonly string[];
  readonly onlyB: readonly string[];
}

/**
 * Compares audit A (before, or the first model) with audit B (after, or the second), images matched by their
 * file (the path relative to the audited folder). Detector audits are refused (their rows are per detection,
 * not per image), as are two audits with no image in common. Settings that differ (method, options, regions,
 * labels, task) are compared all the same, with a warning in words: comparing two models is the point.
 */
export function compareAudits(a: AuditRead, b: AuditRead): Comparison {
  for (const side of [a, b]) {
    if (side.rows.some((row) => row.detect !== undefined || row.task === 'detect')) {
      throw new SightlineError(
        'INVALID_ARGUMENT',
        `The audit in '${side.folder}' is a detector's; compare reads audits of classifiers, taggers, scorers, segmenters and embedding models, whose rows are one per image. Compare detector audits by their summary.json counts.`,
        { folder: side.folder },
      );
    }
  }
  const byFile = new Map(b.rows.map((row) => [row.file, row]));
  const inA = new Set(a.rows.map((row) => row.file));
  const pairs = a.rows.flatMap((row) =>
    byFile.has(row.file) ? [[row, byFile.get(row.file)!] as const] : [],
  );
  if (pairs.length === 0) {
    const sample = (rows: readonly AuditRow[]) => capText(rows[0]?.file ?? 'no image', 200);
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The audits in '${a.folder}' (${a.rows.length} images, e.g. '${sample(a.rows)}') and '${b.folder}' (${b.rows.length} images, e.g. '${sample(b.rows)}') have no image in common; compare two audits of the same folder (images are matched by their path inside it).`,
    );
  }
  const images = pairs
    .map(([ra, rb]) => changeOf(view(ra, a.flags.get(ra.file)), view(rb, b.flags.get(rb.file)), ra.file))
    .sort(worseFirst);
  const count = (test: (c: ImageChange) => boolean) => images.filter(test).length;
  const changes = Object.fromEntries(CHANGE_ORDER.map((k) => [k, count((c) => c.change === k)])) as Record<
    ChangeKind,
    number
  >;
  const step = (c: ImageChange) => verdictStep(c.a.kind, c.b.kind) ?? 0;
  return {
    format: 'sightline-compare',
    version: 1,
    a: { folder: a.folder, config: a.config, images: a.rows.length },
    b: { folder: b.folder, config: b.config, images: b.rows.length },
    warnings: settingsWarnings(a, b, pairs),
    numbers: {
      both: pairs.length,
      a: numbersOf(
        pairs.map(([ra]) => ra),
        images.map((c) => c.a),
      ),
      b: numbersOf(
        pairs.map(([, rb]) => rb),
        images.map((c) => c.b),
      ),
      changes,
      predictionChanged: count((c) => c.predictionChanged),
      fixed: count((c) => c.correctness === 'fixed'),
      broken: count((c) => c.correctness === 'broken'),
      verdictWorse: count((c) => step(c) > 0),
      verdictBetter: count((c) => step(c) < 0),
    },
    images,
    onlyA: a.rows.filter((row) => !byFile.has(row.file)).map((row) => row.file),
    onlyB: b.rows.filter((row) => !inA.has(row.file)).map((row) => row.file),
  };
}

function view(row: AuditRow, flags: readonly string[] | undefined): SideView {
  const top = row.predictions?.[0];
  const out: Record<string, unknown> = { status: row.status, task: taskOf(row), kind: kindOf(row) };
  if (row.error) out.error = row.error.code;
  if (top) {
    out.prediction = top.label;
    out.score = top.score;
  }
  if (row.label) out.label = row.label.text;
  if (row.correct !== undefined) out.correct = row.correct;
  if (row.target) out.target = row.target.label;
  if (row.region) out.share = row.region.share;
  if (row.borderShare !== undefined) out.borderShare = row.borderShare;
  if (flags) out.flags = flags;
  return out as unknown as SideView;
}

/** How many verdict steps B is from A towards the background (negative: towards the object); undefined if not both verdicts. */
function verdictStep(a: RowKind, b: RowKind): number | undefined {
  const ra = VERDICT_RANK[a];
  const rb = VERDICT_RANK[b];
  return ra === undefined || rb === undefined ? undefined : rb - ra;
}

function changeOf(a: SideView, b: SideView, file: string): ImageChange {
  const worse: string[] = [];
  const better: string[] = [];
  let weight = 0;
  const note = (isWorse: boolean, words: string, w: number) => {
    (isWorse ? worse : better).push(words);
    weight += isWorse ? w : -w;
  };
  if (a.status !== b.status) {
    note(
      b.status === 'error',
      b.status === 'error' ? `fails (${b.error})` : `no longer fails (${a.error})`,
      WEIGHT.error,
    );
  }
  const correctness =
    a.correct === undefined || b.correct === undefined
      ? undefined
      : a.correct === b.correct
        ? 'same'
        : a.correct
          ? 'broken'
          : 'fixed';
  if (correctness === 'broken') note(true, 'right → wrong', WEIGHT.correct);
  if (correctness === 'fixed') note(false, 'wrong → right', WEIGHT.correct);
  const steps = verdictStep(a.kind, b.kind);
  if (steps) note(steps > 0, `verdict ${a.kind} → ${b.kind}`, WEIGHT.verdictStep * Math.abs(steps));
  const shareDelta = a.share !== undefined && b.share !== undefined ? b.share - a.share : undefined;
  if (shareDelta !== undefined && Math.abs(shareDelta) >= SHARE_STEP) {
    note(shareDelta < 0, `share inside ${percent(a.share)} → ${percent(b.share)}`, WEIGHT.share);
  }
  const flagsGained = (b.flags ?? []).filter((f) => a.flags !== undefined && !a.flags.includes(f));
  const flagsLost = (a.flags ?? []).filter((f) => b.flags !== undefined && !b.flags.includes(f));
  for (const f of flagsGained) note(true, `new flag: ${f}`, WEIGHT.flag);
  for (const f of flagsLost) note(false, `flag gone: ${f}`, WEIGHT.flag);
  const change: ChangeKind =
    worse.length > 0 ? (better.length > 0 ? 'mixed' : 'worse') : better.length > 0 ? 'better' : 'same';
  const out: Record<string, unknown> = {
    file,
    a,
    b,
    change,
    worse,
    better,
    weight,
    predictionChanged: a.prediction !== b.prediction,
    flagsGained,
    flagsLost,
  };
  if (correctness) out.correctness = correctness;
  if (shareDelta !== undefined) out.shareDelta = shareDelta;
  return out as unknown as ImageChange;
}

function worseFirst(x: ImageChange, y: ImageChange): number {
  return (
    CHANGE_ORDER.indexOf(x.change) - CHANGE_ORDER.indexOf(y.change) ||
    y.weight - x.weight ||
    (x.shareDelta ?? 0) - (y.shareDelta ?? 0) ||
    compareText(x.file, y.file)
  );
}

function numbersOf(rows: readonly AuditRow[], views: readonly SideView[]): SideNumbers {
  const kinds: Record<RowKind, number> = {
    error: 0,
    noevidence: 0,
    background: 0,
    partly: 0,
    object: 0,
    none: 0,
  };
  for (const v of views) kinds[v.kind]++;
  const labelled = views.filter((v) => v.correct !== undefined);
  const correct = labelled.filter((v) => v.correct).length;
  const shares = views.flatMap((v) => (v.share === undefined ? [] : [v.share]));
  return {
    errors: kinds.error,
    labelled: labelled.length,
    correct,
    accuracy: labelled.length > 0 ? correct / labelled.length : null,
    kinds,
    meanShare: shares.length > 0 ? shares.reduce((s, x) => s + x, 0) / shares.length : null,
    shared: shares.length,
    flagged: views.filter((v) => (v.flags?.length ?? 0) > 0).length,
    meanMap: meanMap(rows),
  };
}

function meanMap(rows: readonly AuditRow[]): number[] {
  const maps = rows.flatMap((row) => (row.status === 'ok' && row.summary ? [row.summary] : []));
  if (maps.length === 0) return [];
  const mean = new Array<number>(SUMMARY_GRID * SUMMARY_GRID).fill(0);
  for (const map of maps) for (let i = 0; i < mean.length; i++) mean[i] += map[i] / maps.length;
  return mean;
}
