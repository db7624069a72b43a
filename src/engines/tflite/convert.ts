/**
 * TFLite → ONNX. The ONNX graph computes in real numbers what the TFLite graph computes in (possibly
 * quantized) integers: weights are dequantized to float32, a quantized input becomes a float32 input of the
 * values it represents, and the saturation of quantized activations becomes explicit clips. Input and output
 * keep TFLite's NHWC layout with a free batch dimension; inside, convolutions run NCHW (see layout.ts).
 */
import { invalidArgument, SightlineError } from '../../core/errors.js';
import { buildModel, DataType, type ModelProto, valueInfo } from '../onnx/proto.js';
import { ConversionContext, type QuantizedClips } from './context.js';
import { RULES } from './ops/index.js';
import { isQuantized } from './quantization.js';
import { readTflite, type TfliteSubgraph, type TfliteTensor } from './reader.js';
import { TensorType, tensorTypeName } from './schema.js';

export interface TfliteConvertOptions {
  /**
   * Which quantized activations are clipped to the range their integer type can represent (how a fused
   * ReLU6 and the ranges learned in quantization-aware training show up). `except-scores` (default) clips all
   * but the output scores and the logits they are reshaped or softmaxed from, whose saturation would tie
   * confident classes and zero their gradients; `all` clips those too, as the TFLite runtime saturates them;
   * `none` keeps only the fused activations.
   */
  readonly quantizedClips?: QuantizedClips;
  /**
   * Write the quantized (QDQ) form instead (see qdq.ts): every per-tensor quantized activation but the scores is
   * rounded to its integer grid, and ONNX Runtime runs the layers between in uint8. Forward passes only.
   */
  readonly quantized?: boolean;
}

/** real = scale × (q − zeroPoint). */
export interface QuantizationParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface TfliteConversion {
  readonly model: ModelProto;
  /** The float32 input, [N, H, W, C] with a symbolic batch N, taking real (dequantized) values. */
  readonly inputName: string;
  readonly outputName: string;
  /** The input shape as the TFLite file declares it (NHWC, batch 1). */
  readonly inputShape: number[];
  readonly outputShape: number[];
  /** Present when the TFLite input is quantized: how its integers map to the real values the ONNX input takes. */
  readonly inputQuantization?: QuantizationParams;
  readonly outputQuantization?: QuantizationParams;
  /** How many operators of each TFLite type the model has. */
  readonly opCounts: Record<string, number>;
  /** For each TFLite activation tensor, the ONNX value holding it and that value's layout. */
  readonly tensors: Record<string, { readonly name: string; readonly layout: 'NCHW' | 'NHWC' }>;
}

/** The TFLite operators convertTflite handles. */
export const SUPPORTED_TFLITE_OPS: readonly string[] = Object.keys(RULES).sort();

/** Converts the main subgraph of a TFLite model (the bytes of a .tflite file) to an ONNX model (opset 17). */
export function convertTflite(bytes: Uint8Array, options: TfliteConvertOptions = {}): TfliteConversion {
  if (!(bytes instanceof Uint8Array))
    throw invalidArgument('bytes', 'the bytes of a .tflite file (a Uint8Array)', bytes);
  const clips = options.quantizedClips ?? 'except-scores';
  if (!['except-scores', 'all', 'none'].includes(clips)) {
    throw invalidArgument('options.quantizedClips', "'except-scores', 'all' or 'none'", clips);
  }
  const file = readTflite(bytes);
  const graph = file.subgraphs[0];
  const opCounts = countOps(graph);
  const [input, output] = singleInputOutput(graph);

  const ctx = new ConversionContext(graph, clips, options.quantized === true);
  const inputName = ctx.defineInput(input.index);
  for (const op of graph.operators) {
    ctx.beginOperator();
    RULES[op.name](op, ctx);
  }
  const outputName = ctx.graphOutput(output.index);

  const batched = (t: TfliteTensor) => ['N', ...t.shape.slice(1)];
  const model = buildModel({
    name: graph.name || 'tflite',
    inputs: [valueInfo(inputName, batched(input), DataType.FLOAT)],
    outputs: [valueInfo(outputName, batched(output), DataType.FLOAT)],
    nodes: ctx.nodes,
    initializers: ctx.initializers,
    opset: 17,
    metadata: { source: 'tflite', ...(file.description ? { description: file.description } : {}) },
  });
  return {
    model,
    inputName,
    outputName,
    inputShape: [...input.shape],
    outputShape: [...output.shape],
    inputQuantization: quantizationOf(input),
    outputQuantization: quantizationOf(output),
    opCounts,
    tensors: ctx.tensorMap(),
  };
}

function countOps(graph: TfliteSubgraph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const op of graph.operators) {
    if (!RULES[op.name]) {
      throw new SightlineError(
        'UNSUPPORTED_OP',
        `TFLite op '${op.name}' (operator #${op.index}) is not supported by the converter; supported: ${SUPPORTED_TFLITE_OPS.join(', ')}.`,
        { op: op.name, operator: op.index, supported: SUPPORTED_TFLITE_OPS },
      );
    }
    counts[op.name] = (counts[op.name] ?? 0) + 1;
  }
  return counts;
}

function singleInputOutput(graph: TfliteSubgraph): [TfliteTensor, TfliteTensor] {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `The TFLite model has ${graph.inputs.length} inputs and ${graph.outputs.length} outputs; expected one image input and one score output.`,
    );
  }
  const input = graph.tensors[graph.inputs[0]];
  const output = graph.tensors[graph.outputs[0]];
  for (const [role, t] of [
    ['input', input],
    ['output', output],
  ] as const) {
    if (t.type !== TensorType.FLOAT32 && !isQuantized(t)) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `The TFLite ${role} '${t.name}' is ${tensorTypeName(t.type)}${t.quantization ? '' : ' without quantization'}; expected FLOAT32 or quantized UINT8/INT8.`,
        { tensor: t.name, type: tensorTypeName(t.type) },
      );
    }
  }
  return [input, output];
}

function quantizationOf(t: TfliteTensor): QuantizationParams | undefined {
  const q = t.quantization;
  if (!q || !isQuantized(t)) return undefined;
  return { scale: q.scale[0], zeroPoint: q.zeroPoint[0] ?? 0 };
}
