// The audit's reports, from its rows: report.html, results.csv, results.jsonl.
export { CSV_COLUMNS, rowsToCsv, rowsToJsonl } from './csv.js';
export {
  type ReportImages,
  type ReportInput,
  renderReport,
  scriptJson,
  worstFirst,
} from './html.js';
