// The contract between report.html's markup (written by html.ts) and its script (web/src/report/report.ts):
// the JSON the page embeds, the page files a large audit's report loads, and the ids of the elements the
// script drives.
import type { RowCells } from './row-view.js';

/** One row of the images table, as the script needs it to sort, filter and open the detail dialog. */
export interface ReportPageRow {
  readonly file: string;
  /**
   * The kinds the verdict filter finds the row under (an error, a verdict, no evidence, no region; a detector's
   * row each of its detections' verdicts, a false positive, a miss).
   */
  readonly kinds: readonly string[];
  /** What each sortable column sorts by; null sorts last in either direction. */
  readonly keys: Readonly<Record<string, string | number | null>>;
  /** Lower-cased text the filter box searches. */
  readonly text: string;
  /** The dialog's facts, as plain text pairs (set with textContent, never as HTML). */
  readonly detail: readonly (readonly [string, string])[];
  /**
   * The overlay as a data: URI (a single-file report) or a URL relative to the page (a paged one), or null
   * when the row has none.
   */
  readonly overlay: string | null;
}

/** A row of a paged report: the table's cells come with it, since the page holds no markup for it. */
export interface PagedRow extends ReportPageRow {
  readonly cells: RowCells;
  /** The thumbnail's URL relative to the page, or null. */
  readonly thumbnail: string | null;
  /** The row names pictures that cannot be shown (the dialog's facts say why). */
  readonly missing: boolean;
}

export interface ReportPageData {
  /**
   * In the table's initial order; each table row's data-index is its index here. Empty in a paged report,
   * whose rows come from `pages`.
   */
  readonly rows: readonly ReportPageRow[];
  /** A large audit's rows, in files beside the page, in the table's initial order. */
  readonly pages?: {
    /** URLs relative to the page; each file calls PAGE_CALLBACK(its index here, its rows). */
    readonly files: readonly string[];
    /** Rows in all the files together. */
    readonly total: number;
  };
}

/** The global function a page file calls with its rows: a <script src> works from file://, where fetch does not. */
export const PAGE_CALLBACK = 'sightlineReportRows';

/** Rows the paged table shows at once; the pager moves by this many. */
export const VIEW_ROWS = 100;

/** Ids of the elements the script finds. */
export const PAGE_IDS = {
  data: 'report-data',
  table: 'images',
  filterText: 'filter-text',
  filterVerdict: 'filter-verdict',
  shown: 'shown-count',
  dialog: 'detail',
  dialogTitle: 'detail-title',
  dialogImage: 'detail-image',
  dialogList: 'detail-list',
  dialogClose: 'detail-close',
  pagerPrevious: 'pager-previous',
  pagerNext: 'pager-next',
  pagerStatus: 'pager-status',
} as const;

/** The column the table is sorted by at first (ascending): the verdict, worst first. */
export const INITIAL_SORT = 'verdict';
