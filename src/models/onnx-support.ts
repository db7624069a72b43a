// What Sightline cannot run in an ONNX file it could otherwise open, told from the decoded graph alone (no
// I/O): the command line's folder loader and the web app's dropped folders make the same check with this.
import { SightlineError } from '../core/errors.js';
import type { ModelProto } from '../engines/onnx/proto.js';

/** ONNX's TensorProto.DataType for float16. */
const FLOAT16 = 10;
/** ONNX's TensorProto.DataLocation for weights kept in another file. */
const EXTERNAL = 1;

/** How a refusal tells the user what to do instead, in the words of the surface that opened the file. */
export interface UnsupportedOnnxAdvice {
  /** Where the weights are expected, e.g. 'inside model.onnx'. */
  readonly weights: string;
  /** What to open instead of a float16 variant. */
  readonly float16: string;
}

/**
 * Sightline feeds float32 pixels and reads float32 scores; converting a float16 graph's inputs and outputs would
 * still leave its gradients in float16, so such a graph is refused, naming the alternatives. Weights in an
 * external file (Optimum's model.onnx_data, for models over 2 GB) cannot be read from the bytes alone.
 */
export function refuseUnsupportedOnnx(model: ModelProto, name: string, advice: UnsupportedOnnxAdvice): void {
  const graph = model.graph;
  if ((graph?.initializer ?? []).some((t) => t.dataLocation === EXTERNAL)) {
    throw new SightlineError(
      'MODEL_LOAD',
      `'${name}' keeps its weights in a separate file (ONNX external data, such as model.onnx_data); Sightline reads one self-contained ONNX file: expected the weights ${advice.weights}.`,
      { path: name },
    );
  }
  const weights = new Set((graph?.initializer ?? []).map((t) => t.name));
  const io = [...(graph?.input ?? []).filter((v) => !weights.has(v.name)), ...(graph?.output ?? [])];
  const half = io.filter((v) => v.type?.tensorType?.elemType === FLOAT16).map((v) => `'${v.name}'`);
  if (half.length === 0) return;
  throw new SightlineError(
    'MODEL_LOAD',
    `'${name}' takes or gives float16 tensors (${half.join(', ')}); Sightline runs float32 models only: ${advice.float16}.`,
    { path: name },
  );
}
