// Capability 'attention' is offered only where rollout runs (issue 13): a ViT with a class token has it; Swin
// (windowed attention, no class token) does not, and a rollout on it is refused in words before any run.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasAttention } from '../../src/engines/onnx/attention.js';
import { decodeModel } from '../../src/engines/onnx/proto.js';
import { explain } from '../../src/explain.js';
import { openOnnxModel } from '../../src/models/open.js';

const DIR = new URL('../fixtures/transformers/', import.meta.url);
const bytes = (name: string) => readFileSync(new URL(`${name}.onnx`, DIR));

describe("capability 'attention'", () => {
  it.each([
    ['vit_tiny', true],
    ['vit_tiny_batch_first', true],
    ['swin_tiny', false],
  ])('%s: %s, read from the graph alone', async (name, expected) => {
    const proto = decodeModel(bytes(name));
    const graph = proto.graph ?? {};
    const input = graph.input?.[0]?.name ?? '';
    const output = graph.output?.[0]?.name ?? '';
    expect(hasAttention(proto, input, output)).toBe(expected);
    const model = await openOnnxModel(bytes(name), {});
    try {
      expect(model.capabilities.has('attention')).toBe(expected);
      // Swin still computes q·kᵀ attention: it keeps its gradients and layers for Grad-CAM.
      expect(model.capabilities.has('layers')).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it('a rollout on Swin is refused before the model runs, saying what rollout needs', async () => {
    const model = await openOnnxModel(bytes('swin_tiny'), {});
    let runs = 0;
    const predict = model.predict.bind(model);
    Object.defineProperty(model, 'predict', {
      value: (...args: Parameters<typeof predict>) => {
        runs++;
        return predict(...args);
      },
    });
    try {
      const side = model.spec.width;
      const image = { width: side, height: side, data: new Uint8Array(side * side * 3).fill(128) };
      const error = await explain({ model, image, method: 'attention-rollout' }).catch((e) => e);
      expect(error.code).toBe('MISSING_CAPABILITY');
      expect(error.message).toMatch(
        /^Method 'attention-rollout' needs attention over all tokens with a class token \(a ViT or DeiT exported to ONNX; Swin attends in local windows without a class token, and a CNN has no attention\), which this model does not offer; black-box methods \(.*\) work with any model\.$/,
      );
      expect(runs).toBe(0);
    } finally {
      await model.dispose();
    }
  });
});
