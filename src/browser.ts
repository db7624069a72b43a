// The public entry for browsers (package export "sightline/browser"): the portable library plus decoding with
// the browser's codecs. ONNX Runtime is onnxruntime-web here, chosen by the "browser" condition of "#ort".

export { configureWebRuntime, type WebRuntimeOptions } from './engines/onnx/web-runtime.js';
export { decodeImageBlob } from './io/decode-browser.js';
export * from './portable.js';
