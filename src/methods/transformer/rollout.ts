/**
 * Attention rollout and gradient-weighted attention rollout: maps from a vision transformer's attention,
 * read from the graph's attention Softmax outputs (Model.attention, capability 'attention').
 *
 * Both follow the class token back through the blocks: per block l an attention matrix A_l [T, T] with rows
 * that sum to 1, R = A_L ··· A_1, and the map is the class token's row R[0, k:] over the h·w patch tokens
 * (k = class and other extra tokens), on the patch grid, upsampled bilinearly like the CAM family. Only
 * that row is needed, so it is computed as e₀ᵀ A_L ··· A_1, vector by matrix, O(L·T²) rather than O(L·T³).
 */
import type { AttributionMap } from '../../core/attribution.js';
import { SightlineError, throwIfAborted } from '../../core/errors.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import type { AttentionResult } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';
import { camToMap } from '../cam/base.js';
import { oneHot } from '../gradient/common.js';

export const HEAD_FUSIONS = ['mean', 'max', 'min'] as const;
export type HeadFusion = (typeof HEAD_FUSIONS)[number];

export interface RolloutOptions extends MethodOptions {
  headFusion: HeadFusion;
  discardRatio: number;
}

/**
 * R[0, :] = e₀ᵀ Â_L ··· Â_1 with Â = fused + I, rows normalised. Abnar & Zuidema's residual average
 * 0.5·A + 0.5·I is the same matrix once rows are normalised; the rows are normalised (as the paper defines)
 * rather than divided column-wise as jacobgil/vit-explain's `a / a.sum(dim=-1)` broadcasts, which differs
 * only when max/min fusion or discarding leaves rows that do not sum to 1. Every row sums to at least 1
 * (the identity, and fused values are ≥ 0), so the division is safe.
 */
function classRow(blocks: number, tokens: number, fused: (block: number) => Float64Array): Float64Array {
  let row = new Float64Array(tokens);
  row[0] = 1;
  for (let l = blocks - 1; l >= 0; l--) {
    const a = fused(l);
    for (let i = 0; i < tokens; i++) a[i * tokens + i] += 1;
    const next = new Float64Array(tokens);
    for (let i = 0; i < tokens; i++) {
      if (row[i] === 0) continue;
      const r = a.subarray(i * tokens, (i + 1) * tokens);
      const scale = row[i] / r.reduce((x, y) => x + y, 0);
      for (let j = 0; j < tokens; j++) next[j] += scale * r[j];
    }
    row = next;
  }
  return row;
}

/**
 * Zeroes the lowest `ratio` of a fused matrix's T² entries, as jacobgil/vit-explain does (never flat index 0,
 * the class token's attention to itself), to sharpen the map.
 */
function discard(a: Float64Array, ratio: number): void {
  const drop = Math.floor(a.length * ratio);
  if (drop <= 0) return;
  // The drop-th smallest value by a typed sort (T² can be millions), ties at it dropped lowest index first.
  const cut = Float64Array.from(a).sort()[drop - 1];
  let ties = drop;
  for (let i = 0; i < a.length; i++) if (a[i] < cut) ties--;
  for (let i = 0; i < a.length; i++) {
    const dropped = a[i] < cut || (a[i] === cut && ties-- > 0);
    if (dropped && i !== 0) a[i] = 0;
  }
}

function fuseHeads(p: Tensor, b: number, fusion: HeadFusion, grad?: Tensor): Float64Array {
  const [, heads, t] = p.dims;
  const size = t * t;
  const out = new Float64Array(size);
  const base = b * heads * size;
  if (grad) {
    // Chefer et al.: mean over heads of (∂y/∂A ⊙ A)⁺.
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < size; i++)
        out[i] += Math.max(0, grad.data[base + h * size + i] * p.data[base + h * size + i]) / heads;
    return out;
  }
  if (fusion === 'mean') {
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < size; i++) out[i] += p.data[base + h * size + i] / heads;
    return out;
  }
  const pick = fusion === 'max' ? Math.max : Math.min;
  out.set(p.data.subarray(base, base + size));
  for (let h = 1; h < heads; h++)
    for (let i = 0; i < size; i++) out[i] = pick(out[i], p.data[base + h * size + i]);
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020, §3):
 * per block, heads fused (mean by default; max/min and the discard ratio as jacobgil/vit-explain offers),
 * A = (Ā + I)/2 for the residual connection, rows normalised, multiplied through the blocks. The map of
 * image `b` on the patch grid, h·w values row-major.
 */
export function rolloutMap(a: AttentionResult, b: number, options: RolloutOptions): Float32Array {
  const t = a.probabilities[0].dims[2];
  const row = classRow(a.probabilities.length, t, (l) => {
    const fused = fuseHeads(a.probabilities[l], b, options.headFusion);
    discard(fused, options.discardRatio);
    return fused;
  });
  return Float32Array.from(row.subarray(a.extraTokens));
}

/**
 * Gradient-weighted attention rollout (Chefer, Gur & Wolf, "Transformer Interpretability Beyond Attention
 * Visualization", CVPR 2021, with the attention map in place of its LRP relevance, as the same authors'
 * "Generic Attention-model Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers",
 * ICCV 2021, do): per block
 * Ā = E_h[(∇A ⊙ A)⁺] with ∇A the gradient of the target's raw score, then Ā + I with rows normalised and
 * multiplied through the blocks, as their code's compute_rollout_attention does
 * (hila-chefer/Transformer-Explainability, baselines/ViT/ViT_explanation_generator.py).
 */
export function gradRolloutMap(a: AttentionResult, b: number): Float32Array {
  if (!a.gradients)
    throw new SightlineError('INVALID_ARGUMENT', 'Gradient rollout needs the attention gradients (a seed).');
  const t = a.probabilities[0].dims[2];
  const row = classRow(a.probabilities.length, t, (l) =>
    fuseHeads(a.probabilities[l], b, 'mean', a.gradients![l]),
  );
  return Float32Array.from(row.subarray(a.extraTokens));
}

async function readAttention(input: MethodInput, withGradients: boolean): Promise<AttentionResult> {
  const { model } = input;
  if (!model.attention || !model.capabilities.has('attention')) {
    throw new SightlineError(
      'MISSING_CAPABILITY',
      'This model exposes no attention; rollout needs an ONNX vision transformer.',
      { capability: 'attention' },
    );
  }
  throwIfAborted(input.signal);
  input.onProgress?.({ done: 0, total: 1, unit: 'passes' });
  const seed = withGradients ? oneHot(1, input.classes, input.target) : null;
  const result = await model.attention(input.input, seed, { signal: input.signal });
  input.onProgress?.({ done: 1, total: 1, unit: 'passes' });
  return result;
}

function toMap(input: MethodInput, a: AttentionResult, grid: Float32Array): AttributionMap {
  const [height, width] = a.grid;
  return camToMap(input, { channels: a.probabilities[0].dims[1], width, height, activations: grid }, grid, {
    blocks: a.probabilities.length,
    tokens: a.probabilities[0].dims[2],
  });
}

export const attentionRollout: AttributionMethod<RolloutOptions> = {
  id: 'attention-rollout',
  title: 'Attention rollout',
  description:
    "A vision transformer's attention followed from the class token back through every block (not class-specific).",
  requires: ['attention'],
  random: false,
  defaults: { headFusion: 'mean', discardRatio: 0 },
  options: {
    headFusion: {
      type: 'choice',
      description: 'How the heads of a block are combined.',
      choices: HEAD_FUSIONS,
    },
    discardRatio: {
      type: 'number',
      description: 'Fraction of the weakest attention weights zeroed in each block (vit-explain uses 0.9).',
      min: 0,
      max: 0.99,
    },
  },
  passes: () => 1,
  async attribute(input, options) {
    const a = await readAttention(input, false);
    return toMap(input, a, rolloutMap(a, 0, options));
  },
};

export const gradRollout: AttributionMethod<MethodOptions> = {
  id: 'grad-rollout',
  title: 'Gradient-weighted rollout',
  description: "Attention rollout weighted by the target's gradient (Chefer et al.): class-specific.",
  requires: ['attention'],
  random: false,
  defaults: {},
  options: {},
  passes: () => 1,
  async attribute(input) {
    const a = await readAttention(input, true);
    return toMap(input, a, gradRolloutMap(a, 0));
  },
};
