/**
 * Every output of one ONNX Runtime run as float32 (capability 'outputs'): a detector's boxes, scores and
 * classes come out at once, and torchvision and TensorFlow exports give classes and counts as int64 (or
 * int32, bool, float64), which are converted here so the decoders read one number type. Counts of
 * post-NMS outputs are whatever the run gives; their shapes are read from the tensors, not the file.
 */
import type * as ort from '#ort';
import { SightlineError } from '../../core/errors.js';
import type { ModelOutput } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';

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

/**
 * A seed [N, K] shaped as the output it weights (its file dims `dims`), as the gradient graph's seed input is:
 * [N] for a rank-1 output, [N, C, h, w] for a segmenter's, so callers seed every model as [N, K] (the scores'
 * shape). `outputShape`: the model's output shape after the batch, when known.
 */
export function seedShapedAs(
  seed: Tensor,
  dims: readonly (number | string)[],
  outputShape: readonly number[] | undefined,
): Tensor {
  const [n, k] = seed.dims;
  if (seed.dims.length !== 2) return seed;
  if (dims.length === 1 && k === 1) return { data: seed.data, dims: [n] };
  const shape = outputShape;
  if (dims.length > 2 && shape?.length === dims.length - 1 && shape.reduce((a, b) => a * b, 1) === k)
    return { data: seed.data, dims: [n, ...shape] };
  return seed;
}

/**
 * The output `name` of a run over a batch of `n` as scores [N, K] (MODEL_OUTPUT unless float32 and finite),
 * and its shape after the batch (to fill a spec that left it open).
 */
export function scoresOf(
  name: string,
  out: ort.Tensor,
  n: number,
): { scores: Tensor; outputShape?: number[] } {
  // A rank-1 output is one number per image ([N]) when its length is the batch, else one image's K scores.
  const dims = out.dims.length === 1 ? (out.dims[0] === n ? [n, 1] : [1, out.dims[0]]) : [...out.dims];
  const k = dims.slice(1).reduce((a, b) => a * b, 1);
  if (dims[0] !== n || out.type !== 'float32') {
    throw new SightlineError(
      'MODEL_OUTPUT',
      `Expected the model's output '${name}' to be float32 [${n}, K]; got ${out.type} [${out.dims.join(', ')}].`,
    );
  }
  const data = out.data as Float32Array;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new SightlineError(
        'MODEL_OUTPUT',
        `The model's output '${name}' contains ${data[i]} at position ${i}; scores must be finite.`,
      );
    }
  }
  return { scores: { data, dims: [n, k] }, outputShape: dims.length > 1 ? dims.slice(1) : undefined };
}
