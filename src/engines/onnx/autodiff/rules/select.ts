/** Ops that select or assemble parts of a tensor: Concat, Split, Slice, Gather, Pad. */
import { attr, type NodeProto } from '../../proto.js';
import { attrInt, attrInts, attrString } from '../attributes.js';
import { type GradientContext, unsupported } from '../context.js';
import type { GradientRule } from '../rule.js';
import { applyTransposed } from './axis-matrix.js';

function axisOf(node: NodeProto, ctx: GradientContext, fallback: number, tensor = node.input![0]): number {
  const rank = ctx.rank(tensor);
  const axis = attrInt(node, 'axis', fallback);
  return axis < 0 ? axis + rank : axis;
}

function fixedAxis(node: NodeProto, ctx: GradientContext, tensor: string, axis: number): number {
  const shape = ctx.shape(tensor);
  if (shape.batch[axis]) throw unsupported(node, 'working along the batch axis is not supported');
  return shape.dims[axis];
}

/**
 * The adjoint of picking `positions` (distinct) out of `size` along `axis`: the gradient of each picked
 * element goes back to its position, every other position gets 0. One zero slot is padded onto the end of
 * dy and a constant Gather reads, for every position, its gradient or that slot.
 */
function place(
  ctx: GradientContext,
  node: NodeProto,
  dy: string,
  axis: number,
  rank: number,
  positions: readonly number[],
  size: number,
): string {
  if (new Set(positions).size !== positions.length) {
    throw unsupported(node, 'repeated indices are not supported');
  }
  const consecutive = positions.every((p, j) => p === positions[0] + j);
  if (consecutive) {
    const pads = new Array<number>(2 * rank).fill(0);
    pads[axis] = positions[0] ?? 0;
    pads[rank + axis] = size - (positions[0] ?? 0) - positions.length;
    return ctx.pad(dy, pads);
  }
  const slot = new Array<number>(2 * rank).fill(0);
  slot[rank + axis] = 1;
  const source = new Array<number>(size).fill(positions.length);
  positions.forEach((p, j) => {
    source[p] = j;
  });
  return ctx.emit('Gather', [ctx.pad(dy, slot), ctx.ints(source)], [attr('axis', axis)]);
}

/** Each input's gradient is its stretch of dy along the axis. */
export const concat: GradientRule = (node, [dy], ctx) => {
  const axis = axisOf(node, ctx, 0);
  let offset = 0;
  return node.input!.map((x) => {
    const size = fixedAxis(node, ctx, x, axis);
    const start = offset;
    offset += size;
    return ctx.isActive(x) ? ctx.slice(dy!, [start], [start + size], [axis]) : undefined;
  });
};

/** The output gradients joined along the axis; outputs that receive none contribute zeros. */
export const split: GradientRule = (node, dy, ctx) => {
  const axis = axisOf(node, ctx, 0);
  const parts = node.output!.map((out, i) => dy[i] ?? ctx.zerosLike(out));
  return [parts.length === 1 ? parts[0] : ctx.emit('Concat', parts, [attr('axis', axis)])];
};

/** Slice (any steps, negative indices): each sliced axis places dy's elements back at their positions. */
export const slice: GradientRule = (node, [dy], ctx) => {
  const x = node.input![0];
  const rank = ctx.rank(x);
  const read = (index: number, name: string): number[] | undefined =>
    node.input![index] ? [...ctx.requireConstant(node, index, name).data] : attrInts(node, name);
  const starts = read(1, 'starts')!;
  const ends = read(2, 'ends')!;
  const axes = (read(3, 'axes') ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  const steps = read(4, 'steps') ?? starts.map(() => 1);
  let gradient = dy!;
  axes.forEach((axis, i) => {
    const shape = ctx.shape(x);
    const size = shape.dims[axis];
    const positions = slicePositions(starts[i], ends[i], steps[i], size);
    if (shape.batch[axis]) {
      if (positions.length === size && steps[i] === 1) return;
      throw unsupported(node, 'slicing the batch axis is not supported');
    }
    gradient = place(ctx, node, gradient, axis, rank, positions, size);
  });
  return [gradient];
};

/** The indices ONNX Slice picks along one axis (starts/ends clamped as the spec says). */
function slicePositions(start: number, end: number, step: number, size: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const wrap = (v: number) => (v < 0 ? v + size : v);
  const positions: number[] = [];
  if (step > 0) {
    for (let p = clamp(wrap(start), 0, size), e = clamp(wrap(end), 0, size); p < e; p += step)
      positions.push(p);
  } else {
    for (let p = clamp(wrap(start), 0, size - 1), e = clamp(wrap(end), -1, size - 1); p > e; p += step) {
      positions.push(p);
    }
  }
  return positions;
}

/** Gather with constant, distinct indices (a scalar index drops the axis, which comes back first). */
export const gather: GradientRule = (node, [dy], ctx) => {
  const [x, indices] = node.input!;
  const axis = axisOf(node, ctx, 0);
  const size = fixedAxis(node, ctx, x, axis);
  const value = ctx.requireConstant(node, 1, 'indices');
  if (value.dims.length > 1) throw unsupported(node, 'indices of rank above 1 are not supported');
  if (ctx.isActive(indices)) throw unsupported(node, 'float indices are not supported');
  const positions = value.data.map((i) => (i < 0 ? i + size : i));
  const gradient = value.dims.length === 0 ? ctx.unsqueeze(dy!, [axis]) : dy!;
  return [place(ctx, node, gradient, axis, ctx.rank(x), positions, size)];
};

/** Constant-mode Pad: the gradient is dy with the padding cut away. */
export const pad: GradientRule = (node, [dy], ctx) => {
  const x = node.input![0];
  const rank = ctx.rank(x);
  const mode = attrString(node, 'mode', 'constant');
  const given = node.input![1] ? [...ctx.requireConstant(node, 1, 'pads').data] : attrInts(node, 'pads')!;
  const axes = node.input![3]
    ? ctx.requireConstant(node, 3, 'axes').data.map((a) => (a < 0 ? a + rank : a))
    : Array.from({ length: rank }, (_, i) => i);
  if (given.some((p) => p < 0)) throw unsupported(node, 'negative pads are not supported');
  const half = given.length / 2;
  if (mode !== 'constant') return [borderPadGradient(node, ctx, dy!, mode, given, axes)];
  const largest = 2 ** 62;
  return [
    ctx.slice(
      dy!,
      given.slice(0, half),
      given.slice(half).map((p) => (p > 0 ? -p : largest)),
      axes,
    ),
  ];
};

/**
 * Reflect, edge and wrap padding copy input elements outward, so along each padded axis the output is
 * M·x with M [size + begin + end, size] picking one source per output position; the gradient is Mᵀ·dy.
 */
function borderPadGradient(
  node: NodeProto,
  ctx: GradientContext,
  dy: string,
  mode: string,
  pads: readonly number[],
  axes: readonly number[],
): string {
  const x = node.input![0];
  const rank = ctx.rank(x);
  const half = pads.length / 2;
  let gradient = dy;
  axes.forEach((axis, i) => {
    const [begin, end] = [pads[i], pads[half + i]];
    if (begin === 0 && end === 0) return;
    const size = fixedAxis(node, ctx, x, axis);
    const out = size + begin + end;
    const m = new Float32Array(out * size);
    for (let o = 0; o < out; o++) m[o * size + padSource(node, mode, o - begin, size)] = 1;
    gradient = applyTransposed(ctx, gradient, m, size, out, axis, rank);
  });
  return gradient;
}

/** The input position that padded position p (−begin ≤ p < size + end) copies. */
function padSource(node: NodeProto, mode: string, p: number, size: number): number {
  switch (mode) {
    case 'edge':
      return Math.min(Math.max(p, 0), size - 1);
    case 'wrap':
      return ((p % size) + size) % size;
    case 'reflect': {
      const period = 2 * (size - 1);
      const r = period === 0 ? 0 : ((p % period) + period) % period;
      return r < size ? r : period - r;
    }
    default:
      throw unsupported(node, `mode '${mode}' is not supported`);
  }
}
