// The audit's data: what one image's row holds, what the dataset-level summary holds. The journal stores rows
// as JSON lines, the reports read them, the web app will produce them too; so everything here is plain data.
import type { LowConfidence } from '../core/confidence.js';
import type { ModelTask } from '../core/model.js';
import type { RegionShape } from '../core/regions/shapes.js';
import type { Prediction, TargetDescription } from '../explain.js';
import type { ShortcutConfig, ShortcutRowPart, ShortcutSummary } from './shortcut-types.js';

/** One image's regions from a regions file (shapes), or the path of its mask PNG (non-zero = region). */
export interface ImageRegions {
  readonly shapes: readonly RegionShape[];
  readonly maskPath?: string;
  /** The file it came from, for messages. */
  readonly source: string;
}

export type AuditVerdict = 'object' | 'partly' | 'background';

/** Plain words for each verdict, as the report shows them. */
export const VERDICT_WORDS: Readonly<Record<AuditVerdict, string>> = {
  object: 'looks at the object',
  partly: 'looks partly outside',
  background: 'looks at the background',
};

/** The side of the square grid every image's map is reduced to for the dataset-level statistics. */
export const SUMMARY_GRID = 32;

/** One image's result: a line of results.jsonl and a row of results.csv and report.html. */
export interface AuditRow {
  /** Path relative to the audited folder, with '/' separators; the row's identity. */
  readonly file: string;
  readonly status: 'ok' | 'error';
  /** For status 'error': what went wrong, in words, and the SightlineError code. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly width?: number;
  readonly height?: number;
  /**
   * What the model's outputs mean, which decides how `predictions` read: class probabilities, tag
   * probabilities, or raw scores. Rows written before tasks existed have none: they are a classifier's.
   */
  readonly task?: ModelTask;
  /** In the task's words (explain.ts rankPredictions): probabilities for classes and tags, raw values for scores. */
  readonly predictions?: readonly Prediction[];
  /**
   * The expected label (from a folder name or the labels CSV) and its class index, when given. For a
   * multilabel model `text` is every labelled tag as given ('dog|leash') and `index` the first one's, the tag
   * the map explains.
   */
  readonly label?: { readonly text: string; readonly index: number };
  /**
   * Whether the top prediction is the label; for a multilabel model, whether every labelled tag is present
   * (its probability ≥ TAG_PRESENT); absent without a label.
   */
  readonly correct?: boolean;
  /** A multilabel row's labelled tags, each with its own probability and whether it is present (≥ TAG_PRESENT). */
  readonly tags?: readonly AuditTag[];
  /**
   * The class the map explains (the label when given, else the top prediction). For a segmenter `index` is
   * the class and `description` says the region summed (its own pixels); for an embedding model the
   * description holds the cosine to the reference.
   */
  readonly target?: {
    readonly index: number;
    readonly label: string;
    readonly description?: TargetDescription;
  };
  /**
   * The explained class has under 1% probability (a tag under 10%; core/confidence.ts): the map shows what
   * little evidence there is for it, and `instead` what the model mostly sees.
   */
  readonly lowConfidence?: LowConfidence;
  /**
   * The map is zero everywhere (for a signed map: no value above zero): the model found no evidence for the
   * target class in this image, e.g. Grad-CAM for a class nothing in the image supports, or a model whose score
   * does not move. An answer, so the row is 'ok' and keeps its predictions; it has no region measures, border
   * share or summary, since there is no attention to share out.
   */
  readonly noEvidence?: boolean;
  /** On a noEvidence row: the image had regions to check (so a gate over images with regions counts it). */
  readonly regionGiven?: boolean;
  /** Region measures, when the image has regions (and the map some attention). */
  readonly region?: {
    /** Share of positive attention inside the regions, in [0, 1]. */
    readonly share: number;
    /** Share of the image's pixels inside the regions. */
    readonly areaShare: number;
    readonly concentration: number;
    /** Pointing game: the map's peak within `tolerance` pixels of the regions. */
    readonly peakInside: boolean;
    readonly tolerance: number;
    readonly verdict: AuditVerdict;
  };
  /**
   * Deletion and insertion AUC (Petsiuk et al. 2018; metrics/deletion-insertion.ts) when the audit was run
   * with --faithfulness: lower deletion and higher insertion mean the map found what the model uses.
   */
  readonly faithfulness?: { readonly deletion: number; readonly insertion: number };
  /** Share of attention on the image's border band (the outer BORDER_FRACTION of each side). */
  readonly borderShare?: number;
  /**
   * The map reduced to SUMMARY_GRID × SUMMARY_GRID cells (box-averaged over the image stretched to a square,
   * positive attention, summing to 1), row-major; the dataset-level mean map and clusters are made from these.
   */
  readonly summary?: readonly number[];
  /** A detector's row (task 'detect'): its detections matched to the ground truth, and the missed objects. */
  readonly detect?: DetectRowPart;
  /** audit --shortcuts: the model's answers on the image's counterfactual variants (shortcut-types.ts). */
  readonly shortcuts?: ShortcutRowPart;
  /** Files written beside the report for this image, relative to the output folder. */
  readonly overlay?: string;
  readonly thumbnail?: string;
  /** Seconds the image took. */
  readonly seconds?: number;
}

/** A ground-truth object of a detector's audit: its class name and box x0, y0, x1, y1 in photo pixels. */
export interface DetectObject {
  readonly label: string;
  readonly box: readonly [number, number, number, number];
}

/** Shares of a detection's (or missed object's) map; absent with noEvidence (a map zero everywhere). */
interface DetectShares {
  /** D-RISE's similarity of the unmasked photo to the target (its score for the methods). */
  readonly similarity?: number;
  /** Share of the map's positive mass inside the entry's own box. */
  readonly boxShare?: number;
  /** The map against the entry's own box (its mask where region is 'mask'), as an image's verdict reads. */
  readonly verdict?: AuditVerdict;
  /** Share of the map inside the detection's instance mask (seg detectors, issue 14). */
  readonly maskShare?: number;
  /** 'mask' when the verdict read the instance mask; absent, the box. */
  readonly region?: 'mask';
  readonly noEvidence?: boolean;
  /** The map's overlay, relative to the output folder (the audit names it 'det<i>'/'miss<j>' until written). */
  readonly map?: string;
}

/** Detections kept in a row (each counted and matched; only the first --detections are explained). */
export const MAX_ROW_DETECTIONS = 1000;

export interface DetectRowPart {
  /** Ground-truth objects the image has. */
  readonly objects: number;
  /**
   * The audit had no ground truth (no --regions): detections are listed and explained but neither found
   * objects nor false positives, and the counts leave them out.
   */
  readonly noGroundTruth?: true;
  /** Detections explained (the first --detections by score); the others are matched and counted only. */
  readonly explained: number;
  readonly detections: readonly ({
    readonly index: number;
    readonly label: string;
    readonly classIndex: number;
    readonly score: number;
    readonly box: readonly [number, number, number, number];
    /** The ground-truth object it found (IoU ≥ 0.5, same class); absent for a false positive. */
    readonly object?: number;
    readonly iou?: number;
    /** Share of the map inside the matched object's box. */
    readonly objectShare?: number;
    /**
     * The map around the box in the box's frame (detect-window.ts: the box widened by half its size on each
     * side, WINDOW_GRID² cells summing to 1, null outside the photo); absent when the window holds no attention,
     * and past the first MAX_ROW_WINDOWS detections (a journal line's size).
     */
    readonly window?: readonly (number | null)[];
  } & DetectShares)[];
  /** Ground-truth objects no detection found, each explained with its box as the target. */
  readonly misses: readonly ({
    readonly object: number;
    readonly label: string;
    readonly classIndex: number;
    readonly box: readonly [number, number, number, number];
    /** Best IoU of a detection of its class (below 0.5, or taken by a higher-scoring one). */
    readonly bestIou: number;
  } & DetectShares)[];
}

/** A detector audit's counts for one class. */
export interface DetectClassCount {
  readonly label: string;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly misses: number;
}

/** Dataset-level numbers of a detector's audit. */
export interface DetectSummary {
  readonly classes: readonly DetectClassCount[];
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly misses: number;
  /** Mean share of an explained detection's map outside its own box (null when none was measured). */
  readonly outsideBox: number | null;
  /** The same, per class label. */
  readonly outsideBoxByClass: Readonly<Record<string, number>>;
  /**
   * --fail-under's measure on a detector: the explained detections that found a ground-truth object, and those
   * of them whose map looks at it (verdict 'object' against the box; a map zero everywhere does not).
   */
  readonly lookingAtObject: { readonly found: number; readonly looking: number };
  /** Per class (by label), the mean map around its explained detections, in the box's frame. */
  readonly around: readonly DetectClassWindow[];
}

/** A class's mean window (detect-window.ts) over its explained detections that have one. */
export interface DetectClassWindow {
  readonly label: string;
  /** Detections averaged. */
  readonly detections: number;
  /** WINDOW_GRID² cells row-major summing to 1; null where no detection's window lies in its photo. */
  readonly mean: readonly (number | null)[];
  /** The mean's share inside the box and in the bands above, below, left and right of it. */
  readonly parts: {
    readonly inside: number;
    readonly above: number;
    readonly below: number;
    readonly left: number;
    readonly right: number;
  };
}

/** A labelled tag of a multilabel row. */
export interface AuditTag {
  readonly index: number;
  readonly label: string;
  readonly probability: number;
  readonly present: boolean;
}

/** One tag's count over the labelled images of a multilabel audit. */
export interface AuditTagCount {
  readonly index: number;
  readonly label: string;
  /** Images labelled with the tag. */
  readonly images: number;
  /** Of those, images where the model gives it probability ≥ TAG_PRESENT. */
  readonly present: number;
}

/** The outer band counted as "border": this fraction of the width (height) on the left and right (top and bottom). */
export const BORDER_FRACTION = 0.1;

/** What was run, so a resumed audit can refuse to mix results from different settings. */
export interface AuditConfig {
  readonly model: string;
  readonly method: string;
  readonly options: Readonly<Record<string, number | string>>;
  readonly labels?: string;
  readonly regions?: string;
  readonly faithfulness?: boolean;
  /** An embedding audit's reference (photo or .npy), as given. */
  readonly reference?: string;
  /** audit --shortcuts: how the variants were made. */
  readonly shortcuts?: ShortcutConfig;
}

export interface AuditCluster {
  /** Row files in this cluster. */
  readonly members: readonly string[];
  /** The members' mean summary map (SUMMARY_GRID², sums to 1). */
  readonly mean: readonly number[];
}

export interface AuditSummary {
  readonly images: number;
  readonly errors: number;
  /** Mean of the rows' summary maps (SUMMARY_GRID², sums to 1): where the model looks on average. */
  readonly meanMap: readonly number[];
  /** Mean border share over images, and what an even spread would give (the border band's area share). */
  readonly borderShare: number;
  readonly borderAreaShare: number;
  readonly verdicts: Readonly<Record<AuditVerdict, number>>;
  /** Ok rows whose map found no evidence for the class (AuditRow.noEvidence). */
  readonly noEvidence: number;
  /** The rows' task (the first row that says; 'classify' when none does). */
  readonly task: ModelTask;
  /** Multilabel audits with labels: per tag, how many labelled images have it present; by tag index. */
  readonly tags: readonly AuditTagCount[];
  /**
   * Accuracy overall and per verdict, over rows with a label; null where no row counts. For a multilabel
   * audit, the share of labelled images with every labelled tag present.
   */
  readonly accuracy: number | null;
  readonly accuracyByVerdict: Readonly<Record<AuditVerdict, number | null>>;
  readonly clusters: readonly AuditCluster[];
  /** A detector's audit: detections found, false positives and misses, per class. */
  readonly detect?: DetectSummary;
  /** audit --shortcuts: accuracy on each variant and the background gap (shortcut-summary.ts). */
  readonly shortcuts?: ShortcutSummary;
}
