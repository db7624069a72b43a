/**
 * Resize with mode 'nearest' or 'linear'. Both are separable linear maps: along each resized axis,
 * y = M·x with an interpolation matrix M [out, in] built here from the ONNX coordinate rules, so the
 * gradient applies Mᵀ axis by axis as constant MatMuls.
 */
import type { NodeProto } from '../../proto.js';
import { attrInt, attrString } from '../attributes.js';
import { type GradientContext, unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';
import { applyTransposed } from './axis-matrix.js';

export const resize: GradientRule = (node, [dy], ctx) => {
  const x = node.input![0];
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') throw unsupported(node, `mode '${mode}' is not supported`);
  if (attrInt(node, 'antialias', 0) !== 0) throw unsupported(node, 'antialias is not supported');
  const input = ctx.shape(x);
  const output = ctx.shape(node.output![0]);
  const rank = input.dims.length;
  const scales = givenScales(node, ctx);
  let gradient = dy!;
  for (let axis = 0; axis < rank; axis++) {
    const [size, outSize] = [input.dims[axis], output.dims[axis]];
    const scale = scales?.[axis] ?? outSize / size;
    if (size === outSize && scale === 1) continue;
    if (input.batch[axis]) throw unsupported(node, 'resizing the batch axis is not supported');
    const matrix = interpolation(node, mode, size, outSize, scale);
    gradient = applyTransposed(ctx, gradient, matrix, size, outSize, axis, rank);
  }
  return [gradient];
};

/** The scales input when it is given (opset 11+: input 2; opset 10: input 1), else undefined. */
function givenScales(node: NodeProto, ctx: GradientContext): readonly number[] | undefined {
  const index = ctx.opset >= 11 ? 2 : 1;
  const value = ctx.constant(node.input![index]);
  return value && value.data.length > 0 ? value.data : undefined;
}

/** M [out, in] in row-major order. */
function interpolation(
  node: NodeProto,
  mode: string,
  size: number,
  outSize: number,
  scale: number,
): Float32Array {
  const transform = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const source = (o: number): number => {
    switch (transform) {
      case 'half_pixel':
        return (o + 0.5) / scale - 0.5;
      case 'pytorch_half_pixel':
        return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
      case 'align_corners':
        return outSize === 1 ? 0 : (o * (size - 1)) / (outSize - 1);
      case 'asymmetric':
        return o / scale;
      case 'tf_half_pixel_for_nn':
        return (o + 0.5) / scale;
      default:
        throw unsupported(node, `coordinate_transformation_mode '${transform}' is not supported`);
    }
  };
  const m = new Float32Array(outSize * size);
  const clampIndex = (i: number) => Math.min(Math.max(i, 0), size - 1);
  for (let o = 0; o < outSize; o++) {
    const s = source(o);
    if (mode === 'nearest') {
      m[o * size + clampIndex(nearest(node, s))] = 1;
    } else {
      const c = Math.min(Math.max(s, 0), size - 1);
      const lo = Math.floor(c);
      const hi = Math.min(lo + 1, size - 1);
      m[o * size + lo] += 1 - (c - lo);
      m[o * size + hi] += c - lo;
    }
  }
  return m;
}

function nearest(node: NodeProto, s: number): number {
  switch (attrString(node, 'nearest_mode', 'round_prefer_floor')) {
    case 'round_prefer_floor':
      return s === Math.floor(s) + 0.5 ? Math.floor(s) : Math.round(s);
    case 'round_prefer_ceil':
      return Math.floor(s + 0.5);
    case 'floor':
      return Math.floor(s);
    default:
      return Math.ceil(s);
  }
}
