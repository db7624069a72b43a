/**
 * Which attention Softmax outputs rollout reads, and their layout. Rollout (Abnar & Zuidema 2020) follows
 * the class token through every block's attention over the whole sequence, so it is defined only when every
 * block attends globally over the same T = extra tokens + h·w tokens with a class token (first, or last
 * where the graph appends it); a
 * windowed transformer (Swin) or one that pools its tokens (no class token) is refused with the reason.
 */
import { SightlineError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { type DifferentiablePath, differentiablePath } from './autodiff/path.js';
import type { AttentionNode, LayerPlan } from './layers.js';
import { DataType, type ModelProto, type NodeProto } from './proto.js';

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);

/** Ops between the attention scores q·kᵀ and their Softmax: scaling, bias and mask adds, reshapes. */
const SCORE_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Reshape', 'Where', 'Cast', 'Identity', 'Transpose']);

/**
 * Whether rollout can read the graph's attention, known without running it (so capability 'attention' is
 * offered only where rollout runs, and menus do not offer it to a CNN or a Swin): a Softmax on the path whose
 * input comes, through scaling, bias and reshapes, from a MatMul of two tensors computed from the image
 * (q·kᵀ; a classifier's Softmax reads a MatMul or Gemm with a weight), and a learned token joined to the
 * image's tokens (hasLearnedToken). A windowed transformer (Swin) and one that pools its patch tokens have no
 * such token, and rollout, which follows the class token, would refuse them after a run (attentionBlocks).
 */
export function hasAttention(proto: ModelProto, input: string, output: string): boolean {
  const path = differentiablePath(proto, input, [output]);
  const producers = new Map<string, NodeProto>();
  for (const node of path.nodes) for (const name of node.output ?? []) producers.set(name, node);
  const fromScores = (name: string, depth: number): boolean => {
    const node = producers.get(name);
    if (!node || depth > 6) return false;
    const ins = node.input ?? [];
    if (node.opType === 'MatMul') return ins.length === 2 && ins.every((i) => path.active.has(i));
    return SCORE_OPS.has(node.opType) && ins.some((i) => path.active.has(i) && fromScores(i, depth + 1));
  };
  return (
    path.nodes.some((n) => n.opType === 'Softmax' && fromScores(n.input?.[0] ?? '', 0)) &&
    hasLearnedToken(path)
  );
}

/**
 * A class (or distillation, or register) token: a Concat on the path that joins tensors computed from the
 * image with a float tensor that is not (a parameter, expanded to the batch), as torchvision's, timm's and
 * Hugging Face's ViTs prepend theirs. Swin's Concats (patch merging, the shifted windows' roll) join image
 * tensors only.
 */
function hasLearnedToken(path: DifferentiablePath): boolean {
  const float = (name: string) => FLOAT_TYPES.has(path.types.get(name) ?? 0);
  return path.nodes.some((n) => {
    if (n.opType !== 'Concat') return false;
    const ins = (n.input ?? []).filter(Boolean);
    return ins.some((i) => path.active.has(i)) && ins.some((i) => !path.active.has(i) && float(i));
  });
}

export interface AttentionBlocks {
  readonly blocks: readonly AttentionNode[];
  readonly grid: readonly [number, number];
  readonly extraTokens: number;
}

const refuse = (why: string) =>
  new SightlineError(
    'MODEL_SHAPE',
    `Attention rollout cannot run on this model: ${why}. It needs a ViT-style model whose every block attends over all tokens, with a class token; Grad-CAM and the other CAM methods read its token layers instead.`,
  );

export function attentionBlocks(plan: LayerPlan): AttentionBlocks {
  const blocks = plan.attention;
  const hierarchical = plan.layers.some((l) => l.kind === 'channels-last');
  if (blocks.length === 0)
    throw refuse('its graph has no attention Softmax ([.., T, T] probabilities) on the path to the scores');
  const windowed = blocks.find((b) => b.windows > 1 || b.source?.kind === 'channels-last' || hierarchical);
  if (windowed) {
    throw refuse(
      `its attention runs in local windows (Softmax '${windowed.name}' is [${windowed.dims.join(', ')}] per image, Swin-style), so no token attends to the whole image`,
    );
  }
  const source = blocks[blocks.length - 1].source;
  if (source?.kind !== 'tokens' || source.grid === undefined) {
    throw refuse(
      `the tokens feeding attention '${blocks[blocks.length - 1].name}' could not be placed on a patch grid`,
    );
  }
  const tokens = source.dims[1];
  const odd = blocks.find((b) => b.tokens !== tokens);
  if (odd) throw refuse(`attention '${odd.name}' is over ${odd.tokens} tokens, the sequence has ${tokens}`);
  if (!source.extraTokens) {
    throw refuse(
      `its ${tokens} tokens are all patch tokens (${source.grid.join(' × ')}): there is no class token whose attention rollout follows`,
    );
  }
  // Trailing extra tokens are moved first (toHeads), so rollout reads the class token's row at 0 as usual.
  const trailing = source.extraTokensAt === 'end' ? source.extraTokens : 0;
  return {
    blocks: trailing ? blocks.map((b) => ({ ...b, trailingTokens: trailing })) : blocks,
    grid: source.grid,
    extraTokens: source.extraTokens,
  };
}

/** Probabilities as the graph holds them, [N·heads, T, T] or [N, heads, T, T], as [N, heads, T, T]. */
export function toHeads(block: AttentionNode, t: Tensor): Tensor {
  const size = block.tokens;
  const n = t.data.length / (block.heads * size * size);
  // torch's MultiheadAttention folds heads into the batch axis batch-major (index n·heads + h), so a plain
  // reshape separates them.
  const dims = [n, block.heads, size, size];
  const k = block.trailingTokens ?? 0;
  if (!k) return { data: t.data, dims };
  // Extra tokens after the patches: rows and columns reordered to extras first (P A Pᵀ). Rollout's
  // residual, normalisation and products commute with a reordering of the tokens, so its class row is the same.
  const patches = size - k;
  const old = (i: number) => (i < k ? patches + i : i - k);
  const data = new Float32Array(t.data.length);
  for (let m = 0; m < n * block.heads; m++) {
    const base = m * size * size;
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++) data[base + i * size + j] = t.data[base + old(i) * size + old(j)];
  }
  return { data, dims };
}
