// The audit's reports, from its rows: report.html, results.csv, results.jsonl.
export { CSV_COLUMNS, rowsToCsv, rowsToJsonl } from './csv.js';
export {
  PAGES_FOLDER,
  type PagedReport,
  type PagedReportInput,
  type ReportImages,
  type ReportInput,
  ROWS_PER_PAGE,
  renderPagedReport,
  renderReport,
  scriptJson,
  worstFirst,
} from './html.js';
