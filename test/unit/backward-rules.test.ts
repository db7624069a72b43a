/**
 * Rule overrides in the ONNX autodiff: Guided Backprop and DeconvNet against PyTorch with backward hooks
 * (scripts/golden/backward_rules.py; float64 reference, so the 1e-4 relative bound leaves room for float32
 * rounding only), the refusal on a model without ReLU-like ops, and cache keys.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { BackwardRules } from '../../src/core/model.js';
import { AUTODIFF_VERSION } from '../../src/engines/onnx/autodiff/index.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { type GradientGraphCache, OnnxModel } from '../../src/engines/onnx/session.js';
import { getMethod } from '../../src/methods/registry.js';
import { analyticSpec, weightedModelProto } from '../helpers/analytic.js';

const DIR = new URL('../fixtures/backward-rules/', import.meta.url);

interface GuidedReference {
  target: number;
  dims: number[];
  input: number[];
  plain: number[];
  guided: number[];
  deconvnet: number[];
}

const reference = JSON.parse(readFileSync(new URL('guided.json', DIR), 'utf8')) as GuidedReference;
const spec = { ...analyticSpec(12), inputName: 'input', labels: [] };

function relativeError(actual: Float32Array, expected: readonly number[]): number {
  let scale = 0;
  let err = 0;
  expected.forEach((e, i) => {
    scale = Math.max(scale, Math.abs(e));
    err = Math.max(err, Math.abs(actual[i] - e));
  });
  return err / scale;
}

async function open(cache?: GradientGraphCache): Promise<OnnxModel> {
  return OnnxModel.create(new Uint8Array(readFileSync(new URL('guided.onnx', DIR))), spec, {
    gradientCache: cache,
  });
}

const input = { data: Float32Array.from(reference.input), dims: reference.dims };
const seed = () => {
  const data = new Float32Array(5);
  data[reference.target] = 1;
  return { data, dims: [1, 5] };
};

describe('backward rule sets', () => {
  it('match PyTorch backward hooks for Guided Backprop and DeconvNet (ReLU, ReLU6, LeakyReLU) to 1e-4', async () => {
    const model = await open();
    try {
      expect(model.capabilities.has('backwardRules')).toBe(true);
      const cases: [BackwardRules, number[]][] = [
        ['exact', reference.plain],
        ['guided-backprop', reference.guided],
        ['deconvnet', reference.deconvnet],
      ];
      for (const [rules, expected] of cases) {
        const { gradients } = await model.inputGradients(input, seed(), { rules });
        expect(relativeError(gradients.data, expected), rules).toBeLessThan(1e-4);
      }
      // The three differ (or the test could not tell the rules apart).
      expect(relativeError(Float32Array.from(reference.guided), reference.plain)).toBeGreaterThan(0.3);
      expect(relativeError(Float32Array.from(reference.deconvnet), reference.guided)).toBeGreaterThan(0.3);
    } finally {
      await model.dispose();
    }
  });

  it('draws the methods’ maps as the largest |value| over channels, and Guided Grad-CAM as guided × Grad-CAM', async () => {
    const model = await open();
    try {
      const run = (id: string) =>
        getMethod(id).attribute({ model, input, target: reference.target, classes: 5 }, {});
      const plane = 12 * 12;
      for (const [id, expected] of [
        ['guided-backprop', reference.guided],
        ['deconvnet', reference.deconvnet],
      ] as const) {
        const map = await run(id);
        const want = Array.from({ length: plane }, (_, i) =>
          Math.max(...[0, 1, 2].map((c) => Math.abs(expected[c * plane + i]))),
        );
        expect(relativeError(map.data, want), id).toBeLessThan(1e-4);
        expect(map.signed).toBe(false);
      }
      const guided = await run('guided-backprop');
      const cam = await run('grad-cam');
      const product = await run('guided-grad-cam');
      expect(product.data).toEqual(guided.data.map((g, i) => g * cam.data[i]));
      expect(product.data.some((v) => v > 0)).toBe(true);
      expect(product.details?.layerChannels).toBe(cam.details?.layerChannels);
    } finally {
      await model.dispose();
    }
  });

  it('refuses in words on a model without ReLU-like ops instead of drawing the plain gradient', async () => {
    const proto = weightedModelProto(new Float32Array(3 * 4 * 4).fill(0.5), [1, 3, 4, 4]);
    const model = await OnnxModel.create(encodeModel(proto), analyticSpec(4));
    try {
      const x = { data: new Float32Array(48).fill(1), dims: [1, 3, 4, 4] };
      for (const id of ['guided-backprop', 'deconvnet', 'guided-grad-cam']) {
        const error = await getMethod(id)
          .attribute({ model, input: x, target: 0, classes: 2 }, {})
          .catch((e: unknown) => e);
        expect(error, id).toBeInstanceOf(SightlineError);
        expect((error as SightlineError).code).toBe('MISSING_CAPABILITY');
        expect((error as SightlineError).message).toMatch(
          /'(guided-backprop|deconvnet)' rules change the backward pass of ReLU-like ops \(Relu, Clip with a lower bound of 0 \(ReLU6\), LeakyRelu and PRelu\), and the model has none .* would be the plain gradient's/,
        );
      }
      // The exact gradient still serves the same model.
      const plain = await getMethod('gradient').attribute({ model, input: x, target: 0, classes: 2 }, {});
      expect(plain.data[0]).toBeCloseTo(0.5 / 48, 6);
    } finally {
      await model.dispose();
    }
  });

  it('keeps the exact graphs’ cache keys and gives each rule set its own', async () => {
    const keys: string[] = [];
    const cache: GradientGraphCache = {
      async load(key, make) {
        keys.push(key);
        return make();
      },
    };
    const model = await open(cache);
    try {
      for (const rules of ['exact', 'guided-backprop', 'deconvnet'] as const)
        await model.inputGradients(input, seed(), { rules });
    } finally {
      await model.dispose();
    }
    const graphs = keys.filter((k) => JSON.parse(k).layers !== undefined);
    expect(graphs).toEqual([
      JSON.stringify({ v: AUTODIFF_VERSION, input: 'input', size: [12, 12], layers: '' }),
      JSON.stringify({
        v: AUTODIFF_VERSION,
        input: 'input',
        size: [12, 12],
        layers: '',
        rules: 'guided-backprop',
      }),
      JSON.stringify({ v: AUTODIFF_VERSION, input: 'input', size: [12, 12], layers: '', rules: 'deconvnet' }),
    ]);
  });
});
