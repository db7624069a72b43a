// Everything that runs the same in Node and in a browser; index.ts (Node) and browser.ts add their own I/O.

export { borderAreaShare, borderShare, summarize, summaryGrid } from './audit/aggregate.js';
export { type AuditItem, type AuditRequest, auditImages, POINTING_TOLERANCE } from './audit/audit.js';
export {
  auditFindings,
  FINDERS,
  type Finder,
  type Finding,
  filesNeedingAttention,
  type MapPlace,
  placeOf,
} from './audit/findings.js';
export { summarizeShortcuts } from './audit/shortcut-summary.js';
export * from './audit/shortcut-types.js';
export {
  type ShortcutInput,
  type ShortcutSource,
  ShortcutTester,
  shortcutPartners,
} from './audit/shortcuts.js';
export * from './audit/types.js';
export type { AttributionMap, Target } from './core/attribution.js';
export { type LowConfidence, lowConfidence, lowConfidenceWords } from './core/confidence.js';
export { BOX_FORMATS } from './core/detection/boxes.js';
export { type ErrorCode, SightlineError } from './core/errors.js';
export type { RgbaImage, RgbImage } from './core/image.js';
export type { AttributionMethod, MethodInput, MethodOptions, OptionSpec } from './core/method.js';
export type { Capability, Model, ModelSpec, ModelTask, RunOptions, WeightReplacer } from './core/model.js';
export {
  type Geometry,
  inputGeometry,
  mapToImage,
  type Preprocessed,
  preprocess,
} from './core/preprocess.js';
export type { Progress, ProgressCallback } from './core/progress.js';
export {
  classShares,
  evaluateTarget,
  type OutputTarget,
  pixelClasses,
  type RegionBox,
  type RegionMask,
  type SegmentTarget,
  type SimilarityTarget,
  segmentShape,
  segmentTarget,
  similarityTarget,
  withTarget,
} from './core/targets.js';
export type { Tensor } from './core/tensor.js';
export { OnnxModel, type OnnxModelOptions } from './engines/onnx/session.js';
export { convertTflite } from './engines/tflite/index.js';
export {
  DEFAULT_METRICS,
  type EvaluateRequest,
  evaluateImage,
  type ImageEvaluation,
  METRICS,
  type MethodResult,
  type MetricName,
} from './evaluate/evaluate.js';
export { type DetectedPhoto, detectPhoto, type PhotoDetection } from './explain/detect.js';
export {
  disposePrepared,
  type ExplainedTarget,
  type ExplainRequest,
  type Explanation,
  explain,
  explainPrepared,
  labelOf,
  type MethodRequest,
  type Prediction,
  type PreparedImage,
  type PrepareRequest,
  prepare,
  rankPredictions,
  resolveTarget,
  type TargetDescription,
} from './explain.js';
export type { DecodeOptions } from './io/decode.js';
export { DEFAULT_MAX_PIXELS } from './io/image-limits.js';
export { decodeNpy, encodeNpy } from './io/npy.js';
export { type OcclusionOptions, occlusion } from './methods/perturbation/occlusion.js';
export { type RiseOptions, rise, riseMaskSet } from './methods/perturbation/rise.js';
export { blackBoxMethods, getMethod, METHODS, resolveOptions } from './methods/registry.js';
export * from './metrics/index.js';
export { DETECT_FORMATS } from './models/detect-format.js';
export type { PhotoMask } from './models/detect-mask.js';
export { DEFAULT_MODEL, defaultModelHints } from './models/embedded.js';
export { type FolderConfig, folderKind, parseHfFolder, parseTimmFolder } from './models/hf-config.js';
export { resolveLabel } from './models/label-match.js';
export { parseLabels } from './models/labels.js';
export {
  refuseFolderLabelCount,
  refuseUnsupportedOnnx,
  type UnsupportedOnnxAdvice,
} from './models/onnx-support.js';
export {
  type ConvertedTfliteModel,
  convertTfliteModel,
  decodeOnnxModel,
  modelInputs,
  openConvertedTflite,
  openOnnxModel,
} from './models/open.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ImageInputShape,
  imageInputShape,
  type ModelHints,
  specFromIo,
} from './models/spec.js';
export {
  convertTfjsSource,
  MAX_TFJS_ZIP_BYTES,
  metadataHints,
  type NamedBytes,
  readTfjsDropped,
  readTfjsZip,
  type TfjsMetadata,
  type TfjsSource,
} from './models/tfjs-source.js';
export { COLORMAP_NAMES, type ColormapName, colormap, defaultColormap } from './render/colormaps.js';
export { legendBar, legendCaption, legendLabels } from './render/legend.js';
export { drawMask, MASK_COLOR, type MaskStyle } from './render/masks.js';
export { flatMapWords, NORMALIZE_MODES, type NormalizeMode, normalizeMap } from './render/normalize.js';
export { type OverlayOptions, renderOverlay } from './render/overlay.js';
