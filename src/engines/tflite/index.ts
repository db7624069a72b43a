export type { QuantizedClips } from './context.js';
export {
  convertTflite,
  type QuantizationParams,
  SUPPORTED_TFLITE_OPS,
  type TfliteConversion,
  type TfliteConvertOptions,
} from './convert.js';
export {
  readTflite,
  type TfliteModel,
  type TfliteOperator,
  type TfliteQuantization,
  type TfliteSubgraph,
  type TfliteTensor,
} from './reader.js';
