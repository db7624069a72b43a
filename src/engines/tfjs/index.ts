// The TF.js Layers → ONNX converter and the model.json format. The predict-only TF.js runtime lives in
// runtime.ts and is imported on its own (lazily), so converting never loads TF.js.
export {
  decodeWeights,
  expectedGroupBytes,
  isGraphModel,
  parseModelJson,
  type TfjsArtifacts,
  type TfjsModelJson,
  type TfjsQuantization,
  type TfjsWeight,
  type TfjsWeightEntry,
  type TfjsWeightGroup,
} from './artifacts.js';
export {
  convertTfjsLayers,
  SUPPORTED_TFJS_LAYERS,
  type TfjsConvertOptions,
  type TfjsLayersConversion,
} from './convert.js';
