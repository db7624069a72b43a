/**
 * Which tensors of an ONNX graph the CAM family can read, and how to turn each into [N, C, h, w]:
 *  - 'map': a convolutional feature map [N, C, h, w];
 *  - 'tokens': a transformer's token sequence [N, T, C] with T = k extra tokens (class, distillation,
 *    register tokens; first, or last where the graph appends its learned token: see learnedTokenSide) + h·w
 *    patch tokens in row-major order;
 *  - 'channels-last': a map stored [N, h, w, C] (Swin's stages).
 * Also the attention Softmax outputs that rollout reads, and the default layer (see `defaultLayerOf`).
 *
 * Shapes come from one probe of the forward graph (autodiff/shapes.ts); whether a rank-4 tensor is NCHW or
 * NHWC is not in the file, so it is followed from the ops that fix it (Conv and pools write NCHW, a
 * LayerNormalization over the last axis reads channels last, a Transpose [0,2,3,1] / [0,3,1,2] swaps).
 */
import { SightlineError } from '../../core/errors.js';
import type { LayerInfo } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';
import { attrInt, attrInts } from './autodiff/attributes.js';
import type { DifferentiablePath } from './autodiff/path.js';
import type { TensorShape } from './autodiff/shapes.js';
import { DataType, type NodeProto } from './proto.js';

/** Class, distillation and register tokens put before the patches: ViT 1, DeiT 2, registers up to 4 more. */
export const MAX_EXTRA_TOKENS = 8;

/** An attention Softmax on the path: its probabilities, batch 1, are [windows, heads, T, T] or [heads, T, T]. */
export interface AttentionNode {
  readonly name: string;
  readonly dims: readonly number[];
  readonly windows: number;
  readonly heads: number;
  readonly tokens: number;
  /** The layer feeding its query/key/value projection, when one could be found. */
  readonly source?: LayerInfo;
  /** Extra tokens after the patch tokens (attention.ts): toHeads moves them first, where rollout reads them. */
  readonly trailingTokens?: number;
}

export interface LayerPlan {
  readonly layers: LayerInfo[];
  readonly defaultLayer: string;
  readonly attention: AttentionNode[];
}

type Layout = 'nchw' | 'nhwc' | undefined;

/** Ops whose rank-4 output is NCHW whatever their input was (ONNX defines them on NCHW). */
const NCHW_OPS = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'BatchNormalization',
  'InstanceNormalization',
  'LRN',
  'Resize',
  'Upsample',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'DepthToSpace',
  'SpaceToDepth',
]);
/** Ops that move elements between axes: their output's layout cannot be read from their input's. */
const REARRANGING = new Set([
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Gather',
  'GatherElements',
  'Einsum',
  'Gemm',
  'MatMul',
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
]);

function layouts(
  path: DifferentiablePath,
  shapes: ReadonlyMap<string, TensorShape>,
  input: string,
  inputLayout: Layout,
) {
  const layout = new Map<string, Layout>([[input, inputLayout]]);
  const rank = (name: string) => shapes.get(name)?.dims.length ?? 0;
  for (const node of path.nodes) {
    const ins = (node.input ?? []).filter((name) => rank(name) === 4 && layout.get(name));
    const known = ins.length > 0 ? layout.get(ins[0]) : undefined;
    let out: Layout;
    if (NCHW_OPS.has(node.opType)) out = 'nchw';
    else if (node.opType === 'Transpose') {
      const perm = (attrInts(node, 'perm') ?? []).join();
      if (known === 'nchw' && perm === '0,2,3,1') out = 'nhwc';
      else if (known === 'nhwc' && perm === '0,3,1,2') out = 'nchw';
    } else if (node.opType === 'LayerNormalization') {
      const axis = attrInt(node, 'axis', -1);
      out = known ?? (rank(node.input?.[0] ?? '') === 4 && (axis === -1 || axis === 3) ? 'nhwc' : undefined);
    } else if (node.opType === 'MatMul') {
      // x @ W with a weight W acts on the last axis, as a Linear on channels-last maps does.
      const [a, b] = node.input ?? [];
      if (layout.get(a) === 'nhwc' && !path.active.has(b)) out = 'nhwc';
    } else if (!REARRANGING.has(node.opType)) out = known;
    for (const name of node.output ?? []) if (rank(name) === 4 && out) layout.set(name, out);
  }
  return layout;
}

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);

/**
 * Where the graph joins its learned tokens (class, distillation, register) to the image's: each Concat on the
 * path that joins tensors computed from the image with a float tensor that is not (a parameter expanded to the
 * batch). 'end' when every such Concat has its learned inputs after its image inputs (torch.cat([x, cls])),
 * else 'start': before (torchvision, timm, Hugging Face), or no such Concat, or a mix, where the usual order
 * is the best guess.
 */
export function learnedTokenSide(path: DifferentiablePath): 'start' | 'end' {
  const float = (name: string) => FLOAT_TYPES.has(path.types.get(name) ?? 0);
  let sides = 0;
  let ends = 0;
  for (const node of path.nodes) {
    if (node.opType !== 'Concat') continue;
    const ins = (node.input ?? []).filter(Boolean);
    const image = ins.flatMap((i, at) => (path.active.has(i) ? [at] : []));
    const learned = ins.flatMap((i, at) => (!path.active.has(i) && float(i) ? [at] : []));
    if (image.length === 0 || learned.length === 0) continue;
    sides++;
    if (Math.min(...learned) > Math.max(...image)) ends++;
  }
  return sides > 0 && ends === sides ? 'end' : 'start';
}

/** Batch 1 on axis 0 and nowhere else (or a graph with a fixed batch of 1). */
function batchFirst(shape: TensorShape): boolean {
  return shape.dims[0] === 1 && shape.batch.every((b, i) => b === (i === 0) || (!b && !shape.batch[0]));
}

/** T tokens on one of the grids seen so far (latest first), else a square after dropping k ≤ 8 tokens. */
function tokenGrid(tokens: number, grids: readonly (readonly [number, number])[]) {
  for (const [h, w] of [...grids].reverse()) {
    const k = tokens - h * w;
    if (k >= 0 && k <= MAX_EXTRA_TOKENS) return { grid: [h, w] as [number, number], extraTokens: k };
  }
  if (grids.length > 0) return undefined;
  for (let k = 0; k <= MAX_EXTRA_TOKENS && k < tokens; k++) {
    const side = Math.round(Math.sqrt(tokens - k));
    if (side > 1 && side * side === tokens - k)
      return { grid: [side, side] as [number, number], extraTokens: k };
  }
  return undefined;
}

/**
 * Lists the layers of a graph (in graph order) with their kind and grid, the attention Softmax nodes, and
 * the default layer. `path` is the differentiable path from the input to the scores, `shapes` the probe's.
 */
export function planLayers(
  path: DifferentiablePath,
  shapes: ReadonlyMap<string, TensorShape>,
  input: string,
  inputLayout: 'NCHW' | 'NHWC',
): LayerPlan {
  const layout = layouts(path, shapes, input, inputLayout === 'NCHW' ? 'nchw' : 'nhwc');
  // The image itself being NHWC (TF, TFLite) says nothing about the layout of the maps computed from it.
  const anyChannelsLast = [...layout].some(([name, l]) => name !== input && l === 'nhwc');
  // A transformer's attention holds rank-4 tensors of unknown layout that are no image ([N, heads, T, T]
  // probabilities, [N, T, heads, d] projections): there an unknown rank-4 tensor is a map only on a grid
  // already seen (a token sequence reshaped back to [N, C, h, w], as hybrid and segmentation heads do).
  const transformer = path.nodes.some(
    (node) =>
      node.opType === 'Softmax' &&
      (node.output ?? []).some((name) => {
        const shape = shapes.get(name);
        return shape !== undefined && isAttention(node, shape);
      }),
  );
  const layers: LayerInfo[] = [];
  const byName = new Map<string, LayerInfo>();
  const grids: [number, number][] = [];
  const seenGrid = (h: number, w: number) => grids.some(([gh, gw]) => gh === h && gw === w);
  const attention: Omit<AttentionNode, 'source'>[] = [];
  const side = learnedTokenSide(path);
  for (const node of path.nodes) {
    for (const name of node.output ?? []) {
      const shape = shapes.get(name);
      if (!shape || !path.needed.has(name)) continue;
      const d = shape.dims;
      let info: LayerInfo | undefined;
      if (d.length === 4 && layout.get(name) === 'nhwc' && batchFirst(shape)) {
        if (d[1] * d[2] > 1) info = { name, dims: d, kind: 'channels-last', grid: [d[1], d[2]] };
      } else if (d.length === 4 && (layout.get(name) === 'nchw' || !anyChannelsLast)) {
        // A rank-4 tensor of unknown layout is read as NCHW (every CNN before transformers), except in a
        // graph that also holds channels-last maps, where it is as likely to be [N, h, w, C]: left out.
        const spatial = layout.get(name) === 'nchw' || !transformer || seenGrid(d[2], d[3]);
        if (d[2] * d[3] > 1 && spatial) info = { name, dims: d, kind: 'map', grid: [d[2], d[3]] };
      } else if (d.length === 3 && batchFirst(shape)) {
        const found = tokenGrid(d[1], grids);
        if (found)
          info = {
            name,
            dims: d,
            kind: 'tokens',
            ...found,
            ...(side === 'end' && found.extraTokens > 0 ? { extraTokensAt: 'end' as const } : {}),
          };
      }
      if (info) {
        if (info.kind !== 'tokens') grids.push(info.grid as [number, number]);
        layers.push(info);
        byName.set(name, info);
      }
      if (node.opType === 'Softmax' && isAttention(node, shape)) {
        const rank4 = d.length === 4;
        attention.push({
          name,
          dims: d,
          windows: rank4 ? d[0] : 1,
          heads: rank4 ? d[1] : d[0],
          tokens: d[d.length - 1],
        });
      }
    }
  }
  if (layers.length === 0) {
    throw new SightlineError(
      'MODEL_SHAPE',
      'The model has no layer CAM methods can read: no spatial feature map ([N, C, h, w] or [N, h, w, C] with h·w > 1) and no token sequence [N, T, C] on a patch grid.',
    );
  }
  const producers = new Map<string, NodeProto>();
  for (const node of path.nodes) for (const name of node.output ?? []) producers.set(name, node);
  const withSources = attention.map((a) => ({
    ...a,
    source: attentionSource(a.name, producers, byName, path.active),
  }));
  return { layers, defaultLayer: defaultLayerOf(layers, withSources, path), attention: withSources };
}

/**
 * A Softmax over the last axis of [.., T, T]: attention probabilities (a classifier's softmax is [N, K]).
 * Only with the batch on axis 0 (images, times heads or windows), the one layout Model.attention can split.
 */
function isAttention(node: NodeProto, shape: TensorShape): boolean {
  const d = shape.dims;
  const axis = attrInt(node, 'axis', -1);
  return (
    d.length >= 3 &&
    d.length <= 4 &&
    d[d.length - 1] === d[d.length - 2] &&
    (axis === -1 || axis === d.length - 1) &&
    shape.batch.slice(1).every((b) => !b)
  );
}

/**
 * The layer feeding an attention's query/key/value projection: walking back from the Softmax through its
 * producers, breadth first, the nearest listed layer reached after passing a projection (a MatMul or Gemm
 * with a weight operand). Layers before that (the projections' own outputs, [N, T, 3C] in a batch-first
 * export) are the attention's internals, not its input.
 */
function attentionSource(
  from: string,
  producers: ReadonlyMap<string, NodeProto>,
  layers: ReadonlyMap<string, LayerInfo>,
  active: ReadonlySet<string>,
): LayerInfo | undefined {
  const seen = new Set<string>();
  let frontier: [string, boolean][] = [[from, false]];
  while (frontier.length > 0) {
    const next: [string, boolean][] = [];
    for (const [name, projected] of frontier) {
      const node = producers.get(name);
      if (!node) continue;
      const inputs = node.input ?? [];
      const projection =
        (node.opType === 'MatMul' || node.opType === 'Gemm') &&
        inputs.slice(0, 2).some((i) => !active.has(i));
      for (const input of inputs) {
        const passed = projected || projection;
        const key = `${input}\n${passed}`;
        if (!active.has(input) || seen.has(key)) continue;
        seen.add(key);
        const layer = layers.get(input);
        if (layer && passed) return layer;
        next.push([input, passed]);
      }
    }
    frontier = next;
  }
  return undefined;
}

/**
 * The default layer. CNNs: the last spatial map (the one global pooling reads). Transformers (attention
 * Softmax nodes on the path): for a ViT, the token sequence feeding the last attention's Q/K/V projection,
 * i.e. the last block's normalised input (pytorch-grad-cam's `blocks[-1].norm1`), found by walking back from
 * the last Softmax (attentionSource); for a windowed, hierarchical transformer (Swin: channels-last maps, or
 * attention over several windows per image; its last stage may be one window, which looks like tokens) the
 * last LayerNormalization output after the last attention, i.e. the last stage's output normalised
 * (torchvision's `norm`), the map practitioners read. Never a layer before the first attention (the patch
 * embedding), which says nothing about what the blocks did.
 */
function defaultLayerOf(layers: LayerInfo[], attention: AttentionNode[], path: DifferentiablePath): string {
  const last = (list: LayerInfo[]) => list[list.length - 1]?.name;
  if (attention.length === 0) return last(layers.filter((l) => l.kind !== 'tokens')) ?? last(layers)!;
  const final = attention[attention.length - 1];
  const hierarchical = layers.some((l) => l.kind === 'channels-last') || attention.some((a) => a.windows > 1);
  if (!hierarchical && final.source?.kind === 'tokens') return final.source.name;
  const order = new Map<string, number>();
  path.nodes.forEach((node, i) => {
    for (const name of node.output ?? []) order.set(name, i);
  });
  const producer = new Map<string, string>();
  for (const node of path.nodes) for (const name of node.output ?? []) producer.set(name, node.opType);
  const after = layers.filter((l) => (order.get(l.name) ?? -1) > (order.get(final.name) ?? 0));
  const firstAttention = order.get(attention[0].name) ?? 0;
  return (
    last(after.filter((l) => producer.get(l.name) === 'LayerNormalization' && l.kind !== 'tokens')) ??
    final.source?.name ??
    last(layers.filter((l) => (order.get(l.name) ?? -1) > firstAttention)) ??
    last(layers)!
  );
}

/** A layer's activations or gradients [N, ...dims] as [N, C, h, w]: extra tokens dropped, channels first. */
export function toNchw(info: LayerInfo, t: Tensor): Tensor {
  if (!info.kind || info.kind === 'map') return t;
  const n = t.dims[0];
  const [h, w] = info.grid!;
  const c = t.dims[t.dims.length - 1];
  const k = info.kind === 'tokens' ? (info.extraTokens ?? 0) : 0;
  const per = (k + h * w) * c;
  // The first patch token's position: after leading extra tokens, or 0 when they trail.
  const first = info.extraTokensAt === 'end' ? 0 : k;
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < h * w; p++) {
      const from = b * per + (first + p) * c;
      for (let ch = 0; ch < c; ch++) out[(b * c + ch) * h * w + p] = t.data[from + ch];
    }
  }
  return { data: out, dims: [n, c, h, w] };
}

/**
 * Each image's top class (the first of its highest scores, as the top-seeded graph's ArgMax picks it) and the
 * one-hot seed [N, K] of those classes.
 */
export function topSeed(scores: Tensor): { seed: Tensor; seeded: number[] } {
  const [n, k] = scores.dims;
  const seed = new Float32Array(n * k);
  const seeded = Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (scores.data[i * k + c] > scores.data[i * k + best]) best = c;
    seed[i * k + best] = 1;
    return best;
  });
  return { seed: { data: seed, dims: [n, k] }, seeded };
}

/** The layer named `name`, or an error that names the last layers a user can pick instead. */
export function findLayer(layers: readonly LayerInfo[], name: string): LayerInfo {
  const info = layers.find((l) => l.name === name);
  if (info) return info;
  const shown = layers.slice(-8).map((l) => `'${l.name}' [${l.dims.join(', ')}]`);
  throw new SightlineError(
    'INVALID_ARGUMENT',
    `Layer '${name}' is not a layer CAM methods can read in this model; the last ones are ${shown.join(', ')}.`,
    { layer: name },
  );
}
