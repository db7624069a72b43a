import { invalidArgument } from './errors.js';

/** A dense float32 tensor in row-major order. */
export interface Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export function tensor(data: Float32Array, dims: readonly number[]): Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw invalidArgument('dims', `a shape whose product equals the data length ${data.length}`, dims);
  }
  return { data, dims: [...dims] };
}

export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Rows [start, end) of the first axis, as a view sharing memory. */
export function sliceBatch(t: Tensor, start: number, end: number): Tensor {
  const per = sizeOf(t.dims.slice(1));
  return { data: t.data.subarray(start * per, end * per), dims: [end - start, ...t.dims.slice(1)] };
}

/** Stacks equally shaped tensors with a leading batch axis of 1 (or none) into one batch. */
export function concatBatch(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw invalidArgument('parts', 'at least one tensor', parts);
  const inner = parts[0].dims.slice(1);
  const n = parts.reduce((a, p) => a + p.dims[0], 0);
  const out = new Float32Array(n * sizeOf(inner));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return { data: out, dims: [n, ...inner] };
}
