/**
 * The input gradient of a (grouped, strided, dilated, padded) convolution written as stride-1 Conv nodes,
 * which ONNX Runtime runs about as fast as the forward layer, instead of ConvTranspose (1.7–3.8× slower
 * for stride 1, see DESIGN.md "Speed facts"). Conv layers use it for stride 1 (strided ones measured
 * faster as ConvTranspose, see conv.ts); pools use it for every stride, since their ceil-mode windows need
 * no output_padding bookkeeping here.
 *
 * Along one axis the forward conv reads y[o] = Σ_k w[k]·x[o·s + k·d − p]. So input position i = s·q + a
 * (phase a = i mod s) receives dx[s·q + a] = Σ_{k∈K_a} w[k]·dy[q − m_k], with K_a the taps where
 * k·d − p − a ≡ 0 (mod s) and m_k = (k·d − p − a)/s. Within a phase the m_k are spaced by d/gcd(d, s), so
 * each phase is a plain stride-1 correlation of dy with the flipped, channel-transposed taps K_a, dilated
 * by d/gcd(d, s). Phases (the product over spatial axes) are computed separately, stacked on the channel
 * axis and interleaved back with one Reshape–Transpose–Reshape. The work adds up to exactly one forward
 * pass; with stride 1 there is a single phase and no interleave.
 */
import { attr } from '../../proto.js';
import type { GradientContext } from '../context.js';

export interface ConvGeometry {
  /** Spatial sizes of the forward input and output. */
  readonly inSize: readonly number[];
  readonly outSize: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Padding before each spatial axis (padding after only decides outSize, which is given). */
  readonly padsBegin: readonly number[];
}

/**
 * The forward weights [C_out, C_in/group, k…] and group count, and the name of the tensor that holds them
 * (a Conv's kernel; pools have none). A named kernel whose phase takes every tap (stride 1) is flipped and
 * channel-transposed by nodes over it, which ONNX Runtime's constant folding computes once as the session
 * loads when an initializer or Constant node holds the kernel (a kernel the graph computes, e.g. through a
 * DequantizeLinear ORT leaves unfolded, is flipped on each run): natively, without a second copy of every
 * kernel in the graph (for InceptionV3, 85 MB that took seconds to compute in JS, encode and store), and
 * with the graph's weights swapped (session.ts withWeights) the flip reads the new ones. `data` is then
 * never read, so it may be a getter that reads the tensor on demand.
 */
export interface ConvWeights {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  readonly group: number;
  readonly name?: string;
}

interface AxisPhase {
  /** Kernel taps of this phase, ascending. */
  readonly taps: number[];
  /** Largest m_k (the conv's begin padding) and spacing of the m_k (its dilation). */
  readonly mMax: number;
  readonly dilation: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function axisPhases(g: ConvGeometry, axis: number): AxisPhase[] {
  const s = g.strides[axis];
  const d = g.dilations[axis];
  const p = g.padsBegin[axis];
  const phases: AxisPhase[] = [];
  for (let a = 0; a < s; a++) {
    const taps: number[] = [];
    for (let k = 0; k < g.kernel[axis]; k++) if ((((k * d - p - a) % s) + s) % s === 0) taps.push(k);
    const mMax = taps.length > 0 ? (taps[taps.length - 1] * d - p - a) / s : 0;
    phases.push({ taps, mMax, dilation: d / gcd(d, s) });
  }
  return phases;
}

/** Every combination of one phase per axis, the first axis varying slowest. */
function product<T>(lists: readonly T[][]): T[][] {
  return lists.reduce<T[][]>(
    (acc, list) => acc.flatMap((prefix) => list.map((item) => [...prefix, item])),
    [[]],
  );
}

export function convInputGradient(ctx: GradientContext, dy: string, g: ConvGeometry, w: ConvWeights): string {
  const rank = g.kernel.length;
  const inChannels = w.dims[1] * w.group;
  const quotients = g.inSize.map((h, i) => Math.ceil(h / g.strides[i]));
  const phaseLists = g.kernel.map((_, i) => axisPhases(g, i));
  const combos = product(phaseLists);
  const results: (string | undefined)[] = combos.map((phases) =>
    phases.every((ph) => ph.taps.length > 0) ? phaseConv(ctx, dy, g, w, phases, quotients) : undefined,
  );
  const reference = results.find((r) => r !== undefined)!;
  const filled = results.map((r) => r ?? ctx.zerosLike(reference));
  if (filled.length === 1) return filled[0];

  // [N, P·C, Q…] → [N, s_1…s_r, C, Q_1…Q_r] → [N, C, Q_1, s_1, …, Q_r, s_r] → [N, C, Q_1·s_1, …].
  const stacked = ctx.emit('Concat', filled, [attr('axis', 1)]);
  const crop = g.inSize.map((h, i) => quotients[i] * g.strides[i] !== h);
  const cropped = (full: string) =>
    crop.some(Boolean)
      ? ctx.slice(
          full,
          g.inSize.map(() => 0),
          g.inSize,
          g.inSize.map((_, i) => 2 + i),
        )
      : full;
  // DepthToSpace (DCR) reads channel (a·s + b)·C + c, the stacking order, and measured faster than the
  // general Reshape–Transpose–Reshape, which other ranks and unequal strides use.
  if (rank === 2 && g.strides[0] === g.strides[1]) {
    return cropped(ctx.emit('DepthToSpace', [stacked], [attr('blocksize', g.strides[0])]));
  }
  const split = ctx.emit('Reshape', [stacked, ctx.ints([-1, ...g.strides, inChannels, ...quotients])]);
  const perm = [0, rank + 1];
  for (let i = 0; i < rank; i++) perm.push(rank + 2 + i, 1 + i);
  const moved = ctx.emit('Transpose', [split], [attr('perm', perm)]);
  const merged = ctx.emit('Reshape', [
    moved,
    ctx.ints([-1, inChannels, ...quotients.map((q, i) => q * g.strides[i])]),
  ]);
  return cropped(merged);
}

/** One phase: a stride-1 Conv of dy with this phase's taps, flipped and with in/out channels swapped. */
function phaseConv(
  ctx: GradientContext,
  dy: string,
  g: ConvGeometry,
  w: ConvWeights,
  phases: readonly AxisPhase[],
  quotients: readonly number[],
): string {
  const kernel = w.dims.slice(2);
  const lengths = phases.map((ph) => ph.taps.length);
  const weights =
    w.name !== undefined && lengths.every((l, i) => l === kernel[i])
      ? flippedInGraph(ctx, w.name, w.dims, w.group)
      : flippedTaps(ctx, w, phases, lengths);
  // Begin padding m_max reads dy[q − m_k]; end padding makes the output Q long. Negative amounts crop dy.
  const begin = phases.map((ph) => ph.mMax);
  const end = phases.map((ph, i) => quotients[i] - g.outSize[i] - ph.mMax + ph.dilation * (lengths[i] - 1));
  let input = dy;
  if (begin.some((b) => b < 0) || end.some((e) => e < 0)) {
    input = ctx.slice(
      dy,
      begin.map((b) => Math.max(0, -b)),
      end.map((e, i) => g.outSize[i] - Math.max(0, -e)),
      begin.map((_, i) => 2 + i),
    );
  }
  return ctx.emit(
    'Conv',
    [input, weights],
    [
      attr('kernel_shape', lengths),
      attr(
        'dilations',
        phases.map((ph) => ph.dilation),
      ),
      attr(
        'pads',
        [...begin, ...end].map((v) => Math.max(0, v)),
      ),
      attr(
        'strides',
        lengths.map(() => 1),
      ),
      attr('group', w.group),
    ],
  );
}

/** This phase's taps as a constant: flipped, with in/out channels swapped within each group. */
function flippedTaps(
  ctx: GradientContext,
  w: ConvWeights,
  phases: readonly AxisPhase[],
  lengths: readonly number[],
): string {
  const rank = phases.length;
  const [outChannels, inPerGroup, ...kernel] = w.dims;
  const outPerGroup = outChannels / w.group;
  const taps = lengths.reduce((a, b) => a * b, 1);
  const sub = new Float32Array(inPerGroup * w.group * outPerGroup * taps);
  const kernelStrides = kernel.map((_, i) => kernel.slice(i + 1).reduce((a, b) => a * b, 1));
  const kernelSize = kernel.reduce((a, b) => a * b, 1);
  // Position t of the phase kernel holds tap taps[L − 1 − j] on each axis (the flip).
  const sources = new Int32Array(taps);
  for (let t = 0; t < taps; t++) {
    let rest = t;
    let source = 0;
    for (let i = rank - 1; i >= 0; i--) {
      const j = rest % lengths[i];
      rest = Math.floor(rest / lengths[i]);
      source += phases[i].taps[lengths[i] - 1 - j] * kernelStrides[i];
    }
    sources[t] = source;
  }
  // Source order (group, co, ci), so each read stays inside one kernel and each write fills one run of taps.
  const data = w.data;
  for (let group = 0; group < w.group; group++) {
    for (let co = 0; co < outPerGroup; co++) {
      for (let ci = 0; ci < inPerGroup; ci++) {
        const from = ((group * outPerGroup + co) * inPerGroup + ci) * kernelSize;
        const to = ((group * inPerGroup + ci) * outPerGroup + co) * taps;
        for (let t = 0; t < taps; t++) sub[to + t] = data[from + sources[t]];
      }
    }
  }
  return ctx.floats(sub, [inPerGroup * w.group, outPerGroup, ...lengths]);
}

/**
 * The whole kernel flipped on every spatial axis (Slice with step −1) and channel-transposed per group:
 * [G·O, I, k…] → [G, O, I, k…] → [G, I, O, k…] → [G·I, O, k…] (one Transpose when G = 1, none for a
 * depthwise kernel with one output per group, whose swap moves nothing).
 */
function flippedInGraph(ctx: GradientContext, name: string, dims: readonly number[], group: number): string {
  const [outChannels, inPerGroup, ...kernel] = dims;
  const outPerGroup = outChannels / group;
  const axes = kernel.map((_, i) => 2 + i).filter((a) => dims[a] > 1);
  const flipped =
    axes.length === 0
      ? name
      : ctx.emit('Slice', [
          name,
          ctx.ints(axes.map(() => -1)),
          ctx.ints(axes.map((a) => -dims[a] - 1)),
          ctx.ints(axes),
          ctx.ints(axes.map(() => -1)),
        ]);
  if (group === 1) {
    return inPerGroup === 1 && outChannels === 1
      ? flipped
      : ctx.emit('Transpose', [flipped], [attr('perm', [1, 0, ...kernel.map((_, i) => 2 + i)])]);
  }
  if (inPerGroup === 1 || outPerGroup === 1) {
    // One side of each group's matrix is 1, so the swap is a reshape.
    return inPerGroup === 1 && outPerGroup === 1
      ? flipped
      : ctx.emit('Reshape', [flipped, ctx.ints([inPerGroup * group, outPerGroup, ...kernel])]);
  }
  const split = ctx.emit('Reshape', [flipped, ctx.ints([group, outPerGroup, inPerGroup, ...kernel])]);
  const swapped = ctx.emit('Transpose', [split], [attr('perm', [0, 2, 1, ...kernel.map((_, i) => 3 + i)])]);
  return ctx.emit('Reshape', [swapped, ctx.ints([inPerGroup * group, outPerGroup, ...kernel])]);
}

/** Explicit begin paddings of a Conv or pool node, resolving auto_pad from the static sizes. */
export function beginPads(
  autoPad: string,
  pads: readonly number[] | undefined,
  g: Omit<ConvGeometry, 'padsBegin' | 'outSize'>,
): number[] {
  const rank = g.kernel.length;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    return g.inSize.map((h, i) => {
      const out = Math.ceil(h / g.strides[i]);
      const total = Math.max(0, (out - 1) * g.strides[i] + (g.kernel[i] - 1) * g.dilations[i] + 1 - h);
      return autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    });
  }
  if (autoPad === 'VALID') return new Array<number>(rank).fill(0);
  return pads ? pads.slice(0, rank) : new Array<number>(rank).fill(0);
}
