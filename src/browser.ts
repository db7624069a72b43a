// The public entry for browsers (package export "sightline/browser"): the portable library plus decoding with
// the browser's codecs. ONNX Runtime is onnxruntime-web here, chosen by the "browser" condition of "#ort".

// Its downloads (report.html and the files beside it, made by the CLI's own code) and saved progress (rows
// read back from IndexedDB go through the journal's checks).
export { pictureType } from './audit/picture-type.js';
// The no-code audit in the web app: the regions parsers that take text (reading files is Node's, in
// audit/regions/files.ts), matching regions to photos, and results.csv as the CLI writes it.
export { checkShapes } from './audit/regions/check.js';
export { readCoco } from './audit/regions/coco.js';
export { readBoxCsv } from './audit/regions/csv.js';
export { normalizeFileName, regionsFor } from './audit/regions/match.js';
export { collectVoc, readVoc } from './audit/regions/voc.js';
export { CSV_COLUMNS, rowsToCsv } from './audit/report/csv.js';
export { NEEDS_ATTENTION_FILE, needsAttentionCsv } from './audit/report/findings.js';
export { renderReport, rowsToJsonl } from './audit/report/index.js';
export { checkRow } from './audit/row-check.js';
export { shapesMask } from './core/regions/mask.js';
export { resamplePlanes } from './core/resample.js';
// The web worker opens its sessions in turn (web/src/one-run.ts).
export { type OrtSession, openInThisThread, type SessionOpener } from './engines/onnx/open-session.js';
export { configureWebRuntime, type WebRuntimeOptions } from './engines/onnx/web-runtime.js';
export { decodeImageBlob } from './io/decode-browser.js';
export * from './portable.js';
