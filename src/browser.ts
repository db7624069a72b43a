// The public entry for browsers (package export "sightline/browser"): the portable library plus decoding with
// the browser's codecs. ONNX Runtime is onnxruntime-web here, chosen by the "browser" condition of "#ort".

// The no-code audit in the web app: the regions parsers that take text (reading files is Node's, in
// audit/regions/files.ts), matching regions to photos, and results.csv as the CLI writes it.
export { checkShapes } from './audit/regions/check.js';
export { readCoco } from './audit/regions/coco.js';
export { readBoxCsv } from './audit/regions/csv.js';
export { normalizeFileName, regionsFor } from './audit/regions/match.js';
export { collectVoc, readVoc } from './audit/regions/voc.js';
export { CSV_COLUMNS, rowsToCsv } from './audit/report/csv.js';
export { shapesMask } from './core/regions/mask.js';
export { configureWebRuntime, type WebRuntimeOptions } from './engines/onnx/web-runtime.js';
export { decodeImageBlob } from './io/decode-browser.js';
export * from './portable.js';
