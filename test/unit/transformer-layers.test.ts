/**
 * Which layers a graph offers (engines/onnx/layers.ts): CNNs keep exactly the maps and default they had
 * (every rank-4 tensor with h·w > 1 on the path, the last one the default), ViTs offer token sequences on
 * their patch grid, and the grid rules (extra tokens, sequence-first tensors, square fallback) hold on
 * hand-made shapes. Rollout's refusals name their reason.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LayerInfo } from '../../src/core/model.js';
import { attentionBlocks } from '../../src/engines/onnx/attention.js';
import { differentiablePath } from '../../src/engines/onnx/autodiff/path.js';
import { probeModel, type TensorShape } from '../../src/engines/onnx/autodiff/shapes.js';
import { type AttentionNode, planLayers, toNchw } from '../../src/engines/onnx/layers.js';
import type { NodeProto } from '../../src/engines/onnx/proto.js';
import { openOnnxModel } from '../../src/models/open.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

describe('CNNs: the layer list and default are what they were before token layers', () => {
  it.each(['net_tiny_cnn', 'net_tiny_resnet', 'net_mobilenet_v2', 'net_shufflenet_v2'])(
    '%s',
    async (name) => {
      const model = await openOnnxModel(readFileSync(`${GOLDEN}${name}.onnx`), {});
      try {
        // The rule before this change, computed here from the graph: rank-4 tensors on the path, h·w > 1.
        const path = differentiablePath(model.proto, 'input', ['output']);
        const probe = await probeModel(model.proto, 'input', new Set());
        const before = path.nodes
          .flatMap((n) => n.output ?? [])
          .filter((t) => path.needed.has(t))
          .filter((t) => {
            const d = probe.shapes.get(t)?.dims ?? [];
            return d.length === 4 && d[2] * d[3] > 1;
          });
        const { layers, defaultLayer } = await model.layers();
        expect(before.length).toBeGreaterThan(2);
        expect(layers.map((l) => l.name)).toEqual(before);
        expect(layers.every((l) => l.kind === 'map')).toBe(true);
        expect(defaultLayer).toBe(before[before.length - 1]);
        expect(model.capabilities.has('attention')).toBe(false);
      } finally {
        await model.dispose();
      }
    },
  );
});

describe('the golden tiny ViT', () => {
  it('offers token layers on its 4 × 4 grid (1 class token), defaults to the last ln_1, and has attention', async () => {
    const model = await openOnnxModel(readFileSync(`${GOLDEN}net_tiny_vit.onnx`), {});
    try {
      const { layers, defaultLayer } = await model.layers();
      expect(defaultLayer).toBe('/encoder/layers/encoder_layer_1/ln_1/LayerNormalization_output_0');
      const tokens = layers.filter((l) => l.kind === 'tokens');
      expect(tokens.length).toBeGreaterThan(10);
      for (const l of tokens) expect(l.grid).toEqual([4, 4]);
      expect(tokens.filter((l) => l.dims[1] === 17).every((l) => l.extraTokens === 1)).toBe(true);
      // No sequence-first tensor ([T, N, C] inside torch's MultiheadAttention) is offered.
      expect(layers.some((l) => l.dims[0] !== 1)).toBe(false);
      expect(model.capabilities.has('attention')).toBe(true);
    } finally {
      await model.dispose();
    }
  });
});

describe("attention's own rank-4 tensors are not feature maps", () => {
  it('the batch-first ViT (timm / Hugging Face layout) lists only its patch map and token layers', async () => {
    const file = fileURLToPath(
      new URL('../fixtures/transformers/vit_tiny_batch_first.onnx', import.meta.url),
    );
    const model = await openOnnxModel(readFileSync(file), {});
    try {
      const { layers } = await model.layers();
      // Before: 22 more 'map' layers such as Softmax [1, 2, 17, 17] (grid 17 × 17, the token count) and the
      // per-head projections [1, 17, 2, 16] (grid 2 × 16), offered to --layer as if they were images.
      expect(layers.filter((l) => l.kind === 'map').map((l) => l.name)).toEqual(['/conv_proj/Conv_output_0']);
      for (const l of layers) expect(l.grid).toEqual([4, 4]);
      const softmax = '/encoder/layers/encoder_layer_1/self_attention/Softmax_output_0';
      const x = { data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] };
      await expect(model.layer!(softmax, x, null)).rejects.toThrow(/is not a layer CAM methods can read/);
    } finally {
      await model.dispose();
    }
  });

  it('keeps a token sequence reshaped back onto the patch grid (hybrid and segmentation heads)', () => {
    const { layers } = plan([
      { op: 'Conv', dims: [1, 8, 4, 4] },
      { op: 'Reshape', dims: [1, 17, 8] },
      { op: 'Reshape', dims: [1, 17, 2, 4] },
      { op: 'Softmax', dims: [1, 2, 17, 17] },
      { op: 'Reshape', dims: [1, 8, 4, 4] },
      { op: 'Reshape', dims: [1, 8, 2, 8] },
    ]);
    expect(layers.map((l) => [l.name, l.kind, l.grid])).toEqual([
      ['t0', 'map', [4, 4]],
      ['t1', 'tokens', [4, 4]],
      ['t4', 'map', [4, 4]],
    ]);
  });
});

/** A hand-made path: each node writes one tensor of the given shape (batch on axis `batchAxis`). */
function plan(specs: { op: string; dims: number[]; batchAxis?: number; input?: string[] }[]) {
  const shapes = new Map<string, TensorShape>();
  const nodes: NodeProto[] = specs.map((s, i) => {
    const name = `t${i}`;
    shapes.set(name, { dims: s.dims, batch: s.dims.map((_, a) => a === (s.batchAxis ?? 0)) });
    return { opType: s.op, input: s.input ?? [i === 0 ? 'x' : `t${i - 1}`], output: [name] };
  });
  shapes.set('x', { dims: [1, 3, 32, 32], batch: [true, false, false, false] });
  const names = new Set(['x', ...nodes.map((n) => n.output![0])]);
  const path = { nodes, unsupported: [], active: names, types: new Map(), needed: names };
  return planLayers(path, shapes, 'x', 'NCHW');
}

describe('token grids', () => {
  it('places 1 class + 4 register tokens before a 4 × 4 patch grid, and skips [T, N, C] and [N, C, T]', () => {
    const { layers } = plan([
      { op: 'Conv', dims: [1, 8, 4, 4] },
      { op: 'Reshape', dims: [1, 8, 16] }, // [N, C, T]: 8 "tokens" fit no grid
      { op: 'Concat', dims: [1, 21, 8] },
      { op: 'Transpose', dims: [21, 1, 8], batchAxis: 1 },
      { op: 'LayerNormalization', dims: [1, 21, 8], input: ['t2'] },
    ]);
    expect(layers.map((l) => [l.name, l.kind, l.grid, l.extraTokens])).toEqual([
      ['t0', 'map', [4, 4], undefined],
      ['t2', 'tokens', [4, 4], 5],
      ['t4', 'tokens', [4, 4], 5],
    ]);
  });

  it('without a patch map, takes the first square after dropping leading tokens (50 = 1 + 7 × 7)', () => {
    const { layers, defaultLayer } = plan([{ op: 'MatMul', dims: [1, 50, 8] }]);
    expect(layers[0]).toMatchObject({ kind: 'tokens', grid: [7, 7], extraTokens: 1 });
    expect(defaultLayer).toBe('t0');
  });

  it('reads a Transpose [0, 2, 3, 1] of a conv map as channels-last, and LayerNormalization keeps it', () => {
    const { layers } = plan([
      { op: 'Conv', dims: [1, 16, 8, 8] },
      { op: 'Transpose', dims: [1, 8, 8, 16] },
      { op: 'LayerNormalization', dims: [1, 8, 8, 16] },
    ]);
    // The Transpose's perm is not set on this hand-made node, so only the LayerNormalization (over the last
    // axis of a rank-4 tensor) shows channels-last; the Transpose output, unknown, is left out.
    expect(layers.map((l) => [l.name, l.kind, l.grid])).toEqual([
      ['t0', 'map', [8, 8]],
      ['t2', 'channels-last', [8, 8]],
    ]);
  });
});

describe('toNchw', () => {
  it('drops the extra tokens and puts channels first, image by image', () => {
    const info: LayerInfo = { name: 't', dims: [1, 5, 2], kind: 'tokens', grid: [2, 2], extraTokens: 1 };
    // Two images, 5 tokens × 2 channels: value = 100·image + 10·token + channel.
    const data = Float32Array.from(
      { length: 20 },
      (_, i) => 100 * Math.floor(i / 10) + 10 * Math.floor((i % 10) / 2) + (i % 2),
    );
    const out = toNchw(info, { data, dims: [2, 5, 2] });
    expect(out.dims).toEqual([2, 2, 2, 2]);
    expect(Array.from(out.data)).toEqual([
      10, 20, 30, 40, 11, 21, 31, 41, 110, 120, 130, 140, 111, 121, 131, 141,
    ]);
  });

  it("moves a channels-last map's channels first", () => {
    const info: LayerInfo = { name: 't', dims: [1, 1, 2, 3], kind: 'channels-last', grid: [1, 2] };
    const out = toNchw(info, { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [1, 1, 2, 3] });
    expect(out.dims).toEqual([1, 3, 1, 2]);
    expect(Array.from(out.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('rollout refuses what it cannot follow', () => {
  const tokens: LayerInfo = { name: 'ln', dims: [1, 16, 8], kind: 'tokens', grid: [4, 4], extraTokens: 0 };
  const block: AttentionNode = {
    name: 'sm',
    dims: [1, 2, 16, 16],
    windows: 1,
    heads: 2,
    tokens: 16,
    source: tokens,
  };
  it('a model without a class token (the tokens are pooled)', () => {
    expect(() => attentionBlocks({ layers: [tokens], defaultLayer: 'ln', attention: [block] })).toThrow(
      /no class token/,
    );
  });
  it('attention in windows', () => {
    const windowed = { ...block, dims: [4, 2, 16, 16], windows: 4 };
    expect(() => attentionBlocks({ layers: [tokens], defaultLayer: 'ln', attention: [windowed] })).toThrow(
      /local windows/,
    );
  });
  it('a CNN', () => {
    expect(() => attentionBlocks({ layers: [tokens], defaultLayer: 'ln', attention: [] })).toThrow(
      /no attention Softmax/,
    );
  });
});
