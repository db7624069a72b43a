import type { ConversionContext } from '../context.js';
import type { TfliteOperator } from '../reader.js';

/** Converts one TFLite operator: reads its inputs from the context, writes ONNX nodes, defines its outputs. */
export type OpRule = (op: TfliteOperator, ctx: ConversionContext) => void;
