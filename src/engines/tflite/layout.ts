/**
 * TFLite stores images NHWC; ONNX convolutions and pools want NCHW. The converter keeps each 4-D value in
 * whichever layout its producer made and transposes only where a consumer needs the other one, so a chain of
 * convolutions pays for one transpose at the input. Tensors of other ranks are always in TFLite's own order.
 */
import { TO_NCHW, TO_NHWC } from '../onnx/graph-writer.js';

export { type Layout, TO_NCHW, TO_NHWC } from '../onnx/graph-writer.js';

/** The position of NHWC axis `axis` (possibly negative) of a 4-D tensor once it is NCHW. */
export function nchwAxis(axis: number): number {
  return TO_NHWC[(axis + 4) % 4];
}

/** A 4-D NHWC shape or row-major array reordered to NCHW. */
export function shapeToNchw(shape: readonly number[]): number[] {
  return TO_NCHW.map((a) => shape[a]);
}

export function transposeToNchw(data: Float32Array, shape: readonly number[]): Float32Array {
  const [n, h, w, c] = shape;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = ((b * h + y) * w + x) * c;
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[from + k];
      }
    }
  }
  return out;
}

/**
 * Whether an NCHW value of this NHWC shape has the same bytes in the same order as its NHWC form: true when
 * the axes longer than 1 keep their relative order, as for [N, 1, 1, C]. Such a value can be reshaped or
 * flattened without transposing it first. The batch axis counts as long because the graph's batch is free.
 */
export function sameOrderAsNhwc(shape: readonly number[]): boolean {
  const long = TO_NCHW.filter((a) => a === 0 || shape[a] !== 1);
  return long.every((a, i) => i === 0 || a > long[i - 1]);
}

/**
 * For removing NHWC axes `removed` from an NCHW value: the NCHW axes to remove, when the axes left keep
 * TFLite's order (so the result needs no transpose); undefined when they would not.
 */
export function removedAxesInNchw(removed: readonly number[]): number[] | undefined {
  const kept = TO_NCHW.filter((a) => !removed.includes(a));
  const ordered = kept.every((a, i) => i === 0 || a > kept[i - 1]);
  return ordered ? removed.map(nchwAxis).sort((a, b) => a - b) : undefined;
}
