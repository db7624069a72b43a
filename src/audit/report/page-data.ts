// The contract between report.html's markup (written by html.ts) and its script (web/src/report/report.ts):
// the JSON the page embeds, and the ids of the elements the script drives.

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
  /** The overlay as a data: URI, or null when the row has none. */
  readonly overlay: string | null;
}

export interface ReportPageData {
  /** In the table's initial order; each table row's data-index is its index here. */
  readonly rows: readonly ReportPageRow[];
}

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
} as const;

/** The column the table is sorted by at first (ascending): the verdict, worst first. */
export const INITIAL_SORT = 'verdict';
