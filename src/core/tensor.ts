/** A dense float32 tensor in row-major order. */
export interface Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/**
 * A zeroed batch of `count` inputs, each shaped like one input of `like` (its first axis is the batch): what a
 * batch builder fills, so the shape of every batch comes from one place.
 */
export function batchLike(like: Tensor, count: number): Tensor {
  const per = like.dims.slice(1).reduce((a, b) => a * b, 1);
  return { data: new Float32Array(count * per), dims: [count, ...like.dims.slice(1)] };
}
