/**
 * FullGrad: the map against the paper's post-processing computed by PyTorch (scripts/golden/backward_rules.py,
 * float64), and completeness (input part + bias parts = the score) on a ReLU CNN with batch norm folded on
 * export and on a hand-built graph with an unfolded BatchNormalization, a Sub of a constant and a MatMul + Add
 * head, whose every bias the engine must find for the sum to close.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attr, encodeModel } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { getMethod } from '../../src/methods/registry.js';
import { analyticSpec } from '../helpers/analytic.js';
import { randomTensor } from '../helpers/autodiff-check.js';
import { graph, node, weights } from '../helpers/autodiff-graphs.js';
import { convBnStem } from '../helpers/bias-nets.js';

const DIR = new URL('../fixtures/backward-rules/', import.meta.url);

interface FullGradReference {
  target: number;
  dims: number[];
  input: number[];
  score: number;
  inputPart: number;
  biasParts: number[];
  map: number[];
}

describe('fullgrad', () => {
  it('matches the paper’s map and closes completeness on a ReLU CNN with folded batch norm', async () => {
    const ref = JSON.parse(readFileSync(new URL('fullgrad.json', DIR), 'utf8')) as FullGradReference;
    const bytes = new Uint8Array(readFileSync(new URL('fullgrad.onnx', DIR)));
    const model = await OnnxModel.create(bytes, { ...analyticSpec(12), inputName: 'input', labels: [] });
    try {
      const input = { data: Float32Array.from(ref.input), dims: ref.dims };
      const map = await getMethod('fullgrad').attribute({ model, input, target: ref.target, classes: 4 }, {});
      const d = map.details!;
      const biasSum = ref.biasParts.reduce((a, b) => a + b, 0);
      expect(d.biasLayers).toBe(3); // two folded convolutions and the linear layer
      expect(d.scoreAtInput).toBeCloseTo(ref.score, 5);
      expect(d.inputPart).toBeCloseTo(ref.inputPart, 5);
      expect(d.biasPart).toBeCloseTo(biasSum, 5);
      // Float32 rounding alone: the reference's own delta is 0 to 1e-15.
      expect(Math.abs(ref.inputPart + biasSum - ref.score)).toBeLessThan(1e-12);
      expect(Math.abs(d.completenessDelta)).toBeLessThan(1e-3 * Math.abs(ref.score));
      expect(d.relativeDelta).toBeLessThan(1e-3);
      const scale = Math.max(...ref.map);
      const err = Math.max(...ref.map.map((v, i) => Math.abs(v - map.data[i])));
      expect(err / scale).toBeLessThan(1e-4);
      expect(map.signed).toBe(false);
    } finally {
      await model.dispose();
    }
  });

  it('finds an unfolded BatchNormalization’s, a Sub’s and an Add’s biases, so the parts sum to the score', async () => {
    const stem = convBnStem();
    const proto = graph({
      input: [3, 8, 8],
      opset: 13,
      nodes: [
        ...stem.nodes,
        node('Relu', ['bn'], [], ['r1']),
        node('Sub', ['r1', 'shift'], [], ['s1']),
        node('MaxPool', ['s1'], [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])], ['p1']),
        node('Relu', ['p1'], [], ['r2']),
        node('GlobalAveragePool', ['r2'], [], ['g']),
        node('Flatten', ['g'], [], ['f']),
        node('MatMul', ['f', 'w2'], [], ['m']),
        node('Add', ['head', 'm'], [], ['scores']),
      ],
      initializers: [
        ...stem.initializers,
        weights('shift', [4, 1, 1], 7, -0.5, 0.5),
        weights('w2', [4, 3], 8),
        weights('head', [3], 9),
      ],
    });
    const model = await OnnxModel.create(encodeModel(proto), analyticSpec(8));
    try {
      const input = { data: randomTensor(3 * 64, 10), dims: [1, 3, 8, 8] };
      for (const target of [0, 1, 2]) {
        const map = await getMethod('fullgrad').attribute({ model, input, target, classes: 3 }, {});
        const d = map.details!;
        expect(d.biasLayers).toBe(4); // Conv, BatchNormalization, Sub, Add
        expect(Math.abs(d.biasPart)).toBeGreaterThan(1e-3);
        expect(Math.abs(d.completenessDelta)).toBeLessThan(1e-5 * Math.max(1, Math.abs(d.scoreAtInput)));
      }
    } finally {
      await model.dispose();
    }
  });
});
