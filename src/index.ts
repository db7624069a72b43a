// The public entry (Node). Re-exports only; the browser build (a later issue) will leave out the Node-only
// modules: io/decode (sharp), engines/onnx/session (onnxruntime-node) and models/* (file system).
export type { AttributionMap, Target } from './core/attribution.js';
export { type ErrorCode, SightlineError } from './core/errors.js';
export type { RgbaImage, RgbImage } from './core/image.js';
export type { AttributionMethod, MethodInput, OptionSpec } from './core/method.js';
export type { Capability, Model, ModelSpec, RunOptions } from './core/model.js';
export {
  type Geometry,
  inputGeometry,
  mapToImage,
  type Preprocessed,
  preprocess,
} from './core/preprocess.js';
export type { Progress, ProgressCallback } from './core/progress.js';
export type { Tensor } from './core/tensor.js';
export { OnnxModel, type OnnxModelOptions } from './engines/onnx/session.js';
export { convertTflite } from './engines/tflite/index.js';
export {
  type ExplainRequest,
  type Explanation,
  explain,
  type Prediction,
  rankPredictions,
  resolveTarget,
} from './explain.js';
export { type DecodeOptions, decodeImage } from './io/decode.js';
export { decodeNpy, encodeNpy, readNpy, writeNpy } from './io/npy.js';
export { type OcclusionOptions, occlusion } from './methods/perturbation/occlusion.js';
export { type RiseOptions, rise, riseMaskSet } from './methods/perturbation/rise.js';
export { getMethod, METHODS, resolveOptions } from './methods/registry.js';
export { DEFAULT_MODEL, loadDefaultModel } from './models/default-model.js';
export { loadModel, type ModelHints } from './models/load.js';
export { COLORMAP_NAMES, colormap } from './render/colormaps.js';
export { NORMALIZE_MODES, normalizeMap } from './render/normalize.js';
export { type OverlayOptions, renderOverlay } from './render/overlay.js';
export { encodePng, renderOverlayPng } from './render/png.js';
