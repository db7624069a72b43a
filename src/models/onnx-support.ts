// What Sightline cannot run in an ONNX file it could otherwise open, or in a model folder's config beside it,
// told without I/O: the command line's folder loader and the web app's dropped folders make the same checks.
import { SightlineError } from '../core/errors.js';
import type { ModelSpec } from '../core/model.js';
import type { ModelProto } from '../engines/onnx/proto.js';
import type { FolderConfig } from './hf-config.js';

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

/**
 * The folder's class names against the scores its ONNX file (`onnxName`) gives, when the file fixes them:
 * another count means a config from another checkpoint, and every score would carry the wrong name. A detector's
 * classes are not its output count, and an embedding has none (transformers writes a default id2label of
 * LABEL_0, LABEL_1 into configs without a classification head). `instead` says what the surface offers.
 */
export function refuseFolderLabelCount(
  folder: FolderConfig,
  spec: Pick<ModelSpec, 'task' | 'outputShape'>,
  onnxName: string,
  instead: string,
): void {
  const names = folder.hints.labels;
  const shape = spec.outputShape;
  if (!names || !shape || spec.task === 'detect' || spec.task === 'embed') return;
  const perPixel = spec.task === 'segment';
  const scores = perPixel ? shape[0] : shape.reduce((a, b) => a * b, 1);
  if (scores === names.length) return;
  throw new SightlineError(
    'MODEL_LOAD',
    `The folder's config.json names ${names.length} classes (${folder.kind === 'timm' ? 'label_names' : 'id2label'}), but '${onnxName}' gives ${scores} ${perPixel ? 'classes per pixel' : 'scores per image'}; expected one name per ${perPixel ? 'class' : 'score'}: is the config from the same checkpoint as the ONNX file? (${instead})`,
    { path: onnxName, labels: names.length, scores },
  );
}
