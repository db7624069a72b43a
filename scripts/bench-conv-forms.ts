// Compares the ways of writing one Conv layer's input gradient, each as a graph dy → dx, against the layer's
// forward Conv, in one process with the candidates run in alternation: the measurement behind the form
// conv.ts picks per conv kind. Forms: ConvTranspose (one node); phases (conv-geometry.ts: one stride-1 Conv
// per phase with the flipped, channel-transposed taps, then Concat + DepthToSpace; for stride 1 this is the
// single plain Conv); stacked (every phase from one stride-1 Conv with a zero-filled shared window, output
// channels c·P + phase, then DepthToSpace CRD); copies (stacked, with dy's channels repeated so a depthwise
// layer stays depthwise with multiplier 1); dilate (zeros inserted between dy's rows, then the stride-1 form).
// Every form is checked against ConvTranspose's numbers before it is timed.
//   npx tsx scripts/bench-conv-forms.ts             batch 16 and 1, 2 threads
//   BENCH_THREADS=1 BENCH_BATCHES=1 BENCH_REPS=9 BENCH_ONLY=s2 npx tsx scripts/bench-conv-forms.ts
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { GradientContext } from '../src/engines/onnx/autodiff/context.js';
import {
  type ConvGeometry,
  type ConvWeights,
  convInputGradient,
} from '../src/engines/onnx/autodiff/rules/conv-geometry.js';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  type ModelProto,
  valueInfo,
} from '../src/engines/onnx/proto.js';

const batches = (process.env.BENCH_BATCHES ?? '16,1').split(',').map(Number);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const reps = Number(process.env.BENCH_REPS ?? 5);
const only = process.env.BENCH_ONLY;

export interface Layer {
  name: string;
  cin: number;
  cout: number;
  size: number;
  kernel: number;
  stride: number;
  group: number;
  dilation?: number;
}

export const LAYERS: Layer[] = [
  { name: 'MNv2 stem 3×3 s2 3→32 224²', cin: 3, cout: 32, size: 224, kernel: 3, stride: 2, group: 1 },
  { name: 'MNv2 dw 3×3 s1 96 112²', cin: 96, cout: 96, size: 112, kernel: 3, stride: 1, group: 96 },
  { name: 'MNv2 dw 3×3 s2 96 112²', cin: 96, cout: 96, size: 112, kernel: 3, stride: 2, group: 96 },
  { name: 'MNv2 dw 3×3 s2 144 56²', cin: 144, cout: 144, size: 56, kernel: 3, stride: 2, group: 144 },
  { name: 'MNv2 dw 3×3 s1 576 14²', cin: 576, cout: 576, size: 14, kernel: 3, stride: 1, group: 576 },
  { name: 'MNv2 pw 1×1 144→24 56²', cin: 144, cout: 24, size: 56, kernel: 1, stride: 1, group: 1 },
  { name: 'MNv2 pw 1×1 24→144 56²', cin: 24, cout: 144, size: 56, kernel: 1, stride: 1, group: 1 },
  { name: 'R50 stem 7×7 s2 3→64 224²', cin: 3, cout: 64, size: 224, kernel: 7, stride: 2, group: 1 },
  { name: 'R50 3×3 s1 64 56²', cin: 64, cout: 64, size: 56, kernel: 3, stride: 1, group: 1 },
  { name: 'R50 3×3 s2 128 56²', cin: 128, cout: 128, size: 56, kernel: 3, stride: 2, group: 1 },
  { name: 'R50 3×3 s2 256 28²', cin: 256, cout: 256, size: 28, kernel: 3, stride: 2, group: 1 },
  { name: 'R50 1×1 s2 256→512 56²', cin: 256, cout: 512, size: 56, kernel: 1, stride: 2, group: 1 },
  { name: 'R50 1×1 s1 256→64 56²', cin: 256, cout: 64, size: 56, kernel: 1, stride: 1, group: 1 },
  { name: 'ResNeXt 3×3 g32 128 56²', cin: 128, cout: 128, size: 56, kernel: 3, stride: 1, group: 32 },
  { name: 'ResNeXt 3×3 s2 g32 256 56²', cin: 256, cout: 256, size: 56, kernel: 3, stride: 2, group: 32 },
  {
    name: 'dilated 3×3 d2 256 28²',
    cin: 256,
    cout: 256,
    size: 28,
    kernel: 3,
    stride: 1,
    group: 1,
    dilation: 2,
  },
];

export function layerWeights(layer: Layer): Float32Array {
  const n = layer.cout * (layer.cin / layer.group) * layer.kernel ** 2;
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1);
}

export function layerPad(layer: Layer): number {
  return Math.floor(((layer.kernel - 1) * (layer.dilation ?? 1)) / 2);
}

export function layerOutSize(layer: Layer): number {
  const d = layer.dilation ?? 1;
  return Math.floor((layer.size + 2 * layerPad(layer) - (layer.kernel - 1) * d - 1) / layer.stride) + 1;
}

export function convAttributes(layer: Layer) {
  const pad = layerPad(layer);
  const d = layer.dilation ?? 1;
  return [
    attr('kernel_shape', [layer.kernel, layer.kernel]),
    attr('strides', [layer.stride, layer.stride]),
    attr('dilations', [d, d]),
    attr('pads', [pad, pad, pad, pad]),
    attr('group', layer.group),
  ];
}

export function forwardModel(layer: Layer): ModelProto {
  return buildModel({
    inputs: [valueInfo('x', ['N', layer.cin, layer.size, layer.size])],
    outputs: [valueInfo('y', ['N', layer.cout, 'H', 'W'])],
    initializers: [
      floatTensor(
        'w',
        [layer.cout, layer.cin / layer.group, layer.kernel, layer.kernel],
        layerWeights(layer),
      ),
    ],
    nodes: [{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: convAttributes(layer) }],
  });
}

/**
 * The same graph with its output cut to one element. A large graph output is a fresh allocation every run
 * (first-touch page faults cost up to 3× a depthwise layer), while inside a network every tensor comes from
 * ORT's arena; the single-element Slice keeps that cost out of the comparison.
 */
export function tiny(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const names = new Set(graph.output!.map((o) => o.name!));
  const full = (name: string) => (names.has(name) ? `${name}_full` : name);
  const slices = graph.output!.map((out) => {
    const rank = out.type!.tensorType!.shape!.dim!.length;
    return {
      node: {
        opType: 'Slice',
        input: [full(out.name!), `tiny_${rank}`, `tiny_end_${rank}`],
        output: [out.name!],
      },
      rank,
      out: valueInfo(out.name!, new Array(rank).fill(1)),
    };
  });
  const ranks = [...new Set(slices.map((x) => x.rank))];
  return {
    ...model,
    graph: {
      ...graph,
      node: [
        ...graph.node!.map((n) => ({ ...n, input: n.input!.map(full), output: n.output!.map(full) })),
        ...slices.map((x) => x.node),
      ],
      initializer: [
        ...graph.initializer!,
        ...ranks.flatMap((r) => [
          int64Tensor(`tiny_${r}`, [r], new Array(r).fill(0)),
          int64Tensor(`tiny_end_${r}`, [r], new Array(r).fill(1)),
        ]),
      ],
      output: slices.map((x) => x.out),
    },
  };
}

type Form = 'transpose' | 'phases' | 'stacked' | 'copies' | 'dilate';

function backwardModel(layer: Layer, form: Form): ModelProto {
  const out = layerOutSize(layer);
  const d = layer.dilation ?? 1;
  const w = layerWeights(layer);
  const dims = [layer.cout, layer.cin / layer.group, layer.kernel, layer.kernel];
  const g: ConvGeometry = {
    inSize: [layer.size, layer.size],
    outSize: [out, out],
    kernel: [layer.kernel, layer.kernel],
    strides: [layer.stride, layer.stride],
    dilations: [d, d],
    padsBegin: [layerPad(layer), layerPad(layer)],
  };
  const ctx = new GradientContext(
    17,
    new Map(),
    new Set(),
    new Map(),
    [],
    [],
    new Map(),
    new Set(['dy', 'dx']),
  );
  const weights: ConvWeights = { data: w, dims, group: layer.group };
  let result: string;
  if (form === 'transpose') {
    const extra = layer.size + layerPad(layer) - (layer.kernel - 1) * d - 1 - layer.stride * (out - 1);
    result = ctx.emit(
      'ConvTranspose',
      ['dy', ctx.floats(w, dims)],
      [
        attr('kernel_shape', [layer.kernel, layer.kernel]),
        attr('strides', [layer.stride, layer.stride]),
        attr('dilations', [d, d]),
        attr('pads', [layerPad(layer), layerPad(layer), Math.max(0, -extra), Math.max(0, -extra)]),
        attr('output_padding', [Math.max(0, extra), Math.max(0, extra)]),
        attr('group', layer.group),
      ],
    );
  } else if (form === 'phases') {
    result = convInputGradient(ctx, 'dy', g, weights);
  } else if (form === 'dilate') {
    // Zeros between dy's rows, then the stride-1 gradient over the dilated map (4× the taps for stride 2).
    const s = layer.stride;
    const spread = ctx.emit('Reshape', ['dy', ctx.ints([-1, layer.cout, out, 1, out, 1])]);
    const padded = ctx.pad(spread, [0, 0, 0, 0, 0, 0, 0, 0, 0, s - 1, 0, s - 1]);
    const z = ctx.emit('Reshape', [padded, ctx.ints([-1, layer.cout, out * s, out * s])]);
    result = convInputGradient(ctx, z, { ...g, outSize: [out * s, out * s], strides: [1, 1] }, weights);
  } else {
    result = convInputGradientStacked(ctx, 'dy', g, weights, form === 'copies');
  }
  ctx.nodes.push({ opType: 'Identity', input: [result], output: ['dx'] });
  return buildModel({
    inputs: [valueInfo('dy', ['N', layer.cout, out, out])],
    outputs: [valueInfo('dx', ['N', layer.cin, layer.size, layer.size])],
    initializers: ctx.initializers,
    nodes: ctx.nodes,
  });
}

/**
 * The same input gradient as one stride-1 Conv that computes every phase at once: each phase's taps sit in
 * a shared kernel window (zeros where a phase has no tap), output channel ci·P + phase, so DepthToSpace in
 * CRD mode interleaves the phases without a Concat. One larger GEMM instead of P small ones; dilation 1.
 */
function convInputGradientStacked(
  ctx: GradientContext,
  dy: string,
  g: ConvGeometry,
  w: ConvWeights,
  depthwiseCopies = false,
): string {
  const rank = g.kernel.length;
  const [outChannels, inPerGroup, ...kernel] = w.dims;
  const outPerGroup = outChannels / w.group;
  const inChannels = inPerGroup * w.group;
  const quotients = g.inSize.map((h, i) => Math.ceil(h / g.strides[i]));
  // Offsets m = (k − p − a)/s over every tap and phase of each axis; position j of the window is m = mMax − j.
  const mMax = kernel.map((_, i) => Math.floor((kernel[i] - 1 - g.padsBegin[i]) / g.strides[i]));
  const mMin = kernel.map((_, i) => -Math.floor((g.padsBegin[i] + g.strides[i] - 1) / g.strides[i]));
  const lengths = kernel.map((_, i) => mMax[i] - mMin[i] + 1);
  const phases = g.strides.reduce((a, b) => a * b, 1);
  const window = lengths.reduce((a, b) => a * b, 1);
  const kernelSize = kernel.reduce((a, b) => a * b, 1);
  const sub = new Float32Array(inChannels * phases * outPerGroup * window);
  for (let ph = 0; ph < phases; ph++) {
    for (let t = 0; t < window; t++) {
      let restPh = ph;
      let restT = t;
      let source = 0;
      let stride = 1;
      let valid = true;
      for (let i = rank - 1; i >= 0; i--) {
        const a = restPh % g.strides[i];
        restPh = Math.floor(restPh / g.strides[i]);
        const j = restT % lengths[i];
        restT = Math.floor(restT / lengths[i]);
        const k = g.strides[i] * (mMax[i] - j) + g.padsBegin[i] + a;
        if (k < 0 || k >= kernel[i]) valid = false;
        source += k * stride;
        stride *= kernel[i];
      }
      if (!valid) continue;
      for (let group = 0; group < w.group; group++) {
        for (let ci = 0; ci < inPerGroup; ci++) {
          for (let co = 0; co < outPerGroup; co++) {
            const from = ((group * outPerGroup + co) * inPerGroup + ci) * kernelSize + source;
            const to = (((group * inPerGroup + ci) * phases + ph) * outPerGroup + co) * window + t;
            sub[to] = w.data[from];
          }
        }
      }
    }
  }
  const weights = ctx.floats(sub, [inChannels * phases, outPerGroup, ...lengths]);
  const begin = mMax;
  const end = mMin.map((m, i) => quotients[i] - g.outSize[i] - m);
  let input = dy;
  const from = begin.map((b) => Math.max(0, -b));
  const to = end.map((e, i) => g.outSize[i] - Math.max(0, -e));
  if (begin.some((b) => b < 0) || end.some((e) => e < 0)) {
    input = ctx.slice(
      dy,
      from,
      to,
      begin.map((_, i) => 2 + i),
    );
  }
  // Depthwise (one in, one out per group): copying each dy channel P times keeps the Conv depthwise with
  // multiplier 1, the form ORT's NCHWc kernels take, instead of a grouped Conv with P outputs per group.
  const replicate = depthwiseCopies && outPerGroup === 1 && inPerGroup === 1;
  if (replicate) {
    const flat = ctx.emit('Reshape', [input, ctx.ints([0, outChannels, 1, -1])]);
    const copies = ctx.emit('Expand', [flat, ctx.ints([1, 1, phases, 1])]);
    const sizes = to.map((t, i) => t - from[i]);
    input = ctx.emit('Reshape', [copies, ctx.ints([-1, outChannels * phases, ...sizes])]);
  }
  const stacked = ctx.emit(
    'Conv',
    [input, weights],
    [
      attr('kernel_shape', lengths),
      attr(
        'pads',
        [...begin, ...end].map((v) => Math.max(0, v)),
      ),
      attr('group', replicate ? w.group * phases : w.group),
    ],
  );
  return interleave(ctx, stacked, g, inChannels, quotients);
}

/** [N, C·P, Q…] with channel c·P + phase → [N, C, H…] (phase a of axis i lands on rows s_i·q + a). */
function interleave(
  ctx: GradientContext,
  stacked: string,
  g: ConvGeometry,
  channels: number,
  quotients: readonly number[],
): string {
  const rank = g.kernel.length;
  let merged: string;
  if (rank === 2 && g.strides[0] === g.strides[1]) {
    merged = ctx.emit('DepthToSpace', [stacked], [attr('blocksize', g.strides[0]), attr('mode', 'CRD')]);
  } else {
    const split = ctx.emit('Reshape', [stacked, ctx.ints([-1, channels, ...g.strides, ...quotients])]);
    const perm = [0, 1];
    for (let i = 0; i < rank; i++) perm.push(2 + rank + i, 2 + i);
    const moved = ctx.emit('Transpose', [split], [attr('perm', perm)]);
    merged = ctx.emit('Reshape', [
      moved,
      ctx.ints([-1, channels, ...quotients.map((q, i) => q * g.strides[i])]),
    ]);
  }
  const crop = g.inSize.some((h, i) => quotients[i] * g.strides[i] !== h);
  return crop
    ? ctx.slice(
        merged,
        g.inSize.map(() => 0),
        g.inSize,
        g.inSize.map((_, i) => 2 + i),
      )
    : merged;
}

export function filled(dims: number[]): ort.Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: size }, (_, i) => Math.cos(i)),
    dims,
  );
}

export async function session(model: ModelProto): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

/** Best times of alternated runs of every session on its feeds (after one warm-up run each). */
export async function alternate(
  runs: { session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[],
  count = reps,
): Promise<number[]> {
  for (const r of runs) await r.session.run(r.feeds);
  const times = runs.map(() => [] as number[]);
  for (let i = 0; i < count; i++) {
    for (const [j, r] of runs.entries()) {
      const t0 = performance.now();
      await r.session.run(r.feeds);
      times[j].push(performance.now() - t0);
    }
  }
  // The fastest run, not the median: other jobs on a shared machine only ever add time, and alternating keeps
  // every candidate exposed to the same background.
  return times.map((t) => Math.min(...t));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`${threads} threads, best of ${reps} alternated runs; backward-only graphs ÷ forward Conv`);
  console.log('| layer | batch | forward ms | ConvTranspose | phases | stacked | dilate | copies |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const batch of batches) {
    for (const layer of LAYERS) {
      if (only && !layer.name.includes(only)) continue;
      const depthwise = layer.group === layer.cin && layer.group === layer.cout;
      const forms: Form[] = ['transpose', 'phases'];
      if (layer.stride > 1) forms.push('stacked', 'dilate');
      if (layer.stride > 1 && depthwise) forms.push('copies');
      const x = filled([batch, layer.cin, layer.size, layer.size]);
      const dy = filled([batch, layer.cout, layerOutSize(layer), layerOutSize(layer)]);
      const runs: { session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[] = [
        { session: await session(tiny(forwardModel(layer))), feeds: { x } },
      ];
      for (const form of forms)
        runs.push({ session: await session(backwardModel(layer, form)), feeds: { dy } });
      const timed = [
        runs[0],
        ...(await Promise.all(
          forms.map(async (form) => ({
            session: await session(tiny(backwardModel(layer, form))),
            feeds: { dy },
          })),
        )),
      ];
      // Every form must give ConvTranspose's numbers before its time counts.
      const outputs = await Promise.all(
        runs.slice(1).map(async (r) => (await r.session.run(r.feeds)).dx.data as Float32Array),
      );
      for (const [i, o] of outputs.entries()) {
        const err = o.reduce((m, v, j) => Math.max(m, Math.abs(v - outputs[0][j])), 0);
        if (err > 1e-3) throw new Error(`${layer.name}: ${forms[i]} differs from ConvTranspose by ${err}`);
      }
      const [forward, ...rest] = await alternate(timed);
      const cells = rest.map((t) => (t / forward).toFixed(2));
      while (cells.length < 5) cells.push('');
      console.log(`| ${layer.name} | ${batch} | ${forward.toFixed(1)} | ${cells.join(' | ')} |`);
      for (const r of [...runs, ...timed.slice(1)]) await r.session.release();
    }
  }
}
