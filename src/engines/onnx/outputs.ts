/**
 * Every output of one ONNX Runtime run as float32 (capability 'outputs'): a detector's boxes, scores and
 * classes come out at once, and torchvision and TensorFlow exports give classes and counts as int64 (or
 * int32, bool, float64), which are converted here so the decoders read one number type. Counts of
 * post-NMS outputs are whatever the run gives; their shapes are read from the tensors, not the file.
 */
import type * as ort from '#ort';
import { SightlineError } from '../../core/errors.js';
import type { ModelOutput } from '../../core/model.js';

/** ONNX Runtime's results for `names`, in that order, as float32 tensors. */
export function namedOutputs(
  names: readonly string[],
  result: ort.InferenceSession.OnnxValueMapType,
): ModelOutput[] {
  return names.map((name) => {
    const t = result[name];
    return { name, dims: t.dims.map(Number), data: toFloats(name, t) };
  });
}

function toFloats(name: string, t: ort.Tensor): Float32Array {
  const data = t.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, Number);
  if (
    data instanceof Float64Array ||
    data instanceof Int32Array ||
    data instanceof Uint32Array ||
    data instanceof Int16Array ||
    data instanceof Uint16Array ||
    data instanceof Int8Array ||
    data instanceof Uint8Array
  )
    return Float32Array.from(data);
  throw new SightlineError(
    'MODEL_OUTPUT',
    `The model's output '${name}' is ${t.type}; expected numbers (float, integer or bool tensors).`,
    { output: name, type: t.type },
  );
}
