// The public entry for Node: the portable library plus files, sharp and the user cache.

export {
  type Comparison,
  compareAudits,
  compareFolders,
  comparisonToCsv,
  type ImageChange,
  readAudit,
  renderComparison,
} from './audit/compare/index.js';
export { AuditJournal } from './audit/journal.js';
export { labelsFromFolders, readLabelCsv } from './audit/labels.js';
export { checkShapes, readMask, readRegions, regionsFor } from './audit/regions/index.js';
export { renderReport, rowsToCsv, rowsToJsonl } from './audit/report/index.js';
export { writeReports } from './audit/write.js';
export { type EvaluationTable, formatTable, renderEvaluationHtml, tabulate } from './evaluate/summary.js';
export { type DecodeOptions, decodeImage } from './io/decode.js';
export { readNpy, writeNpy } from './io/npy-file.js';
export { loadDefaultModel } from './models/default-model.js';
export { loadHttpModel } from './models/http.js';
export { readLabels } from './models/labels-file.js';
export { loadModel } from './models/load.js';
export type { HttpHints } from './models/spec.js';
export * from './portable.js';
export { encodePng, renderOverlayPng } from './render/png.js';
